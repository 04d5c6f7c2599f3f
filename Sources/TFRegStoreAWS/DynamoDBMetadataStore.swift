import TFRegAWS
import TFRegCore
import TFRegCrypto

/// `MetadataStore` on one DynamoDB table (`pk`, `sk` strings), readable and writable alongside the
/// tool tfreg replaces, with no migration:
///
/// | item | pk | sk | attributes |
/// |---|---|---|---|
/// | module version (seed layout) | NAMESPACE | `Module~NS~NAME~SYSTEM~VERSION` | namespace, name, system, version, bucket, key, expected_checksum (+ tfreg: sha256, size, published_at, published_by) |
/// | IAM grant (seed layout) | NAMESPACE | `IAMBearerAuth~ARN` | namespace, identifier, permissions {download, upload, create_grant, delete_grant} |
/// | static-token grant (new) | NAMESPACE | `StaticTokenAuth~token:NAME#ID` | as above |
/// | static token by digest (new) | `StaticToken` | `StaticToken~SHA256HEX` | identifier (`token:NAME#ID`) |
/// | static token by name (new) | `StaticTokenName` | `token:NAME` | sha256, created_at, token_id |
/// | used presigned STS request (`DynamoDBReplayGuard`) | `SignedRequest~SHA256HEX` | `SignedRequest` | expires_at (TTL) |
/// | precedence reservation (new) | NAMESPACE | `ModulePrecedence~NS~NAME~SYSTEM~VERSION-WITHOUT-BUILD` | (none) |
/// | tombstone of a deleted version (new) | NAMESPACE | `ModuleTombstone~NS~NAME~SYSTEM~VERSION` | version, sha256, deleted_at, deleted_by |
/// | module summary (new) | NAMESPACE | `ModuleSummary/NAME/SYSTEM` (module order; `ModuleSummary~NAME~SYSTEM` before, moved on write, see `+Summaries`) | latest, version_count, …, revision (see `+Summaries`) |
/// | namespace directory (new) | `ModuleNamespaces~` | NAMESPACE | (none) |
/// | README words for search (new) | NAMESPACE | `ModuleReadme~NAME~SYSTEM` | name, system, words (see `+Summaries`) |
/// | audit event (new) | NAMESPACE, or `Audit~` for events of no namespace | `Audit~TIME(12 digits)~ID` | event (JSON), expires_at (TTL) |
///
/// A version is inserted in one transaction with its precedence item (`attribute_not_exists`), so
/// concurrent `1.0.0+a` / `1.0.0+b` have exactly one winner; a delete removes the version item and
/// writes the tombstone in one transaction and keeps the precedence item, so the number is never
/// reused. No new item begins with `Module~`, so the replaced tool's queries do not see them. Insert
/// and delete rewrite the module's summary in the same transaction.
///
/// A static token's grants are keyed by `token:NAME#ID`, `ID` being the random id written on its
/// name item at creation, so a grant never passes to a later token of the same name. Tokens written
/// by tfreg before ids existed have a name item without `token_id`: they keep authenticating as
/// `token:NAME` and their grants stay under `StaticTokenAuth~token:NAME` (bound to the token that held
/// the name when this tfreg first ran: every token created from now on has an id, and creating one
/// over leftover `token:NAME` grants is refused). Nothing is rewritten.
///
/// Reads within a namespace are Queries (all pages); listing across namespaces reads the namespace
/// directory and summaries (Queries). `allVersions(in: nil)`, grants by identity and orphan grants are
/// Scans (administrative, rare; never on the request path).
public struct DynamoDBMetadataStore: MetadataStore {
    public let dynamo: DynamoDBClient
    public let table: String

    public init(dynamo: DynamoDBClient, table: String) {
        self.dynamo = dynamo
        self.table = table
    }

    func map(_ e: AWSError) -> RegistryError { Self.map(e, table: table, region: dynamo.client.region) }

    /// A failed condition is a conflict; a refusal retrying cannot fix (credentials, permissions, a
    /// missing table, any other 4xx) is a configuration error naming the call, the table and what to
    /// check; only throttling, 5xx and network failures are "unavailable, try again".
    public static func map(_ e: AWSError, table: String, region: String) -> RegistryError {
        if e.kind == .conditionalCheckFailed { return .conflict("the item already exists") }
        if e.isConfigurationProblem {
            let what =
                e.code == "ResourceNotFoundException"
                ? "table \(table) does not exist in region \(region): check --table/TABLE_NAME and AWS_REGION" : e.advice
            return .misconfigured(
                "the metadata table",
                explanation:
                    "DynamoDB \(e.message) (\(e.code.isEmpty ? "no error code" : e.code), HTTP \(e.status)) on table \(table) in \(region): \(what)"
            )
        }
        return .unavailable("the metadata table", detail: e.description)
    }

    func wrap<T>(_ body: () async throws(AWSError) -> T) async throws(RegistryError) -> T {
        do { return try await body() } catch { throw map(error) }
    }

    // MARK: Keys

    static func versionSK(_ m: ModuleAddress, _ v: String) -> String { "Module~\(m.namespace)~\(m.name)~\(m.system)~\(v)" }
    static func modulePrefix(_ m: ModuleAddress) -> String { "Module~\(m.namespace)~\(m.name)~\(m.system)~" }
    static func precedenceSK(_ m: ModuleAddress, _ v: Version) -> String {
        "ModulePrecedence~\(m.namespace)~\(m.name)~\(m.system)~\(v.precedenceKey)"
    }
    static func tombstoneSK(_ m: ModuleAddress, _ v: String) -> String { "ModuleTombstone~\(m.namespace)~\(m.name)~\(m.system)~\(v)" }
    static func grantSK(_ id: Identity) -> String { id.kind == .iam ? "IAMBearerAuth~\(id.value)" : "StaticTokenAuth~\(id.value)" }
}
