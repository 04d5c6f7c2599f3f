/// What a stored blob is. The kind gives the key its extension (clients and Terraform pick a file's
/// type from it), so one digest stored as two kinds is two objects.
///
/// Declared only when something stores it. The kinds queued next, with the extension each will
/// use: a provider package (`.zip`, as Terraform's provider protocol
/// expects), a provider release's `SHA256SUMS` (`_SHA256SUMS`) and its detached signature
/// (`_SHA256SUMS.sig`). `tfreg gc` recognises every declared kind by its extension, so a new case
/// is collected once no record references it.
public enum BlobKind: String, Sendable, CaseIterable {
    /// A module version's canonical `.tar.gz`.
    case moduleArchive
    /// A module version's documentation: `ModuleDocs` as JSON (`ModuleDocs+JSON.swift`), referenced
    /// by `ModuleVersionRecord.docsKey`.
    case moduleDocs
    // Issue 20 (providers): a platform's package, a release's SHA256SUMS and its detached signature.
    case providerPackage
    case providerShasums
    case providerSignature

    /// The key's last characters: what the stored file or object is.
    public var fileExtension: String {
        switch self {
        case .moduleArchive: ".tar.gz"
        case .moduleDocs: ".json"
        case .providerPackage: ".zip"
        case .providerShasums: "_SHA256SUMS"
        case .providerSignature: "_SHA256SUMS.sig"
        }
    }

    /// The kind a stored key's extension names, or nil.
    public static func of(key: some StringProtocol) -> BlobKind? {
        allCases.first { key.hasSuffix($0.fileExtension) }
    }
}

/// A content address: the SHA-256 of a blob's bytes and its kind. Its `key` (`sha256/HH/DIGEST.EXT`,
/// HH the digest's first two hex digits) is where both stores put new blobs, below their root or prefix.
public struct BlobAddress: Sendable, Hashable {
    /// Lowercase hex SHA-256.
    public let sha256: String
    public let kind: BlobKind

    /// nil unless `sha256` is 64 lowercase hex digits.
    public init?(sha256: String, kind: BlobKind) {
        guard Grammar.isSHA256Hex(sha256) else { return nil }
        self.sha256 = sha256
        self.kind = kind
    }

    public var key: String { "sha256/\(sha256.prefix(2))/\(sha256)\(kind.fileExtension)" }
}

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

/// Bytes received or read, written completely to a local temporary file and fsynced: what `put`
/// stores, and what `get` returns.
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

/// How a client gets a blob's bytes.
public enum ArchiveDelivery: Sendable, Equatable {
    /// A URL that authorizes itself (for example a presigned S3 GET).
    case url(String)
    /// The registry serves the file itself through its signed archive route.
    case servedByRegistry
}

/// A local file ready to stream.
public struct LocalArchiveFile: Sendable {
    public let path: String
    public let size: Int64
    public init(path: String, size: Int64) {
        self.path = path
        self.size = size
    }
}

/// What `head` saw of a stored object.
public struct ExistingArchive: Sendable, Equatable {
    /// Lowercase hex SHA-256 the storage recorded for the object, nil when it recorded none.
    public let sha256: String?
    public let size: Int64
    public init(sha256: String?, size: Int64) {
        self.sha256 = sha256
        self.size = size
    }
}

/// Blob bytes (a local directory, or S3), content-addressed and write-once: a few verbs over
/// locations, in the way of Hummingbird's `PersistDriver`. Nothing here knows modules: records
/// (`ModuleVersionRecord`) keep the `ArchiveLocation` that `put` returned, and the service says what
/// the bytes are (`BlobKind`).
///
/// A location is read whatever layout wrote it: `put` writes `BlobAddress.key` today, and keys of
/// older tfreg (`NS/NAME/SYSTEM/VERSION/SHA256.tar.gz`, local) stay readable, deliverable and kept
/// by gc while a record references them; nothing is migrated. A location with a `bucket` is an
/// object a user brought ("bring your own bucket", the replaced tool's layout): read, checked and
/// delivered, never written or removed.
public protocol BlobStore: Sendable {
    /// A directory on the local filesystem where uploads are staged (on the same filesystem as the
    /// store's files when the storage is local, so that `put` is a link).
    var stagingDirectory: String { get }
    /// Whether this storage can read objects users stored themselves (`create`): S3 yes, the local
    /// directory no. Discovery advertises `create` only when it can.
    var registersExistingObjects: Bool { get }
    /// Whether `put` can store anything: false for an S3 storage without a bucket of its own (its
    /// versions reference users' objects).
    var acceptsWrites: Bool { get }

    /// Durably stores a staged blob at its content address (`BlobAddress(sha256: staged.sha256,
    /// kind:)`). Write-once: an object already stored there is kept, never overwritten (the same
    /// digest is the same bytes). The staged file stays until `settle`. After it returns the blob
    /// survives a crash.
    func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation
    /// Called once the record that references `location` exists: makes sure the object is still
    /// there (stores it again from the staged file if a concurrent garbage collection removed it as
    /// unreferenced), then removes the staged file.
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError)
    /// The size and recorded SHA-256 of a stored object (the registry's own or a user's), nil when
    /// it does not exist; `forbidden` when the registry may not read it.
    func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive?
    /// Stages a copy of a stored object's bytes (at most `limit`, else `payloadTooLarge`), with the
    /// SHA-256 of the bytes staged; nil when it does not exist.
    func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive?
    /// Removes one of the registry's own objects; a missing one is not an error, a user's is left.
    func remove(_ location: ArchiveLocation) async throws(RegistryError)
    /// How a client downloads the object at `location`, whose recorded digest is `sha256`.
    /// `.upstreamMismatch` (its message names the object) when a user's object is not the one
    /// recorded (overwritten or deleted after it was registered).
    func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery
    /// Opens a locally stored object for the signed archive route.
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile
    /// Whether a key of the registry's own storage is a content address this tfreg writes
    /// (`BlobAddress.key`); false for keys of older versions, stored as uploaded.
    func isCanonicalKey(_ key: String) -> Bool
}

extension BlobStore {
    /// Storage that cannot read objects it did not write (a local directory) refuses `create`.
    public var registersExistingObjects: Bool { false }
}

/// The name of `BlobStore` before it was content-addressed by kind; kept so call sites outside the
/// storage area keep compiling while the foundations branches merge. New code says `BlobStore`.
public typealias ArchiveStorage = BlobStore

extension ArchiveLocation {
    /// The location of an archive a user already uploaded, checked against S3's rules before it is
    /// used in a URL or stored: bucket names per S3's naming rules, keys of printable ASCII/UTF-8 without
    /// dot segments, ending in an archive extension Terraform recognises (`servedAsArchive`: a module
    /// archive registered where it is, whose URL Terraform reads; an object only copied from, such as
    /// a provider release's tar, may be named anything).
    public static func external(bucket: String, key: String, servedAsArchive: Bool = true) throws(RegistryError) -> ArchiveLocation {
        let b = Array(bucket.utf8)
        let bucketChars = Set("abcdefghijklmnopqrstuvwxyz0123456789.-".utf8)
        let alnum = Set("abcdefghijklmnopqrstuvwxyz0123456789".utf8)
        guard (3...63).contains(b.count), b.allSatisfy(bucketChars.contains), alnum.contains(b.first!), alnum.contains(b.last!),
            !bucket.contains(".."), !bucket.hasPrefix("xn--"), !bucket.hasPrefix("sthree-")
        else {
            throw .badRequest("invalid S3 bucket name '\(bucket.prefix(64))': 3-63 lowercase letters, digits, '.' and '-'")
        }
        let k = Array(key.utf8)
        guard (1...1024).contains(k.count), k.allSatisfy({ $0 >= 0x20 && $0 != 0x7f && $0 != UInt8(ascii: "\\") }), !key.hasPrefix("/"),
            key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy({ $0 != "." && $0 != ".." })
        else {
            throw .badRequest("invalid S3 key: 1-1024 printable characters, no leading '/', no '.' or '..' segments")
        }
        let lower = key.lowercased()
        guard !servedAsArchive || lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") || lower.hasSuffix(".zip") else {
            throw .badRequest("the S3 key must end in .tar.gz, .tgz or .zip: Terraform picks the archive type from the download URL")
        }
        return ArchiveLocation(bucket: bucket, key: key)
    }
}
