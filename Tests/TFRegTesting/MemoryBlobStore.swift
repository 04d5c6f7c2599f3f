import Glibc
import TFRegCore
import TFRegSystem

/// `BlobStore` in memory for tests, as Hummingbird's `MemoryPersistDriver` is for `PersistDriver`:
/// objects by location, write-once like the real stores. Staged files are real files in
/// `stagingDirectory` (the service reads and removes them). Users' objects ("bring your own
/// bucket") are placed with `seed`, with the digest S3 would have recorded for them.
public actor MemoryBlobStore: BlobStore {
    public struct Object: Sendable, Equatable {
        public var bytes: [UInt8]
        /// The SHA-256 of `bytes` (what `get` reports: the test says it, nothing here hashes).
        public var sha256: String
        /// What `head` reports as the storage's record of the digest; nil when none was recorded.
        public var recordedSHA256: String?
    }

    public nonisolated let stagingDirectory: String
    public nonisolated let registersExistingObjects: Bool
    public nonisolated let acceptsWrites: Bool
    private var objects: [ArchiveLocation: Object] = [:]
    private var staged = 0

    /// The defaults are an S3 storage with a bucket of its own.
    public init(stagingDirectory: String, registersExistingObjects: Bool = true, acceptsWrites: Bool = true) {
        self.stagingDirectory = stagingDirectory
        self.registersExistingObjects = registersExistingObjects
        self.acceptsWrites = acceptsWrites
    }

    /// Places an object as a user (or an older tfreg) stored it.
    public func seed(_ location: ArchiveLocation, bytes: [UInt8], sha256: String, recordedSHA256: String?) {
        objects[location] = Object(bytes: bytes, sha256: sha256, recordedSHA256: recordedSHA256)
    }

    public func object(at location: ArchiveLocation) -> Object? { objects[location] }

    public func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation {
        guard acceptsWrites else { throw .badRequest("no bucket of its own") }
        guard let address = BlobAddress(sha256: staged.sha256, kind: kind) else { throw .internalError("invalid archive digest") }
        let location = ArchiveLocation(key: address.key)
        if objects[location] == nil {
            guard let bytes = FileSystem.read(staged.path, exactly: Int(staged.size)) else { throw .internalError("unreadable \(staged.path)") }
            objects[location] = Object(bytes: bytes, sha256: staged.sha256, recordedSHA256: staged.sha256)
        }
        return location
    }

    public func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) {
        _ = unlink(staged.path)
    }

    public func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? {
        objects[location].map { ExistingArchive(sha256: $0.recordedSHA256, size: Int64($0.bytes.count)) }
    }

    public func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? {
        guard let object = objects[location] else { return nil }
        guard object.bytes.count <= limit else { throw .init(.payloadTooLarge, "\(location.key) is larger than \(limit) bytes") }
        staged += 1
        let path = stagingDirectory + "/import-\(getpid())-memory\(staged).partial"
        do { try FileSystem.writeExclusive(path, object.bytes, mode: 0o640) } catch {
            throw .unavailable("archive staging", detail: "\(error)")
        }
        return StagedArchive(path: path, size: Int64(object.bytes.count), sha256: object.sha256)
    }

    public func remove(_ location: ArchiveLocation) async throws(RegistryError) {
        guard location.bucket == nil else { return }
        objects[location] = nil
    }

    /// A user's object is checked against the digest recorded for the version, as S3's is.
    public func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        let name = "\(location.bucket.map { "s3://\($0)/" } ?? "memory://")\(location.key)"
        guard let object = objects[location] else {
            guard location.bucket == nil else { throw .init(.upstreamMismatch, "\(name) no longer exists") }
            throw .notFound("archive not found")
        }
        guard location.bucket == nil || object.recordedSHA256 == sha256 else {
            throw .init(.upstreamMismatch, "\(name) changed after it was registered: its SHA-256 is not the recorded one, so it is not served")
        }
        return .url(name + "?expires=\(seconds)")
    }

    public func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile {
        throw .notFound("archive not found")
    }

    public nonisolated func isCanonicalKey(_ key: String) -> Bool { key.hasPrefix("sha256/") }
}
