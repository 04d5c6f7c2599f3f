import TFRegAWS
import TFRegCore
import TFRegCrypto

#if canImport(Glibc)
import Glibc
#endif

/// `ArchiveStorage` in S3: uploads go to `s3://BUCKET/PREFIX NS/NAME/SYSTEM/VERSION/SHA256.tar.gz` with
/// S3 verifying and recording their SHA-256; downloads are presigned GETs (the key ends in `.tar.gz`,
/// which is how Terraform picks the archive type). Archives a user brought (`create`) keep their own
/// bucket and key and are read with GetObjectAttributes.
public struct S3ArchiveStorage: ArchiveStorage {
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
            .init(.forbidden, "access denied: the registry may not read \(what); grant it s3:GetObject and s3:GetObjectAttributes", detail: e.description)
        default:
            .unavailable("archive storage (S3)", detail: e.description)
        }
    }

    public func put(_ staged: StagedArchive, module: ModuleAddress, version: Version) async throws(RegistryError) -> ArchiveLocation {
        defer { _ = unlink(staged.path) }
        guard let bucket else {
            throw .badRequest("this registry has no archive bucket of its own: upload the archive to S3 and register it with create")
        }
        guard let bytes = FileSystemRead.all(staged.path, expected: staged.size) else {
            throw .internalError("staged archive \(staged.path) is unreadable")
        }
        let key = prefix + "\(module)/\(version)/\(staged.sha256).tar.gz"
        do {
            try await s3.putObject(bucket: bucket, key: key, body: bytes)
        } catch {
            throw Self.map(error, "s3://\(bucket)/\(key)")
        }
        // The key lives under this registry's own bucket and prefix; `bucket == nil` says so, which
        // also means deleting the version removes the object.
        return ArchiveLocation(bucket: nil, key: key)
    }

    public func remove(_ location: ArchiveLocation) async throws(RegistryError) {
        guard location.bucket == nil, let bucket else { return }
        do { try await s3.deleteObject(bucket: bucket, key: location.key) } catch {
            if error.kind == .notFound { return }
            throw Self.map(error, "s3://\(bucket)/\(location.key)")
        }
    }

    public func delivery(for location: ArchiveLocation, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        guard let b = location.bucket ?? bucket else { throw .notFound("archive not found") }
        do {
            return .url(try await s3.presignedURL(bucket: b, key: location.key, expires: seconds))
        } catch {
            throw .unavailable("archive storage (S3)", detail: "presigning: \(error)")
        }
    }

    public func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile {
        throw .notFound("archive not found")
    }

    public func existingArchive(at location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive {
        guard let b = location.bucket ?? bucket else { throw .badRequest("name the bucket of the archive") }
        let name = "s3://\(b)/\(location.key)"
        let attributes: S3ObjectAttributes?
        do { attributes = try await s3.objectAttributes(bucket: b, key: location.key) } catch { throw Self.map(error, name) }
        guard let attributes else { throw .badRequest("\(name) does not exist") }
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

/// Reads a whole staged file (bounded by the upload limit that staged it).
enum FileSystemRead {
    static func all(_ path: String, expected: Int64) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: Int(expected))
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return out
    }
}
