import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

extension TFReg {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a module version; its number stays reserved and is never reused.",
            discussion: """
                Terraform resolves even an exact version pin through the versions list and modules have no \
                lock file, so callers pinned to a deleted version break: prefer `tfreg deprecate`. A deleted \
                version's number can never be published again (other code under a pinned number is what the \
                registry exists to prevent). Needs the upload permission. Asks for confirmation on a \
                terminal; pass --yes in scripts.

                Examples:
                  tfreg delete --registry registry.example.com -n acme --name vpc --system aws --module-version 1.3.0 --dry-run
                  tfreg delete --registry registry.example.com -n acme --name vpc --system aws --module-version 1.3.0 --yes
                """
        )

        @OptionGroup var target: VersionTarget

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        @Flag(help: "Check that the version exists and say what would be deleted; change nothing.")
        var dryRun = false

        @OptionGroup var out: OutputOptions

        func run() async throws {
            let (module, version) = try target.resolved()
            let format = try out.format()
            if dryRun {
                let remote = try await target.remote()
                let note = try await remote.requireVersion(version, of: module)
                Self.report(module, version, dryRun: true, note: note, format: format)
                return
            }
            try Confirmation.require("delete \(module) \(version) from \(target.registry)? Its number can never be reused", yes: yes)
            let remote = try await target.remote()
            let r = try await remote.send("DELETE", ModuleRoute.deleteVersion(module, version: version).relativePath)
            guard r.status == 204 else { throw CLIError.registry(r, action: "delete \(module) \(version)") }
            Self.report(module, version, dryRun: false, note: nil, format: format)
        }

        static func report(_ module: ModuleAddress, _ version: Version, dryRun: Bool, note: String?, format: OutputFormat) {
            if let note { printError(note) }
            switch format {
            case .json:
                printJSON(
                    .object([
                        ("module", .string(module.description)), ("version", .string(version.description)), ("deleted", .bool(!dryRun)),
                        ("dry_run", .bool(dryRun)),
                    ])
                )
            case .text:
                print(
                    dryRun
                        ? "would delete \(module) \(version) (the number would stay reserved); nothing changed (--dry-run)"
                        : "deleted \(module) \(version) (the number stays reserved)"
                )
            }
        }
    }
}

/// One published version (`--registry … --module-version V`) and the token, for commands that act on it
/// through the registry's API.
struct VersionTarget: ParsableArguments {
    @OptionGroup var version: ModuleVersionOptions

    @OptionGroup var auth: TokenOptions

    var registry: String { version.registry }

    func resolved() throws -> (ModuleAddress, Version) { try version.resolved() }

    func remote() async throws -> RemoteModules {
        let host = try RegistryHost(registry)
        let token = try await auth.token(for: host)
        let client = RegistryClient.make(caBundle: try auth.caBundle)
        return RemoteModules(base: try await RegistryDiscovery.modulesBase(host: host, client: client), token: token, client: client)
    }
}

/// The registry's modules API with a token.
struct RemoteModules {
    let base: String
    let token: String
    let client: CurlHTTPClient

    /// For `--dry-run`: the version must be in the registry's list (a 404 module or a missing version
    /// is "not found", exit 66). Returns a note for standard error when the list cannot be read.
    func requireVersion(_ version: Version, of module: ModuleAddress) async throws -> String? {
        switch try await RegistryVersions.lookUp(version, of: module, base: base, token: token, client: client) {
        case .exists: return nil
        case .absent: throw CLIError.notFound("\(module) \(version) is not in the registry; nothing would change")
        case .unknown(let why): return "note: cannot confirm that \(module) \(version) exists (\(why))"
        }
    }

    func send(_ method: String, _ path: String, json: [UInt8]? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await client.send(HTTPRequest(method: method, url: base + path, headers: headers, body: json ?? [], timeout: 60))
    }
}
