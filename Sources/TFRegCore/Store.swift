/// Where an archive lives. `bucket == nil` means the registry's own configured storage (a local
/// directory or the configured S3 bucket); a bucket names an object the user brought (the tool we
/// replace's "bring your own bucket" layout). `key` is validated by the storage that wrote it.
public struct ArchiveLocation: Sendable, Hashable, Codable {
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

    public init(module: ModuleAddress, version: Version, location: ArchiveLocation, sha256: String, size: Int64, publishedAt: Int64, publishedBy: String? = nil) {
        self.module = module
        self.version = version
        self.location = location
        self.sha256 = sha256
        self.size = size
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
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
/// kind), so every read is a point lookup or a query within one namespace, except `allVersions(in: nil)`.
/// Implementations throw `RegistryError` only: `.conflict` for a failed condition, `.unavailable` when the
/// backend cannot be reached.
public protocol MetadataStore: Sendable {
    /// All versions of one module, any order. Empty when the module is unknown.
    func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord]
    /// One exact version (text equality), or nil.
    func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?
    /// Every version in a namespace, or in the whole registry when `namespace` is nil (listing and search).
    func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord]
    /// Registers a version; `.conflict` if that exact version exists. Atomic.
    func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError)
    /// Removes a version; returns the removed record, nil if there was none.
    func deleteVersion(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?

    func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant?
    func grants(in namespace: Namespace) async throws(RegistryError) -> [Grant]
    /// Every grant held by one identity (for `grant list --identity`).
    func grants(for identity: Identity) async throws(RegistryError) -> [Grant]
    func putGrant(_ grant: Grant, mode: GrantWriteMode) async throws(RegistryError)
    /// Returns false if there was no such grant.
    func deleteGrant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Bool

    /// The static-token identity whose token hashes to `sha256` (hex), or nil.
    func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity?
    /// Records a static token's hash; `.conflict` if the name exists.
    func createStaticToken(_ identity: Identity, hash sha256: String, createdAt: Int64) async throws(RegistryError)
    /// Removes a static token and every grant it holds; false if there was none.
    func deleteStaticToken(_ identity: Identity) async throws(RegistryError) -> Bool
}

/// An archive received from a client, written completely to a local temporary file and fsynced.
public struct StagedArchive: Sendable {
    public let path: String
    public let size: Int64
    /// Lowercase hex SHA-256.
    public let sha256: String
    public init(path: String, size: Int64, sha256: String) {
        self.path = path
        self.size = size
        self.sha256 = sha256
    }
}

/// How a client gets an archive's bytes.
public enum ArchiveDelivery: Sendable, Equatable {
    /// A URL that authorizes itself (for example a presigned S3 GET).
    case url(String)
    /// The registry serves the file itself through its signed archive route.
    case servedByRegistry
}

/// A local archive file ready to stream.
public struct LocalArchiveFile: Sendable {
    public let path: String
    public let size: Int64
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}

/// Archive bytes: a local directory, or S3.
public protocol ArchiveStorage: Sendable {
    /// A directory on the local filesystem where uploads are staged (on the same filesystem as the
    /// store's files when the storage is local, so that `put` is a rename).
    var stagingDirectory: String { get }
    /// Durably stores a staged archive under a key derived from `module`, `version` and its digest,
    /// and removes the staged file. After it returns the archive survives a crash.
    func put(_ staged: StagedArchive, module: ModuleAddress, version: Version) async throws(RegistryError) -> ArchiveLocation
    /// Removes an archive; a missing one is not an error.
    func remove(_ location: ArchiveLocation) async throws(RegistryError)
    /// How a client downloads this archive.
    func delivery(for location: ArchiveLocation, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery
    /// Opens a locally stored archive for the signed archive route.
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile
}
