import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg {
    /// `tfreg grant …`: manages grants directly in the store (the admin path: whoever can open the
    /// database is trusted).
    /// The type is `GrantCommand` so that `Grant` in this module is TFRegCore's grant.
    struct GrantCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant",
            abstract: "Manage per-namespace permission grants for IAM roles and static tokens.",
            discussion: """
                Works directly on the registry's store (--data-dir / TFREG_DATA_DIR, or --table for DynamoDB), \
                or with --registry HOST through the registry's grants API as you: your token comes from \
                --token-file PATH (- for standard input), --token, TFREG_TOKEN, TF_TOKEN_…, the Terraform CLI config, else your AWS IAM identity. Over the API you can \
                only give permissions you hold yourself. The order of the tool tfreg replaces also works: \
                manage-registry-permissions --role-arn ARN --namespace NS create -d

                Examples:
                  tfreg grant create -n acme --new-token ci --download --upload
                  tfreg grant list -n acme --output json
                  tfreg grant create --registry registry.example.com -n acme -r arn:aws:iam::123456789012:role/ci -d
                """,
            subcommands: [Create.self, Update.self, Delete.self, List.self, Show.self, RevokeToken.self]
        )

        static let verbs: Set<String> = ["create", "update", "delete", "list", "show", "revoke-token", "help"]

        /// Moves a verb given after the options (the replaced tool's order) to the front.
        static func normalizeLegacyOrder(_ args: [String]) -> [String] {
            guard let first = args.first, !verbs.contains(first), !first.hasPrefix("-h"), first != "--help" else { return args }
            guard let i = args.firstIndex(where: { verbs.contains($0) }) else { return args }
            var rest = args
            let verb = rest.remove(at: i)
            return [verb] + rest
        }
    }
}

struct PermissionFlags: ParsableArguments {
    @Flag(name: [.customLong("download"), .customShort("d")], help: "Allow downloading modules.")
    var download = false
    @Flag(name: [.customLong("upload"), .customShort("u")], help: "Allow publishing and deleting versions.")
    var upload = false
    @Flag(name: [.customLong("create-grant"), .customShort("c")], help: "Allow creating and changing grants.")
    var createGrant = false
    @Flag(name: [.customLong("delete-grant"), .customShort("D")], help: "Allow deleting grants.")
    var deleteGrant = false

    var permissions: Permissions { Permissions(download: download, upload: upload, createGrant: createGrant, deleteGrant: deleteGrant) }

    /// A grant with no permission allows nothing: refused, with what to do instead.
    func requireSome(_ verb: String) throws {
        guard permissions.isEmpty else { return }
        switch verb {
        case "update":
            throw ValidationError(
                "nothing to change: give the permissions the grant should have (--download, --upload, --create-grant, --delete-grant); to remove every permission use grant delete"
            )
        default:
            throw ValidationError("a grant needs at least one permission: --download, --upload, --create-grant or --delete-grant")
        }
    }
}

/// The confirmation question for a grant change that takes rights away, or nil when it takes none.
func removalQuestion(_ old: Permissions, _ new: Permissions, identity: Identity, namespace: Namespace) -> String? {
    guard !new.covers(old) else { return nil }
    let lost = Permissions(
        download: old.download && !new.download,
        upload: old.upload && !new.upload,
        createGrant: old.createGrant && !new.createGrant,
        deleteGrant: old.deleteGrant && !new.deleteGrant
    )
    return "remove \(lost) from \(identity) on namespace '\(namespace)' (now \(old), then \(new))?"
}

/// `--dry-run` on the grant changes (create, update, delete).
struct DryRunFlag: ParsableArguments {
    @Flag(help: "Check the change and print what it would do; change nothing.")
    var dryRun = false
}

/// What a grant change would do, for `--dry-run`: one line on standard output (standard output is the
/// command's result), or the grant as it would be, with `"dry_run": true`.
enum GrantChange {
    static func preview(_ change: String, grant: Grant, format: OutputFormat) {
        switch format {
        case .json:
            guard case .object(var fields) = GrantOutput.document(grant) else { return }
            fields.append(("dry_run", .bool(true)))
            printJSON(.object(fields))
        case .text:
            print("would \(change); nothing changed (--dry-run)")
        }
    }
}

struct YesFlag: ParsableArguments {
    @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation of removed rights.")
    var yes = false

    /// Confirms a change that takes rights away (`update` narrowing, `delete`): `Confirmation.require`,
    /// except under the replaced tool's name. `manage-registry-permissions` never asked, and scripts
    /// written for it run without a terminal: there the change goes ahead as it did, with a one-line
    /// notice on standard error. `tfreg grant` asks (or needs --yes).
    func confirm(_ question: String) throws {
        if !yes, RoleDispatch.program == "manage-registry-permissions" {
            printError(
                "notice: not asking \"\(question)\": manage-registry-permissions goes ahead as the replaced tool did (tfreg grant asks, or takes --yes)"
            )
            return
        }
        try Confirmation.require(question, yes: yes)
    }
}

struct IdentityOptions: ParsableArguments {
    @Option(name: [.customLong("role-arn"), .customShort("r")], help: "The IAM role (or user) ARN the grant is for.")
    var roleARN: String?

    @Option(
        name: .customLong("token-name"),
        help: "An existing static token's name the grant is for (NAME#ID for one particular token, e.g. an orphan grant's)."
    )
    var tokenName: String?

    func identity(required: Bool = true) throws -> Identity? {
        switch (roleARN, tokenName) {
        case (let arn?, nil):
            do { return try Identity(arn) } catch {
                throw CLIError.usage("--role-arn '\(arn.prefix(120))' is not an IAM ARN (arn:aws:iam::123456789012:role/NAME or …:user/NAME)")
            }
        case (nil, let name?): return try Self.tokenIdentity(name, flag: "--token-name")
        case (nil, nil):
            if required { throw ValidationError("name who the grant is for: --role-arn ARN or --token-name NAME") }
            return nil
        default: throw ValidationError("give either --role-arn or --token-name, not both")
        }
    }

    /// A static token's name typed as `flag`; a bad one is a usage error quoting the token-name rule
    /// (not the whole identity grammar, which talks of ARNs).
    static func tokenIdentity(_ name: String, flag: String) throws(CLIError) -> Identity {
        do { return try Identity.token(named: name) } catch {
            throw .usage(
                "\(flag) '\(name.prefix(80))' is not a token name: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
            )
        }
    }
}

struct RemoteOptions: ParsableArguments {
    @Option(help: "Manage grants through this registry's API (HOST or HOST:PORT) instead of the store.")
    var registry: String?

    /// With --registry: the bearer token (default: TF_TOKEN_…, the CLI config, else an IAM token).
    @OptionGroup var auth: TokenOptions

    /// The grants API with --registry (the token given, else Terraform's, else an IAM token), else the store.
    /// A local registry must exist unless `creating` (`grant create --init`).
    func target(store: StoreOptions, creating: Bool = false) async throws -> any GrantTarget {
        guard let registry else { return StoreGrantTarget(store: try store.openMetadata(creating: creating)) }
        let host = try RegistryHost(registry)
        let token = try await auth.token(for: host, seconds: 300)
        return APIGrantTarget(api: GrantAPIClient(host: host, token: token, http: RegistryClient.make(caBundle: try auth.caBundle)))
    }
}

/// `tfreg grant --registry`: the grants API with the caller's own token.
struct GrantAPIClient {
    let host: RegistryHost
    let token: String
    let http: CurlHTTPClient

    func send(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            HTTPRequest(method: method, url: "https://\(host.name)\(path)", headers: headers, body: body?.serialized() ?? [], timeout: 30)
        )
    }

    func list(_ ns: Namespace) async throws -> [Grant] {
        let r = try await send("GET", GrantRoute.list(namespace: ns.value).path)
        guard r.status == 200, let doc = try? JSONParser.parse(r.body), case .array(let items)? = doc["grants"] else {
            throw CLIError.registry(r, action: "list grants of '\(ns)'")
        }
        return try items.map { item in
            guard let id = item["identity"]?.stringValue, let p = item["permissions"] else { throw CLIError("unexpected grants answer") }
            return Grant(
                namespace: ns,
                identity: try Identity(id),
                permissions: Permissions(
                    download: p["download"]?.boolValue ?? false,
                    upload: p["upload"]?.boolValue ?? false,
                    createGrant: p["create_grant"]?.boolValue ?? false,
                    deleteGrant: p["delete_grant"]?.boolValue ?? false
                )
            )
        }
    }

    func put(_ g: Grant) async throws {
        let body = g.requestJSON
        let r = try await send("PUT", GrantRoute.put(namespace: g.namespace.value).path, body: body)
        guard r.status == 200 else { throw CLIError.registry(r, action: "write the grant") }
    }

    func delete(_ id: Identity, in ns: Namespace) async throws {
        let r = try await send("DELETE", GrantRoute.delete(id, in: ns).path)
        guard r.status == 204 else { throw CLIError.registry(r, action: "delete the grant") }
    }
}

struct NamespaceOption: ParsableArguments {
    @Option(name: [.customLong("namespace"), .customShort("n")], help: "The namespace the grant applies to.")
    var namespace: String

    func parsed() throws -> Namespace { try NamespaceOption.parse(namespace) }

    /// A namespace typed as -n/--namespace; a bad one is a usage error (exit 64).
    static func parse(_ text: String) throws(CLIError) -> Namespace {
        do { return try Namespace(text) } catch { throw .usage("-n/--namespace: \(error.message)") }
    }
}

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

/// `grant list` and `grant show`: `--output json|text`, and the older `--json` (the same as `--output json`).
struct GrantListingOutput: ParsableArguments {
    @Flag(help: "Print JSON instead of a table (the same as --output json).")
    var json = false

    @OptionGroup var out: OutputOptions

    func format() throws -> OutputFormat { try json ? .json : out.format() }
}
