import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg.GrantCommand {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a grant. With --new-token NAME, also create a static token and print it once.",
            discussion: """
                --dry-run checks the grant (the identity must have none in the namespace yet) and prints it; \
                nothing is created.

                Examples:
                  tfreg grant create -n acme --new-token ci --download --upload
                  tfreg grant create -n acme -r arn:aws:iam::123456789012:role/deployer -d --dry-run
                """
        )
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @Option(name: .customLong("new-token"), help: "Create a new static token with this name (letters, digits, '.', '_', '-') and grant it.")
        var newToken: String?
        @Flag(
            name: .customLong("discard-orphan-grants"),
            help:
                "With --new-token: delete grants an earlier token of the same name left behind, instead of refusing. They are never given to the new token."
        )
        var discardOrphanGrants = false
        @OptionGroup var flags: PermissionFlags
        @Flag(
            name: .customLong("init"),
            help: "Create a new, empty registry in the data directory if there is none (otherwise only tfreg serve creates one)."
        )
        var initialize = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions
        @OptionGroup var out: OutputOptions
        @OptionGroup var preview: DryRunFlag

        func run() async throws {
            let namespace = try ns.parsed()
            let format = try out.format()
            try flags.requireSome("create")
            if newToken != nil, remote.registry != nil {
                throw ValidationError("--new-token works on the store only (tokens are made by the registry's administrator)")
            }
            if preview.dryRun && initialize { throw ValidationError("--dry-run cannot be combined with --init (which creates a registry)") }
            let target = try await remote.target(store: store, creating: initialize)
            if preview.dryRun {
                let identity: Identity
                if let newToken {
                    guard who.roleARN == nil, who.tokenName == nil else {
                        throw ValidationError("--new-token cannot be combined with --role-arn or --token-name")
                    }
                    identity = try IdentityOptions.tokenIdentity(newToken, flag: "--new-token")
                } else {
                    identity = try who.identity()!
                    if let existing = try await target.grant(for: identity, in: namespace) {
                        throw CLIError("a grant for \(existing.identity) on namespace '\(namespace)' exists; use update")
                    }
                }
                let what = newToken.map { "create token '\($0)' and " } ?? ""
                GrantChange.preview(
                    "\(what)create grant: \(try await target.resolved(identity)) on namespace '\(namespace)': \(flags.permissions)",
                    grant: Grant(namespace: namespace, identity: identity, permissions: flags.permissions),
                    format: format
                )
                return
            }
            let identity: Identity
            var token: String?
            if let newToken, let local = target as? StoreGrantTarget {
                guard who.roleARN == nil, who.tokenName == nil else {
                    throw ValidationError("--new-token cannot be combined with --role-arn or --token-name")
                }
                let created = try await local.service.createStaticToken(
                    named: try IdentityOptions.tokenIdentity(newToken, flag: "--new-token"),
                    discardingOrphans: discardOrphanGrants,
                    by: local.op,
                    logger: local.logger
                )
                identity = created.identity
                token = created.token
            } else {
                identity = try who.identity()!
            }
            let grant = Grant(namespace: namespace, identity: identity, permissions: flags.permissions)
            try await target.create(grant)
            // Messages name a token as listings do, token:NAME#ID (the stored form).
            let stored = Grant(namespace: namespace, identity: try await target.resolved(identity), permissions: flags.permissions)
            printError("created grant: \(stored.identity) on namespace '\(namespace)': \(flags.permissions)")
            if format == .json {
                guard case .object(var fields) = GrantOutput.document(stored) else { return }
                if let token { fields.append(("token", .string(token))) }
                printJSON(.object(fields))
                return
            }
            if let token {
                printError("new token '\(newToken!)' (shown once; only its SHA-256 is stored):")
                print(token)
            }
        }
    }
}
