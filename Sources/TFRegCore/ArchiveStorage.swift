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
    /// Durably stores a staged archive under a key derived from its digest (content-addressed). The
    /// store is write-once: an object already stored under that key is kept, never overwritten (the
    /// same digest is the same bytes). The staged file stays until `settle`. After it returns the
    /// archive survives a crash.
    func put(_ staged: StagedArchive, module: ModuleAddress, version: Version) async throws(RegistryError) -> ArchiveLocation
    /// Called once the version row that references `location` exists: makes sure the object is
    /// still there (stores it again from the staged file if a concurrent garbage collection removed
    /// it as unreferenced), then removes the staged file.
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError)
    /// Removes an archive; a missing one is not an error.
    func remove(_ location: ArchiveLocation) async throws(RegistryError)
    /// How a client downloads this version's archive. `.upstreamMismatch` when the object is not the
    /// one recorded (a user's object overwritten after it was registered).
    func delivery(for record: ModuleVersionRecord, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery
    /// Opens a locally stored archive for the signed archive route.
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile
    /// Whether this storage can register an archive the user stored themselves (`create`): S3 yes,
    /// the local directory no. Discovery advertises `create` only when it can.
    var registersExistingObjects: Bool { get }
    /// Looks up an archive the user stored themselves (`create`): its recorded checksum and size.
    /// `badRequest` when it does not exist, `forbidden` when the registry may not read it.
    func existingArchive(at location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive
    /// Reads an archive the user stored (`create`) once, verifies it against `expectedSHA256`, and
    /// stages its bytes so the registry publishes its own copy; nil when this storage cannot hold
    /// copies (an S3 storage without a bucket of its own: the version then references the object).
    func importExisting(at location: ArchiveLocation, expectedSHA256: String, limit: Int64) async throws(RegistryError) -> StagedArchive?
    /// Whether an archive of the registry's own storage was written by this version of tfreg, i.e. is
    /// canonical (content-addressed keys); false for keys of older versions, stored as uploaded.
    func isCanonicalKey(_ key: String) -> Bool
    /// Stages a copy of one of the registry's own archives (for `import-legacy` of archives stored
    /// before canonicalization); nil when it is missing.
    func stageOwnArchive(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive?
}

/// An archive found in storage rather than uploaded through the registry ("bring your own bucket"),
/// as the storage reports it.
public struct ExistingArchive: Sendable, Equatable {
    /// Lowercase hex SHA-256 the storage recorded for the object, nil when it recorded none.
    public let sha256: String?
    public let size: Int64
    public init(sha256: String?, size: Int64) {
        self.sha256 = sha256
        self.size = size
    }
}

extension ArchiveStorage {
    public var registersExistingObjects: Bool { false }

    /// Storage that cannot look up objects it did not write (the local directory) refuses `create`.
    public func existingArchive(at location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive {
        throw .badRequest("this registry stores archives itself: publish with the upload endpoint instead of create")
    }

    public func importExisting(at location: ArchiveLocation, expectedSHA256: String, limit: Int64) async throws(RegistryError) -> StagedArchive? {
        _ = try await existingArchive(at: location)
        return nil
    }

    public func isCanonicalKey(_ key: String) -> Bool { true }
    public func stageOwnArchive(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? { nil }
}

extension ArchiveLocation {
    /// The location of an archive a user already uploaded, checked against S3's rules before it is
    /// used in a URL or stored: bucket names per S3's naming rules, keys of printable ASCII/UTF-8 without
    /// dot segments, ending in an archive extension Terraform recognises.
    public static func external(bucket: String, key: String) throws(RegistryError) -> ArchiveLocation {
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
        guard lower.hasSuffix(".tar.gz") || lower.hasSuffix(".tgz") || lower.hasSuffix(".zip") else {
            throw .badRequest("the S3 key must end in .tar.gz, .tgz or .zip: Terraform picks the archive type from the download URL")
        }
        return ArchiveLocation(bucket: bucket, key: key)
    }
}
