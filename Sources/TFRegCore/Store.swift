/// Where an archive lives. `bucket == nil` means the registry's own configured storage (a local
/// directory or the configured S3 bucket); a bucket names an object the user brought (the tool we
/// replace's "bring your own bucket" layout). `key` is validated by the storage that wrote it.
public struct ArchiveLocation: Sendable, Hashable {
    public var bucket: String?
    public var key: String
    public init(bucket: String? = nil, key: String) {
        self.bucket = bucket
        self.key = key
    }
}

/// One registered module version: the unit the metadata store keeps.
public struct ModuleVersionRecord: Sendable, Hashable {
    public var module: ModuleAddress
    public var version: Version
    public var location: ArchiveLocation
    /// Lowercase hex SHA-256 of the archive bytes.
    public var sha256: String
    public var size: Int64
    /// Unix seconds.
    public var publishedAt: Int64
    public var publishedBy: String?
    /// Set when the version is deprecated: it stays listed and downloadable, with this mark.
    public var deprecation: Deprecation?

    public init(
        module: ModuleAddress,
        version: Version,
        location: ArchiveLocation,
        sha256: String,
        size: Int64,
        publishedAt: Int64,
        publishedBy: String? = nil,
        deprecation: Deprecation? = nil
    ) {
        self.module = module
        self.version = version
        self.location = location
        self.sha256 = sha256
        self.size = size
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        self.deprecation = deprecation
    }
}

/// A version marked as not to be used any more. Terraform resolves even an exact pin through the
/// versions list and modules have no lock file, so a deprecated version keeps being listed and
/// served; the mark tells people what to move to.
public struct Deprecation: Sendable, Hashable {
    /// Why (may be empty).
    public var reason: String
    /// What to use instead: a version or a module source (optional).
    public var replacement: String?
    /// Unix seconds.
    public var at: Int64
    public var by: String?

    public static let maximumTextLength = 1024

    public init(reason: String, replacement: String?, at: Int64, by: String?) {
        self.reason = reason
        self.replacement = replacement
        self.at = at
        self.by = by
    }
}

/// What is left of a deleted version: its number stays reserved (no other bytes may ever be
/// published under it), and the record says when and by whom it was deleted.
public struct VersionTombstone: Sendable, Hashable {
    public var module: ModuleAddress
    public var version: Version
    public var sha256: String
    public var deletedAt: Int64
    public var deletedBy: String?

    public init(module: ModuleAddress, version: Version, sha256: String, deletedAt: Int64, deletedBy: String?) {
        self.module = module
        self.version = version
        self.sha256 = sha256
        self.deletedAt = deletedAt
        self.deletedBy = deletedBy
    }
}

/// How `putGrant` treats an existing grant.
public enum GrantWriteMode: Sendable {
    /// Fail with `conflict` if a grant exists.
    case create
    /// Fail with `notFound` if no grant exists.
    case update
    /// Create or replace.
    case upsert
}

/// Registry metadata: module versions, grants, static-token hashes.
///
/// Shaped for a key-value store with range queries (DynamoDB: partition = namespace, sort key by item
/// kind), so every read is a point lookup or a query within one namespace, except `allVersions(in: nil)`
/// and `grants(for:)` (administrative).
/// Implementations throw `RegistryError` only: `.conflict` for a failed condition, `.unavailable` when the
/// backend cannot be reached.
public protocol MetadataStore: Sendable {
    /// All versions of one module, any order. Empty when the module is unknown.
    func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord]
    /// One exact version (text equality), or nil.
    func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?
    /// Every version in a namespace, or in the whole registry when `namespace` is nil. Administrative
    /// only (backup, gc, import-legacy): its cost grows with the registry (DynamoDB: a Scan for nil).
    /// Listing and search read `moduleSummaries(in:)`.
    func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord]
    /// The summaries of a namespace's modules, sorted by module: one record per module whatever its
    /// number of versions (DynamoDB: one Query in the namespace's partition). Every write below keeps
    /// them, in the same transaction as the change.
    func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary]
    /// Namespaces that hold (or held) a module summary, sorted: the all-namespaces listing checks the
    /// caller's grant in each (DynamoDB: one Query of a directory partition). May include namespaces
    /// whose modules are all deleted.
    func summaryNamespaces() async throws(RegistryError) -> [Namespace]
    /// Recomputes a module's summary from its versions (removes it when none is left): for data
    /// written before summaries existed (`tfreg import-legacy` does every module).
    func refreshSummary(of module: ModuleAddress) async throws(RegistryError)
    /// Registers a version; `.conflict` if a version of the same precedence (`1.0.0+a` and `1.0.0+b`)
    /// exists or was ever deleted. The store itself enforces this, atomically: concurrent inserts of
    /// one precedence have exactly one winner.
    func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError)
    /// Deletes a version, atomically leaving a tombstone that keeps its precedence reserved; returns
    /// the removed record, nil if there was none.
    func tombstoneVersion(_ version: Version, of module: ModuleAddress, at: Int64, by: String?) async throws(RegistryError) -> ModuleVersionRecord?
    /// Tombstones of a module's deleted versions.
    func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone]
    /// Points a version at another archive (`tfreg import-legacy`: a user's object replaced by the
    /// registry's own canonical copy of the same files). Only if the version still references `from`;
    /// false otherwise (deleted, or changed meanwhile).
    func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool
    /// Sets (or with nil clears) a version's deprecation; returns the updated record, nil if there is
    /// no such version.
    func setDeprecation(_ deprecation: Deprecation?, version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?

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

    /// The static-token identity (`token:NAME#ID`) whose token hashes to `sha256` (hex), or nil.
    func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity?
    /// The token that holds a name now, as `token:NAME#ID`, or nil.
    func staticToken(named name: Identity) async throws(RegistryError) -> Identity?
    /// Grants stored for a token name that no live token holds (left by a token revoked before
    /// grants were bound to ids, by a crash between a revoke's steps, or by an older tfreg): every
    /// grant under `token:NAME` or any `token:NAME#ID` that is not the current token's.
    func orphanGrants(named name: Identity) async throws(RegistryError) -> [Grant]
    /// Records a static token's hash under a new random id and returns its `token:NAME#ID`;
    /// `.conflict` if the name is taken. Orphan grants of the name are never inherited: with
    /// `discardingOrphans` false their presence is a `.conflict` (the administrator decides), with
    /// true they are deleted first.
    func createStaticToken(_ name: Identity, hash sha256: String, createdAt: Int64, discardingOrphans: Bool) async throws(RegistryError) -> Identity
    /// Removes the static token holding `name` and every grant it holds; returns how many grants were
    /// removed, nil if there was no such token.
    func revokeStaticToken(_ name: Identity) async throws(RegistryError) -> Int?
}

extension MetadataStore {
    /// Creates a token, refusing when orphan grants exist for its name.
    @discardableResult
    public func createStaticToken(_ name: Identity, hash sha256: String, createdAt: Int64) async throws(RegistryError) -> Identity {
        try await createStaticToken(name, hash: sha256, createdAt: createdAt, discardingOrphans: false)
    }

    /// Removes a static token and its grants; false if there was none.
    public func deleteStaticToken(_ name: Identity) async throws(RegistryError) -> Bool {
        try await revokeStaticToken(name) != nil
    }

    /// `token:NAME` → the current token's `token:NAME#ID` when one holds the name; anything else
    /// (IAM principals, `token:NAME#ID`, names no token holds) as it is. For looking grants up by the
    /// name people type.
    public func resolvingTokenName(_ identity: Identity) async throws(RegistryError) -> Identity {
        guard identity.kind == .staticToken, identity.tokenID == nil else { return identity }
        return try await staticToken(named: identity) ?? identity
    }

    /// The identity a new grant for `identity` is stored under: the current token for a token name or
    /// id, `.notFound` when there is none. IAM principals as they are.
    public func tokenForGrant(_ identity: Identity) async throws(RegistryError) -> Identity {
        guard identity.kind == .staticToken, let name = identity.tokenName else { return identity }
        guard let current = try await staticToken(named: name) else { throw OrphanGrants.noToken(name) }
        guard identity.tokenID == nil || identity == current else { throw OrphanGrants.superseded(identity, by: current) }
        return current
    }
}

/// Errors about grants and the tokens they belong to, worded the same by every store.
public enum OrphanGrants {
    /// A grant for a token name no token holds.
    public static func noToken(_ name: Identity) -> RegistryError {
        .notFound(
            "no token named '\(name.value.dropFirst(6))': create it first (tfreg grant create --new-token NAME); grants are never kept for a token that does not exist yet"
        )
    }

    /// A grant for `token:NAME#ID` when the name now belongs to another token.
    public static func superseded(_ identity: Identity, by current: Identity) -> RegistryError {
        .notFound("\(identity) is no longer a token: the name now belongs to \(current)")
    }

    /// The refusal to create a token over a name that orphan grants still name.
    public static func refusal(_ name: Identity, _ orphans: [Grant]) -> RegistryError {
        let namespaces = Set(orphans.map(\.namespace.value)).sorted()
        let shown = namespaces.prefix(10).joined(separator: ", ") + (namespaces.count > 10 ? ", …" : "")
        return .conflict(
            "\(orphans.count) grant(s) from an earlier token named '\(name.value.dropFirst(6))' remain (namespaces: \(shown)); "
                + "they are never given to a new token: delete them, or pass --discard-orphan-grants to delete them and create the token"
        )
    }
}
