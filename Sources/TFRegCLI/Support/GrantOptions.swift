import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

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

struct NamespaceOption: ParsableArguments {
    @Option(name: [.customLong("namespace"), .customShort("n")], help: "The namespace the grant applies to.")
    var namespace: String

    func parsed() throws -> Namespace { try NamespaceOption.parse(namespace) }

    /// A namespace typed as -n/--namespace; a bad one is a usage error (exit 64).
    static func parse(_ text: String) throws(CLIError) -> Namespace {
        do { return try Namespace(text) } catch { throw .usage("-n/--namespace: \(error.message)") }
    }
}

/// `grant list` and `grant show`: `--output json|text`, and the older `--json` (the same as `--output json`).
struct GrantListingOutput: ParsableArguments {
    @Flag(help: "Print JSON instead of a table (the same as --output json).")
    var json = false

    @OptionGroup var out: OutputOptions

    func format() throws -> OutputFormat { try json ? .json : out.format() }
}
