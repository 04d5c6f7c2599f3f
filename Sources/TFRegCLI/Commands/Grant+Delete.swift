import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg.GrantCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a grant with all its permissions.",
            discussion: """
                Asks for confirmation on a terminal; pass --yes in scripts. Started as \
                manage-registry-permissions it goes ahead without asking, as the replaced tool did. \
                --dry-run prints the grant that would be deleted and deletes nothing.

                Examples:
                  tfreg grant delete -n acme --token-name ci --dry-run
                  tfreg grant delete -n acme -r arn:aws:iam::123456789012:role/deployer --yes
                """
        )
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @OptionGroup var confirm: YesFlag
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions
        @OptionGroup var out: OutputOptions
        @OptionGroup var preview: DryRunFlag

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            let format = try out.format()
            let target = try await remote.target(store: store)
            guard let existing = try await target.grant(for: identity, in: namespace) else {
                throw RegistryError.notFound("no grant for \(identity) on namespace '\(namespace)'")
            }
            if preview.dryRun {
                GrantChange.preview(
                    "delete grant: \(existing.identity) on namespace '\(namespace)' (\(existing.permissions))",
                    grant: existing,
                    format: format
                )
                return
            }
            try confirm.confirm("delete the grant for \(try await target.resolved(identity)) on namespace '\(namespace)' (\(existing.permissions))?")
            let deleted = try await target.delete(identity, in: namespace)
            printError("deleted grant: \(deleted) on namespace '\(namespace)'")
            if format == .json {
                printJSON(GrantOutput.document(Grant(namespace: namespace, identity: deleted, permissions: existing.permissions)))
            }
        }
    }

    struct RevokeToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a static token and every grant it holds.",
            discussion: """
                Asks for confirmation on a terminal; pass --yes in scripts.

                Examples:
                  tfreg grant revoke-token --token-name ci --yes
                """
        )
        @Option(name: .customLong("token-name"), help: "The token's name.")
        var tokenName: String
        @OptionGroup var confirm: YesFlag
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let identity = try IdentityOptions.tokenIdentity(tokenName, flag: "--token-name")
            let local = StoreGrantTarget(store: try store.openMetadata())
            let db = local.store
            guard let holder = try await db.staticToken(named: identity) else { throw RegistryError.notFound("no token named '\(tokenName)'") }
            let held = try await db.grants(for: holder).count
            try Confirmation.require("revoke \(holder) and its \(held) grant\(held == 1 ? "" : "s")? Clients using it stop working", yes: confirm.yes)
            let (current, removed) = try await local.service.revokeStaticToken(named: identity, by: local.op, logger: local.logger)
            printError("revoked \(current.tokenName!) and its \(removed) grant\(removed == 1 ? "" : "s") (token id \(current.tokenID ?? "none"))")
        }
    }
}
