import ArgumentParser
import TFRegCore
import TFRegHTTPClient

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
                """
        )

        @OptionGroup var target: VersionTarget

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        func run() async throws {
            let (module, version) = try target.resolved()
            try Confirmation.require("delete \(module) \(version) from \(target.registry)? Its number can never be reused", yes: yes)
            let remote = try await target.remote()
            let r = try await remote.send("DELETE", "\(module)/\(version)")
            guard r.status == 204 else { throw CLIError.registry(r, action: "delete \(module) \(version)") }
            print("deleted \(module) \(version) (the number stays reserved)")
        }
    }
}

/// `--registry HOST -n NS --name NAME --provider P --module-version V` and the token, for commands that act
/// on one published version through the registry's API.
struct VersionTarget: ParsableArguments {
    @Option(help: "The registry host, with a port if not 443.")
    var registry: String

    @Option(name: [.customLong("namespace"), .customShort("n")], help: "Namespace.")
    var namespace: String

    @Option(help: "Module name.")
    var name: String

    @Option(name: .customLong("provider"), help: "The module's provider (target system), e.g. aws.")
    var system: String

    @Option(name: .customLong("module-version"), help: "The version, e.g. 1.2.0.")
    var version: String

    @Option(help: "Registry token (prefer TF_TOKEN_* or the CLI config: a flag shows up in process lists).")
    var token: String?

    @OptionGroup var ca: CABundleOption

    func resolved() throws -> (ModuleAddress, Version) {
        (try ModuleAddress(namespace: namespace, name: name, system: system), try Version(version))
    }

    func remote() async throws -> RemoteModules {
        let host = try RegistryHost(registry)
        guard let token = token ?? TerraformCredentials.token(for: host.name) else {
            throw CLIError.denied(
                "no token for \(host.name): pass --token, set TF_TOKEN_… for the host, or add a credentials \"\(host.name)\" block to the Terraform CLI config"
            )
        }
        let client = RegistryClient.make(caBundle: ca.caBundle)
        return RemoteModules(base: try await RegistryDiscovery.modulesBase(host: host, client: client), token: token, client: client)
    }
}

/// The registry's modules API with a token.
struct RemoteModules {
    let base: String
    let token: String
    let client: CurlHTTPClient

    func send(_ method: String, _ path: String, json: [UInt8]? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader]
        if json != nil { headers.append(("Content-Type", "application/json")) }
        return try await client.send(HTTPRequest(method: method, url: base + path, headers: headers, body: json ?? [], timeout: 60))
    }
}
