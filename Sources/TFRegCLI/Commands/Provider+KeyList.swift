import ArgumentParser
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

extension TFReg.ProviderCommand {
    struct KeyList: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "list",
            abstract: "List a namespace's provider signing keys.",
            discussion: """
                Example:
                  tfreg provider key list -n acme --registry registry.example.com --output json
                """
        )
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var target: ProviderRegistryOptions
        @OptionGroup var out: OutputOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let format = try out.format()
            let doc = try await target.remote().keys(in: namespace)
            switch format {
            case .json: printJSON(doc)
            case .text:
                let keys = doc["keys"]?.elements ?? []
                if keys.isEmpty { print("namespace \(namespace) has no signing keys") }
                for k in keys {
                    print(
                        "\(k["key_id"]?.stringValue ?? "?")  \(k["fingerprint"]?.stringValue ?? "?")  added by \(k["added_by"]?.stringValue ?? "-")"
                    )
                }
            }
        }
    }
}
