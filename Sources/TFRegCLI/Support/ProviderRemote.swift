import ArgumentParser
import Glibc
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

/// `--registry` and the credentials of the `tfreg provider` commands (resolved as `publish` resolves
/// them), and the registry's `providers.v1` base from discovery.
struct ProviderRegistryOptions: ParsableArguments {
    @Option(help: "The registry host, with a port if not 443 (e.g. registry.example.com or 127.0.0.1:8443).")
    var registry: String

    @OptionGroup var auth: TokenOptions

    func remote() async throws -> ProviderRemote {
        let host = try RegistryHost(registry)
        let token = try await auth.token(for: host)
        let client = RegistryClient.make(caBundle: try auth.caBundle)
        return ProviderRemote(host: host, base: try await Self.providersBase(host: host, client: client), token: token, client: client)
    }

    /// `https://HOST/v1/providers/` as discovery names it (an HTTPS URL, ending in `/`).
    static func providersBase(host: RegistryHost, client: any HTTPClient) async throws -> String {
        let r = try await client.send(
            HTTPRequest(url: "https://\(host.name)" + ServiceRoute.discovery.path, headers: [RegistryClient.userAgentHeader], timeout: 10)
        )
        guard r.status == 200, let base = (try? JSONValue(parsing: r.body))?["providers.v1"]?.stringValue else {
            throw CLIError("\(host.name) is not a provider registry (discovery answered HTTP \(r.status) without providers.v1)")
        }
        var b = base.hasPrefix("/") ? "https://\(host.name)\(base)" : base
        if !b.hasSuffix("/") { b += "/" }
        guard b.hasPrefix("https://") else { throw CLIError("the registry's providers.v1 URL is not HTTPS") }
        return b
    }
}

/// A registry's provider routes, as one caller.
struct ProviderRemote {
    let host: RegistryHost
    let base: String
    let token: String
    let client: CurlHTTPClient

    func send(
        _ method: String,
        _ relative: String,
        contentType: String? = nil,
        body: [UInt8] = [],
        timeout: Double = 60
    ) async throws
        -> HTTPResponse
    {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader]
        if let contentType { headers.append(("Content-Type", contentType)) }
        return try await client.send(HTTPRequest(method: method, url: base + relative, headers: headers, body: body, timeout: timeout))
    }

    /// POSTs a release tar to `url` (absolute: the providers' upload or the mirror's import route),
    /// streamed from disk, with a progress line labelled `label` on a terminal.
    func postTar(_ url: String, tar: String, label: String, out: ProgressOutputOptions, timeout: Double) async throws -> HTTPResponse {
        var st = stat()
        let progress = out.progress(label, total: stat(tar, &st) == 0 ? Int64(st.st_size) : nil)
        defer { progress.finish() }
        return try await client.send(
            HTTPRequest(
                method: "POST",
                url: url,
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/x-tar"), RegistryClient.userAgentHeader],
                bodyFile: tar,
                onBodySent: { progress.advance(Int64($0)) },
                timeout: timeout
            )
        )
    }

    /// The namespace's keys as the registry lists them (`GET NS/keys`).
    func keys(in namespace: Namespace) async throws -> JSONValue {
        let r = try await send("GET", "\(namespace)/keys")
        guard r.status == 200, let doc = try? JSONValue(parsing: r.body) else {
            throw CLIError.registry(r, action: "list the signing keys of namespace \(namespace)")
        }
        return doc
    }
}

extension JSONValue {
    /// The elements of an array, else none.
    var elements: [JSONValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
