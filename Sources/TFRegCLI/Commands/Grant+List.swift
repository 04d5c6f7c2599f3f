import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg.GrantCommand {
    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List the grants of a namespace, or of an identity.",
            discussion: """
                Examples:
                  tfreg grant list -n acme
                  tfreg grant list --token-name ci --output json
                """
        )
        @Option(name: [.customLong("namespace"), .customShort("n")], help: "List every grant in this namespace.")
        var namespace: String?
        @OptionGroup var who: IdentityOptions
        @OptionGroup var listing: GrantListingOutput
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let format = try listing.format()
            let target = try await remote.target(store: store)
            var id = try who.identity(required: false)
            if let given = id {
                id = try await target.resolved(given)
                for note in try await target.notes(about: given) { printError(note) }
            }
            let grants: [Grant]
            switch (namespace, id) {
            case (let ns?, nil): grants = try await target.grants(in: try NamespaceOption.parse(ns))
            case (nil, let id?): grants = try await target.grants(for: id)
            case (let ns?, let id?): grants = try await target.grants(in: try NamespaceOption.parse(ns)).filter { $0.identity == id }
            case (nil, nil): throw ValidationError("give --namespace, or --role-arn/--token-name, or both")
            }
            GrantOutput.print(grants, format: format)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show one grant.",
            discussion: """
                --output json prints the grant as one JSON object.

                Examples:
                  tfreg grant show -n acme --token-name ci
                  tfreg grant show --registry registry.example.com -n acme -r arn:aws:iam::123456789012:role/ci --output json
                """
        )
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @OptionGroup var listing: GrantListingOutput
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            let format = try listing.format()
            guard let grant = try await remote.target(store: store).grant(for: identity, in: namespace) else {
                throw RegistryError.notFound("no grant for \(identity) on namespace '\(namespace)'")
            }
            GrantOutput.print(grant, format: format)
        }
    }
}
