/// How `putGrant` treats an existing grant.
public enum GrantWriteMode: Sendable {
    /// Fail with `conflict` if a grant exists.
    case create
    /// Fail with `notFound` if no grant exists.
    case update
    /// Create or replace.
    case upsert
}

/// Grants: who may do what in a namespace. One section of `MetadataStore`.
///
/// A static token's grants are stored under its `token:NAME#ID`, so writing one needs the token
/// table too (`putGrant` refuses a grant for a token that does not exist, in the same transaction as
/// the lookup): that is why the stores implement all of `MetadataStore` on one backend rather than
/// one protocol each. Reads in one namespace are point lookups or one query; `grants(for:)` is
/// administrative (DynamoDB: a Scan). Errors as `MetadataStore` says.
public protocol GrantStore: Sendable {
    /// The grant stored under exactly this identity (a static token's grants are stored under its
    /// `token:NAME#ID`, see `Identity`).
    func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant?
    func grants(in namespace: Namespace) async throws(RegistryError) -> [Grant]
    /// Every grant held by one identity (for `grant list --identity`).
    func grants(for identity: Identity) async throws(RegistryError) -> [Grant]
    /// Writes a grant. For a static token, `grant.identity` may be `token:NAME` or `token:NAME#ID`; the
    /// grant is stored for the token that holds the name now, and `.notFound` when no token does (or
    /// when `ID` is not that token): a grant for a token that does not exist is refused, never kept
    /// for a token created later.
    func putGrant(_ grant: Grant, mode: GrantWriteMode) async throws(RegistryError)
    /// Returns false if there was no such grant.
    func deleteGrant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Bool
}
