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
        let client = RegistryClient.make(caBundle: auth.caBundle)
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
