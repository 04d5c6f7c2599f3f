import ArgumentParser
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegAWS
import TFRegStoreLocal

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

extension TFReg {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pack a module directory into a deterministic .tar.gz and publish it as a new version.",
            discussion: """
                The archive leaves out .git, .terraform and *.tfstate* and is byte-identical for the same \
                files. The token comes from --token-file PATH (- for standard input) or --token (visible to other \
                users in the process list), else TFREG_TOKEN, else TF_TOKEN_<host> (as Terraform encodes it), else a \
                credentials "HOST" block in the Terraform CLI config (TF_CLI_CONFIG_FILE or ~/.terraformrc) or \
                ~/.terraform.d/credentials.tfrc.json. HTTPS trusts the system CA store, or SSL_CERT_FILE. \
                With --s3 s3://BUCKET/PREFIX the archive goes to your own bucket first, at \
                PREFIX/NAMESPACE/NAME/SYSTEM/VERSION.tar.gz with a SHA-256 checksum (AWS credentials and \
                region as the AWS CLI finds them), and is then registered with the registry's create \
                endpoint, which checks that checksum ("bring your own bucket").
                """)

        @Argument(help: "The module directory.")
        var directory: String

        @Option(help: "The registry host, with a port if not 443 (e.g. registry.example.com or 127.0.0.1:8443).")
        var registry: String

        @Option(name: [.customLong("namespace"), .customShort("n")], help: "Namespace.")
        var namespace: String

        @Option(help: "Module name.")
        var name: String

        @Option(help: "Target system (provider), e.g. aws.")
        var system: String

        @Option(help: "Semantic version to publish, e.g. 1.2.0.")
        var version: String

        @OptionGroup var auth: TokenOptions

        @Option(help: "Upload to your own bucket and register it with create: s3://BUCKET or s3://BUCKET/PREFIX.")
        var s3: String?

        @Flag(help: "Write the archive to --output instead of uploading it.")
        var dryRun = false

        @Option(help: "With --dry-run: where to write the archive.")
        var output: String?

        func run() async throws {
            let module = try ModuleAddress(namespace: namespace, name: name, system: system)
            let version = try Version(self.version)
            let archive = try ModulePacker.pack(directory: directory)
            let digest = Hex.encode(SHA256.hash(archive))
            if dryRun {
                guard let output else { throw ValidationError("--dry-run needs --output FILE") }
                try FileSystem.writeAtomically(output, archive, mode: 0o644)
                print("\(output) \(archive.count) bytes sha256:\(digest)")
                return
            }
            let host = try RegistryHost(registry)
            guard let token = try auth.explicitToken() ?? TerraformCredentials.token(for: host.name) else {
                throw ValidationError("no token for \(host.name): pass --token-file PATH (or - for standard input), set TFREG_TOKEN or \(host.hasPort ? "a credentials block" : TerraformCredentials.environmentVariableName(for: host.name) ?? "TF_TOKEN_…"), or add a credentials \"\(host.name)\" block to the Terraform CLI config")
            }
            let client = CurlHTTPClient(caBundle: Env.value("SSL_CERT_FILE") ?? Env.value("AWS_CA_BUNDLE"))
            let base = try await RegistryDiscovery.modulesBase(host: host, client: client)
            if let s3 {
                let (bucket, prefix) = try { () throws(RegistryError) in try S3ArchiveStorage.parse(s3) }()
                let key = (prefix.isEmpty ? "" : (prefix.hasSuffix("/") ? prefix : prefix + "/")) + "\(module)/\(version).tar.gz"
                _ = try ArchiveLocation.external(bucket: bucket, key: key)
                let s3Client = S3Client(client: try AWSSetup.client())
                do { try await s3Client.putObject(bucket: bucket, key: key, body: archive) } catch {
                    throw CLIFailure("cannot upload to s3://\(bucket)/\(key): \(error.message) (\(error.code))")
                }
                let body = JSONValue.object([
                    ("bucket", .string(bucket)), ("key", .string(key)), ("expected_checksum", .string(Base64.encode(SHA256.hash(archive)))),
                ]).serialized()
                let response = try await client.send(HTTPRequest(
                    method: "POST", url: base + "\(module)/\(version)/create",
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("User-Agent", "tfreg/\(TFReg.version)")],
                    body: body, timeout: 60))
                guard response.status == 201 else {
                    throw RegistryClientError.from(response, action: "register \(module) \(version) from s3://\(bucket)/\(key)")
                }
                print("published \(module) \(version) from s3://\(bucket)/\(key) (\(archive.count) bytes, sha256:\(digest))")
                return
            }
            let url = base + "\(module)/\(version)/upload"
            let response = try await client.send(HTTPRequest(
                method: "POST", url: url,
                headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/gzip"), ("User-Agent", "tfreg/\(TFReg.version)")],
                body: archive, timeout: 300))
            guard response.status == 201 else {
                throw RegistryClientError.from(response, action: "publish \(module) \(version)")
            }
            print("published \(module) \(version) (\(archive.count) bytes, sha256:\(digest))")
        }
    }
}

/// `HOST[:PORT]` as Terraform writes registry hosts.
struct RegistryHost {
    let name: String
    var hasPort: Bool { name.contains(":") }

    init(_ text: String) throws {
        var t = text
        if t.hasPrefix("https://") { t.removeFirst(8) }
        while t.hasSuffix("/") { t.removeLast() }
        guard URLParsing.isValidHost(t), !t.contains("/") else {
            throw ValidationError("invalid registry host '\(text)': give HOST or HOST:PORT, without a path")
        }
        name = t.lowercased()
    }
}

/// An error answer from a registry, shown with the registry's own message.
struct RegistryClientError: Error, CustomStringConvertible {
    let description: String

    static func from(_ r: HTTPResponse, action: String) -> RegistryClientError {
        var messages = [String]()
        struct ErrorBody: Decodable { let errors: [String] }
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(r.body)) { messages = body.errors }
        let detail = messages.isEmpty ? String(r.bodyText.prefix(200)) : messages.joined(separator: "; ")
        return RegistryClientError(description: "cannot \(action): HTTP \(r.status): \(detail)")
    }
}

enum RegistryDiscovery {
    /// The whole discovery document of `host`.
    static func document(host: RegistryHost, client: any HTTPClient) async throws -> JSONValue {
        let url = "https://\(host.name)/.well-known/terraform.json"
        let r = try await client.send(HTTPRequest(url: url, headers: [("User-Agent", "tfreg/\(TFReg.version)")], timeout: 10))
        guard r.status == 200, let doc = try? JSONParser.parse(r.body) else {
            throw RegistryClientError(description: "\(host.name) is not a module registry (discovery answered HTTP \(r.status))")
        }
        return doc
    }

    /// Reads `/.well-known/terraform.json` and returns the absolute `modules.v1` base URL (ending in `/`).
    static func modulesBase(host: RegistryHost, client: any HTTPClient) async throws -> String {
        let url = "https://\(host.name)/.well-known/terraform.json"
        let r = try await client.send(HTTPRequest(url: url, headers: [("User-Agent", "tfreg/\(TFReg.version)")], timeout: 10))
        struct Discovery: Decodable {
            let modules: String?
            enum CodingKeys: String, CodingKey { case modules = "modules.v1" }
        }
        guard r.status == 200, let base = (try? JSONDecoder().decode(Discovery.self, from: Data(r.body)))?.modules else {
            throw RegistryClientError(description: "\(host.name) is not a module registry (discovery answered HTTP \(r.status))")
        }
        var b = base.hasPrefix("/") ? "https://\(host.name)\(base)" : base
        if !b.hasSuffix("/") { b += "/" }
        guard b.hasPrefix("https://") else { throw RegistryClientError(description: "the registry's modules.v1 URL is not HTTPS") }
        return b
    }
}
