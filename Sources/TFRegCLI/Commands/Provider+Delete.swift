import ArgumentParser
import TFRegCore
import TFRegHTTPClient

extension TFReg.ProviderCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a provider version; its number can never be published again.",
            discussion: """
                Lock files that recorded the version's hashes stop installing it. Needs upload in the \
                namespace. Asks for confirmation on a terminal; pass --yes in scripts.

                Example:
                  tfreg provider delete --registry registry.example.com -n acme --type demo --version 1.0.0 --yes
                """
        )
        @OptionGroup var target: ProviderVersionOptions
        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false
        @OptionGroup var registry: ProviderRegistryOptions

        func run() async throws {
            let (provider, version) = try target.resolved()
            try Confirmation.require("delete provider \(provider) \(version) from \(registry.registry)? Its number can never be reused", yes: yes)
            let remote = try await registry.remote()
            let r = try await remote.send("DELETE", target.relativePath(provider, version))
            guard r.status == 204 else { throw CLIError.registry(r, action: "delete \(provider) \(version)") }
            print("deleted \(provider) \(version)")
        }
    }
}
