import ArgumentParser
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreAWS
import TFRegStoreLocal

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// `HOST[:PORT]` as Terraform writes registry hosts.
struct RegistryHost {
    let name: String
    var hasPort: Bool { name.contains(":") }

    init(_ text: String) throws {
        var t = text
        if t.lowercased().hasPrefix("http://") {
            throw ValidationError(
                "invalid registry host '\(text.prefix(200))': http is not allowed, tfreg talks to registries over HTTPS only: give HOST or HOST:PORT"
            )
        }
        if t.hasPrefix("https://") { t.removeFirst(8) }
        while t.hasSuffix("/") { t.removeLast() }
        guard URLParsing.isValidHost(t), !t.contains("/") else {
            throw ValidationError("invalid registry host '\(text)': give HOST or HOST:PORT, without a path")
        }
        name = t.lowercased()
    }
}

enum RegistryDiscovery {
    /// The whole discovery document of `host`.
    static func document(host: RegistryHost, client: any HTTPClient) async throws -> JSONValue {
        let url = "https://\(host.name)" + ServiceRoute.discovery.path
        let r = try await client.send(HTTPRequest(url: url, headers: [RegistryClient.userAgentHeader], timeout: 10))
        guard r.status == 200, let doc = try? JSONParser.parse(r.body) else {
            throw CLIError("\(host.name) is not a module registry (discovery answered HTTP \(r.status))")
        }
        return doc
    }

    /// Whether the registry registers archives in the caller's own bucket (`publish --s3`): its
    /// discovery names a `create` endpoint only when it has S3 storage. A document that cannot be read
    /// counts as yes (the create call itself then answers).
    static func offersCreate(host: RegistryHost, client: any HTTPClient) async -> Bool {
        guard let doc = try? await document(host: host, client: client), case .object(let fields)? = doc["tfreg.v1"] else { return true }
        return fields.contains { $0.0 == "create" }
    }

    /// The error for `--s3` on a registry that keeps archives itself.
    static func noS3Storage(_ host: String) -> CLIError {
        .configuration(
            "\(host) has no S3 storage (it keeps archives in its own directory), so it cannot register an object in your bucket: drop --s3 to upload the archive through the registry"
        )
    }

    /// Reads `/.well-known/terraform.json` and returns the absolute `modules.v1` base URL (ending in `/`).
    static func modulesBase(host: RegistryHost, client: any HTTPClient) async throws -> String {
        let url = "https://\(host.name)" + ServiceRoute.discovery.path
        let r = try await client.send(HTTPRequest(url: url, headers: [RegistryClient.userAgentHeader], timeout: 10))
        struct Discovery: Decodable {
            let modules: String?
            enum CodingKeys: String, CodingKey { case modules = "modules.v1" }
        }
        guard r.status == 200, let base = (try? JSONDecoder().decode(Discovery.self, from: Data(r.body)))?.modules else {
            throw CLIError("\(host.name) is not a module registry (discovery answered HTTP \(r.status))")
        }
        var b = base.hasPrefix("/") ? "https://\(host.name)\(base)" : base
        if !b.hasSuffix("/") { b += "/" }
        guard b.hasPrefix("https://") else { throw CLIError("the registry's modules.v1 URL is not HTTPS") }
        return b
    }
}
