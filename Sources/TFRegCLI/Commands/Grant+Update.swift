import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg.GrantCommand {
    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set an existing grant's permissions to exactly the flags given.",
            discussion: """
                A change that removes permissions asks for confirmation on a terminal; pass --yes in \
                scripts. Started as manage-registry-permissions it goes ahead without asking, as the \
                replaced tool did. --dry-run prints the change and makes none.

                Examples:
                  tfreg grant update -n acme --token-name ci -d --dry-run
                  tfreg grant update -n acme --token-name ci -d -u --yes
                """
        )
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @OptionGroup var flags: PermissionFlags
        @OptionGroup var confirm: YesFlag
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions
        @OptionGroup var out: OutputOptions
        @OptionGroup var preview: DryRunFlag

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            let format = try out.format()
            try flags.requireSome("update")
            let target = try await remote.target(store: store)
            guard let existing = try await target.grant(for: identity, in: namespace) else {
                throw RegistryError.notFound("no grant for \(identity) on namespace '\(namespace)'; create it with grant create")
            }
            if preview.dryRun {
                GrantChange.preview(
                    "update grant: \(existing.identity) on namespace '\(namespace)': \(existing.permissions) → \(flags.permissions)",
                    grant: Grant(namespace: namespace, identity: existing.identity, permissions: flags.permissions),
                    format: format
                )
                return
            }
            if let q = removalQuestion(existing.permissions, flags.permissions, identity: identity, namespace: namespace) {
                try confirm.confirm(q)
            }
            let grant = Grant(namespace: namespace, identity: identity, permissions: flags.permissions)
            try await target.update(grant)
            // Messages name a token as listings do, token:NAME#ID (the stored form).
            let stored = Grant(namespace: namespace, identity: existing.identity, permissions: flags.permissions)
            printError("updated grant: \(stored.identity) on namespace '\(namespace)': \(flags.permissions)")
            if format == .json { printJSON(GrantOutput.document(stored)) }
        }
    }
}
