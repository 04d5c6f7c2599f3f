import Glibc
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// `BlobStore` in S3, content-addressed and write-once: blobs go to `s3://BUCKET/PREFIX` +
/// `BlobAddress.key` (`sha256/HH/SHA256.tar.gz` for a module archive) with `If-None-Match: *` (an
/// existing object is never replaced) and S3 verifying and recording their SHA-256; downloads are
/// presigned GETs (the key ends in the kind's extension, which is how Terraform picks the archive
/// type). An archive a user brought (`create`) is read once (`head`, `get`) and imported into the
/// registry's own bucket by `RegistryService`. Versions the replaced tool registered
/// (pointing at a user's object) are still served, but only after GetObjectAttributes shows the
/// recorded SHA-256, and pinned to the object's version id where the bucket is versioned.
public struct S3ArchiveStorage: BlobStore {
    /// `create` registers an object in the user's bucket.
    public var registersExistingObjects: Bool { true }
    /// Only with a bucket of its own.
    public var acceptsWrites: Bool { bucket != nil }
    public let s3: S3Client
    /// The registry's own bucket; nil when it only registers objects users brought (`create`).
    public let bucket: String?
    /// Empty, or ends in `/`.
    public let prefix: String
    public let stagingDirectory: String

    /// `prefix` may be empty; a trailing `/` is added when missing.
    public init(s3: S3Client, bucket: String?, prefix: String, stagingDirectory: String) throws(RegistryError) {
        var p = prefix
        while p.hasPrefix("/") { p.removeFirst() }
        if !p.isEmpty && !p.hasSuffix("/") { p += "/" }
        if let bucket {
            _ = try ArchiveLocation.external(bucket: bucket, key: "probe.tar.gz")
            if !p.isEmpty { _ = try ArchiveLocation.external(bucket: bucket, key: p + "probe.tar.gz") }
        }
        self.s3 = s3
        self.bucket = bucket
        self.prefix = p
        self.stagingDirectory = stagingDirectory
    }

    /// Parses `s3://BUCKET` or `s3://BUCKET/PREFIX`.
    public static func parse(_ url: String) throws(RegistryError) -> (bucket: String, prefix: String) {
        guard url.hasPrefix("s3://") else { throw .badRequest("storage must be s3://BUCKET[/PREFIX], got '\(url)'") }
        let rest = url.dropFirst(5)
        let bucket = String(rest.prefix { $0 != "/" })
        let prefix = String(rest.dropFirst(bucket.count).drop { $0 == "/" })
        _ = try ArchiveLocation.external(bucket: bucket, key: (prefix.isEmpty ? "" : prefix + "/") + "probe.tar.gz")
        return (bucket, prefix)
    }

    static func map(_ e: AWSError, _ what: String) -> RegistryError {
        switch e.kind {
        case .accessDenied:
            .init(
                .forbidden,
                "access denied: the registry may not read \(what); grant it s3:GetObject and s3:GetObjectAttributes",
                detail: e.description
            )
        default:
            e.isConfigurationProblem
                ? .misconfigured(
                    "archive storage (S3)",
                    explanation: "S3 refused a call on \(what) (\(e.code.isEmpty ? "no error code" : e.code), HTTP \(e.status)): \(e.advice)"
                )
                : .unavailable("archive storage (S3)", detail: e.description)
        }
    }

    public func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation {
        guard let bucket else {
            throw .badRequest("this registry has no archive bucket of its own: upload the archive to S3 and register it with create")
        }
        guard let address = BlobAddress(sha256: staged.sha256, kind: kind) else { throw .internalError("invalid archive digest") }
        guard let bytes = FileSystem.read(staged.path, exactly: Int(staged.size)) else {
            throw .internalError("staged archive \(staged.path) is unreadable")
        }
        let key = prefix + address.key
        do {
            // false: the object exists (same key, same digest, same bytes) and is left as it is.
            _ = try await s3.putObjectIfAbsent(bucket: bucket, key: key, body: bytes)
        } catch {
            throw Self.map(error, "s3://\(bucket)/\(key)")
        }
        // The key lives under this registry's own bucket and prefix; `bucket == nil` says so.
        return ArchiveLocation(bucket: nil, key: key)
    }

    /// Nothing in S3 removes unreferenced objects concurrently, so there is nothing to re-check.
    public func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) {
        _ = unlink(staged.path)
    }

    public func remove(_ location: ArchiveLocation) async throws(RegistryError) {
        guard location.bucket == nil, let bucket else { return }
        do { try await s3.deleteObject(bucket: bucket, key: location.key) } catch {
            if error.kind == .notFound { return }
            throw Self.map(error, "s3://\(bucket)/\(location.key)")
        }
    }

    public func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        guard let userBucket = location.bucket else {
            guard let bucket else { throw .notFound("archive not found") }
            do {
                return .url(try await s3.presignedURL(bucket: bucket, key: location.key, expires: seconds))
            } catch {
                throw .unavailable("archive storage (S3)", detail: "presigning: \(error)")
            }
        }
        // A user's object (registered by the replaced tool): its owner can overwrite it at any time,
        // so it is checked on every download and, where the bucket keeps versions, pinned.
        let name = "s3://\(userBucket)/\(location.key)"
        let found: (S3ObjectAttributes, versionId: String?)?
        do { found = try await s3.objectAttributesAndVersion(bucket: userBucket, key: location.key) } catch { throw Self.map(error, name) }
        guard let (attributes, versionId) = found else {
            throw .init(.upstreamMismatch, "\(name) no longer exists", detail: "legacy object missing")
        }
        let actual = attributes.checksumSHA256.flatMap { Base64.decode($0) }.flatMap { $0.count == 32 ? Hex.encode($0) : nil }
        guard let actual, constantTimeEquals(Array(actual.utf8), Array(sha256.utf8)) else {
            throw .init(
                .upstreamMismatch,
                "\(name) changed after it was registered: its SHA-256 is not the recorded one, so it is not served",
                detail: "legacy object checksum \(actual ?? "missing") != recorded \(sha256)"
            )
        }
        do {
            if let versionId {
                return .url(try await s3.presignedURL(bucket: userBucket, key: location.key, versionId: versionId, expires: seconds))
            }
            return .url(try await s3.presignedURL(bucket: userBucket, key: location.key, expires: seconds))
        } catch {
            throw .unavailable("archive storage (S3)", detail: "presigning: \(error)")
        }
    }

    public func isCanonicalKey(_ key: String) -> Bool { key.hasPrefix(prefix + "sha256/") }

    /// Reads an object (the registry's own, or a user's when `location` names a bucket) into a staged
    /// file, with the SHA-256 of the bytes read: what `RegistryService` imports or re-canonicalizes.
    public func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? {
        guard let b = location.bucket ?? bucket else { return nil }
        let name = "s3://\(b)/\(location.key)"
        // Streamed to the staging file (a provider release can be hundreds of MB on a 128 MB Lambda).
        let path = stagingDirectory + "/import-\(getpid())-" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        let size: Int64?
        do { size = try await s3.getObject(bucket: b, key: location.key, limit: limit, toFile: path) } catch {
            unlink(path)
            if error.status == 413 { throw .init(.payloadTooLarge, "\(name) is larger than the limit of \(limit) bytes") }
            throw Self.map(error, name)
        }
        guard let size else {
            unlink(path)
            return nil
        }
        guard let digest = SHA256.hash(fileAt: path) else {
            unlink(path)
            throw .unavailable("archive staging", detail: "cannot read \(path) back: errno \(errno)")
        }
        return StagedArchive(path: path, size: size, sha256: Hex.encode(digest))
    }

    public func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile {
        throw .notFound("archive not found")
    }

    public func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? {
        guard let b = location.bucket ?? bucket else { throw .badRequest("name the bucket of the archive") }
        let name = "s3://\(b)/\(location.key)"
        let attributes: S3ObjectAttributes?
        do { attributes = try await s3.objectAttributes(bucket: b, key: location.key) } catch { throw Self.map(error, name) }
        guard let attributes else { return nil }
        var sha: String?
        if let c = attributes.checksumSHA256 {
            guard let digest = Base64.decode(c), digest.count == 32 else {
                // A multipart upload's checksum is a checksum of part checksums ("…-N"): not the file's digest.
                throw .badRequest("\(name) has a composite (multipart) checksum; upload it in one PUT with --checksum-algorithm SHA256")
            }
            sha = Hex.encode(digest)
        }
        return ExistingArchive(sha256: sha, size: attributes.size ?? 0)
    }
}
