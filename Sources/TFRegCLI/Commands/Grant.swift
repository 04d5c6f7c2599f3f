import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegStoreLocal

extension TFReg {
    /// `tfreg grant …`: manages grants directly in the store (the admin path: whoever can open the
    /// database is trusted).
    struct Grant: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Manage per-namespace permission grants for IAM roles and static tokens.",
            discussion: """
                Works directly on the registry's store (--data-dir / TFREG_DATA_DIR, or --table for DynamoDB), \
                or with --registry HOST through the registry's grants API as you: your token comes from \
                --token-file PATH (- for standard input), --token, TFREG_TOKEN, TF_TOKEN_…, the Terraform CLI config, else your AWS IAM identity. Over the API you can \
                only give permissions you hold yourself. The order of the tool tfreg replaces also works: \
                manage-registry-permissions --role-arn ARN --namespace NS create -d
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
        case (let arn?, nil): return try Identity(arn)
        case (nil, let name?): return try Identity.token(named: name)
        case (nil, nil):
            if required { throw ValidationError("name who the grant is for: --role-arn ARN or --token-name NAME") }
            return nil
        default: throw ValidationError("give either --role-arn or --token-name, not both")
        }
    }
}

struct RemoteOptions: ParsableArguments {
    @Option(help: "Manage grants through this registry's API (HOST or HOST:PORT) instead of the store.")
    var registry: String?

    /// With --registry: the bearer token (default: TF_TOKEN_…, the CLI config, else an IAM token).
    @OptionGroup var auth: TokenOptions

    func client() async throws -> GrantAPIClient? {
        guard let registry else { return nil }
        let host = try RegistryHost(registry)
        if let t = try auth.explicitToken() ?? TerraformCredentials.token(for: host.name) { return GrantAPIClient(host: host, token: t) }
        let http = CurlHTTPClient(caBundle: Env.value("SSL_CERT_FILE") ?? Env.value("AWS_CA_BUNDLE"))
        guard await IAMTokenClient.iamDiscovery(host: host, http: http) != nil else {
            throw CLIError.denied(
                "no token for \(host.name): pass --token-file PATH (or - for standard input), set TFREG_TOKEN or TF_TOKEN_…, or add a credentials \"\(host.name)\" block to the Terraform CLI config (\(host.name) does not issue IAM tokens)"
            )
        }
        return GrantAPIClient(host: host, token: try await IAMTokenClient.fetch(host: host, seconds: 300))
    }
}

/// `tfreg grant --registry`: the grants API with the caller's own token.
struct GrantAPIClient {
    let host: RegistryHost
    let token: String
    let http = CurlHTTPClient(caBundle: Env.value("SSL_CERT_FILE") ?? Env.value("AWS_CA_BUNDLE"))

    func send(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), ("User-Agent", "tfreg/\(TFReg.version)")]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            HTTPRequest(method: method, url: "https://\(host.name)\(path)", headers: headers, body: body?.serialized() ?? [], timeout: 30)
        )
    }

    func list(_ ns: Namespace) async throws -> [TFRegCore.Grant] {
        let r = try await send("GET", "/v1/grants/\(ns)")
        guard r.status == 200, let doc = try? JSONParser.parse(r.body), case .array(let items)? = doc["grants"] else {
            throw CLIError.registry(r, action: "list grants of '\(ns)'")
        }
        return try items.map { item in
            guard let id = item["identity"]?.stringValue, let p = item["permissions"] else { throw CLIError("unexpected grants answer") }
            return TFRegCore.Grant(
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

    func put(_ g: TFRegCore.Grant) async throws {
        let p = g.permissions
        let body = JSONValue.object([
            ("identity", .string(g.identity.value)),
            (
                "permissions",
                .object([
                    ("download", .bool(p.download)), ("upload", .bool(p.upload)), ("create_grant", .bool(p.createGrant)),
                    ("delete_grant", .bool(p.deleteGrant)),
                ])
            ),
        ])
        let r = try await send("PUT", "/v1/grants/\(g.namespace)", body: body)
        guard r.status == 200 else { throw CLIError.registry(r, action: "write the grant") }
    }

    func delete(_ id: Identity, in ns: Namespace) async throws {
        let r = try await send("DELETE", "/v1/grants/\(ns)/\(id)")
        guard r.status == 204 else { throw CLIError.registry(r, action: "delete the grant") }
    }
}

struct NamespaceOption: ParsableArguments {
    @Option(name: [.customLong("namespace"), .customShort("n")], help: "The namespace the grant applies to.")
    var namespace: String

    func parsed() throws -> Namespace { try Namespace(namespace) }
}

extension TFReg.Grant {
    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a grant. With --new-token NAME, also create a static token and print it once."
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
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let namespace = try ns.parsed()
            if let api = try await remote.client() {
                guard newToken == nil else {
                    throw ValidationError("--new-token works on the store only (tokens are made by the registry's administrator)")
                }
                let identity = try who.identity()!
                if try await api.list(namespace).contains(where: { $0.identity == identity }) {
                    throw CLIError("a grant for \(identity) on namespace '\(namespace)' exists; use update")
                }
                try await api.put(TFRegCore.Grant(namespace: namespace, identity: identity, permissions: flags.permissions))
                printError("created grant: \(identity) on namespace '\(namespace)': \(flags.permissions)")
                return
            }
            let db = try store.openMetadata()
            let identity: Identity
            var token: String?
            if let newToken {
                guard who.roleARN == nil, who.tokenName == nil else {
                    throw ValidationError("--new-token cannot be combined with --role-arn or --token-name")
                }
                let secret = StaticTokenAuthenticator.generate()
                identity = try await db.createStaticToken(
                    try Identity.token(named: newToken),
                    hash: StaticTokenAuthenticator.digest(of: secret),
                    createdAt: SystemClock().now(),
                    discardingOrphans: discardOrphanGrants
                )
                token = secret
            } else {
                identity = try who.identity()!
            }
            try await db.putGrant(TFRegCore.Grant(namespace: namespace, identity: identity, permissions: flags.permissions), mode: .create)
            printError("created grant: \(identity) on namespace '\(namespace)': \(flags.permissions)")
            if let token {
                printError("new token '\(newToken!)' (shown once; only its SHA-256 is stored):")
                print(token)
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Set an existing grant's permissions to exactly the flags given.")
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @OptionGroup var flags: PermissionFlags
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            if let api = try await remote.client() {
                guard try await api.list(namespace).contains(where: { $0.identity == identity }) else {
                    throw CLIError.notFound("no grant for \(identity) on namespace '\(namespace)'")
                }
                try await api.put(TFRegCore.Grant(namespace: namespace, identity: identity, permissions: flags.permissions))
                printError("updated grant: \(identity) on namespace '\(namespace)': \(flags.permissions)")
                return
            }
            let db = try store.openMetadata()
            try await db.putGrant(TFRegCore.Grant(namespace: namespace, identity: identity, permissions: flags.permissions), mode: .update)
            printError("updated grant: \(identity) on namespace '\(namespace)': \(flags.permissions)")
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a grant with all its permissions.")
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            if let api = try await remote.client() {
                try await api.delete(identity, in: namespace)
                printError("deleted grant: \(identity) on namespace '\(namespace)'")
                return
            }
            let db = try store.openMetadata()
            let stored = try await db.resolvingTokenName(identity)
            guard try await db.deleteGrant(for: stored, in: namespace) else {
                throw RegistryError.notFound("no grant for \(identity) on namespace '\(namespace)'")
            }
            printError("deleted grant: \(stored) on namespace '\(namespace)'")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the grants of a namespace, or of an identity.")
        @Option(name: [.customLong("namespace"), .customShort("n")], help: "List every grant in this namespace.")
        var namespace: String?
        @OptionGroup var who: IdentityOptions
        @Flag(help: "Print JSON instead of a table.")
        var json = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            if let api = try await remote.client() {
                guard let ns = namespace else { throw ValidationError("with --registry, give --namespace") }
                let id = try who.identity(required: false)
                GrantOutput.print(try await api.list(try Namespace(ns)).filter { id == nil || $0.identity == id }, json: json)
                return
            }
            let db = try store.openMetadata()
            let grants: [TFRegCore.Grant]
            var id = try who.identity(required: false)
            if let given = id { id = try await db.resolvingTokenName(given) }
            if let name = id?.tokenName {
                let orphans = try await db.orphanGrants(named: name)
                if !orphans.isEmpty {
                    printError(
                        "note: \(orphans.count) orphan grant(s) for the name \(name) belong to no token and never apply: \(orphans.map { "\($0.identity) on '\($0.namespace)'" }.joined(separator: ", "))"
                    )
                }
            }
            switch (namespace, id) {
            case (let ns?, nil): grants = try await db.grants(in: try Namespace(ns))
            case (nil, let id?): grants = try await db.grants(for: id)
            case (let ns?, let id?): grants = try await db.grant(for: id, in: try Namespace(ns)).map { [$0] } ?? []
            case (nil, nil): throw ValidationError("give --namespace, or --role-arn/--token-name, or both")
            }
            GrantOutput.print(grants, json: json)
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one grant.")
        @OptionGroup var ns: NamespaceOption
        @OptionGroup var who: IdentityOptions
        @Flag(help: "Print JSON instead of a table.")
        var json = false
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let identity = try who.identity()!
            if let api = try await remote.client() {
                // The API lists a static token as token:NAME#ID; --token-name NAME means the current one.
                let matches = { (listed: Identity) in
                    listed == identity || (identity.tokenID == nil && identity.tokenName != nil && listed.tokenName == identity.tokenName)
                }
                guard let grant = try await api.list(namespace).first(where: { matches($0.identity) }) else {
                    throw CLIError.notFound("no grant for \(identity) on namespace '\(namespace)'")
                }
                GrantOutput.print([grant], json: json)
                return
            }
            let db = try store.openMetadata()
            guard let grant = try await db.grant(for: try await db.resolvingTokenName(identity), in: namespace) else {
                throw RegistryError.notFound("no grant for \(identity) on namespace '\(namespace)'")
            }
            GrantOutput.print([grant], json: json)
        }
    }

    struct RevokeToken: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a static token and every grant it holds.")
        @Option(name: .customLong("token-name"), help: "The token's name.")
        var tokenName: String
        @OptionGroup var store: StoreOptions

        func run() async throws {
            let identity = try Identity.token(named: tokenName)
            let db = try store.openMetadata()
            guard let current = try await db.staticToken(named: identity), let removed = try await db.revokeStaticToken(identity) else {
                throw RegistryError.notFound("no token named '\(tokenName)'")
            }
            printError("revoked \(current.tokenName!) and its \(removed) grant\(removed == 1 ? "" : "s") (token id \(current.tokenID ?? "none"))")
        }
    }
}

enum GrantOutput {
    static func print(_ grants: [TFRegCore.Grant], json: Bool) {
        if json {
            let items = grants.map { g -> String in
                let p = g.permissions
                return
                    "{\"namespace\":\"\(g.namespace)\",\"identity\":\"\(g.identity)\",\"permissions\":{\"download\":\(p.download),\"upload\":\(p.upload),\"create_grant\":\(p.createGrant),\"delete_grant\":\(p.deleteGrant)}}"
            }
            Swift.print("[" + items.joined(separator: ",") + "]")
            return
        }
        Swift.print("NAMESPACE\tIDENTITY\tPERMISSIONS")
        for g in grants { Swift.print("\(g.namespace)\t\(g.identity)\t\(g.permissions)") }
    }
}
