import ArgumentParser
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

extension TFReg.ProviderCommand {
    struct KeyRemove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "remove",
            abstract: "Remove a namespace's provider signing key, by fingerprint or key ID.",
            discussion: """
                Published versions keep their signature; downloads stop listing the key, so Terraform \
                refuses what it signed.

                Example:
                  tfreg provider key remove 78720C167BE51AC1 -n acme --registry registry.example.com
                """
        )
        @Argument(help: "The key's fingerprint (40 hex digits) or key ID (its last 16).")
        var key: String
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var target: ProviderRegistryOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let wanted = key.uppercased()
            guard [16, 40].contains(wanted.utf8.count), wanted.allSatisfy(\.isHexDigit) else {
                throw CLIError.usage("KEY: give the key's fingerprint (40 hex digits) or key ID (16)")
            }
            let remote = try await target.remote()
            var fingerprint = wanted
            if wanted.utf8.count == 16 {
                let matches =
                    (try await remote.keys(in: namespace))["keys"]?.elements.compactMap { $0["fingerprint"]?.stringValue }
                    .filter { $0.hasSuffix(wanted) } ?? []
                guard let only = matches.first, matches.count == 1 else {
                    throw CLIError.notFound("namespace \(namespace) has no signing key with ID \(wanted)")
                }
                fingerprint = only
            }
            let r = try await remote.send("DELETE", "\(namespace)/keys/\(fingerprint)")
            guard r.status == 204 else { throw CLIError.registry(r, action: "remove key \(fingerprint) from namespace \(namespace)") }
            print("removed key \(fingerprint) from namespace \(namespace)")
        }
    }
}
