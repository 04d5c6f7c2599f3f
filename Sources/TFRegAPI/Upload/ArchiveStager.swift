import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// Writes an upload body to a new file in the staging directory while hashing it, enforcing the size
/// limit as bytes arrive, and fsyncs it; a failed or oversized upload leaves no file behind.
enum ArchiveStager {
    /// `expected` names what the body should hold, for the message when it is empty.
    static func stage(
        _ body: APIRequestBody,
        into directory: String,
        limit: Int64,
        expected: String = "the module archive (.tar.gz)"
    ) async throws(RegistryError) -> StagedArchive {
        // The writer's pid is in the name: at start, `serve` removes what dead processes left.
        let name = directory + "/upload-\(getpid())-" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        let fd = open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard fd >= 0 else { throw .unavailable("archive storage", detail: "create \(name): errno \(errno)") }
        let file = StagingFile(fd: fd, path: name)
        var hasher = SHA256.Hasher()
        var size: Int64 = 0
        do {
            try await body.forEachChunk { chunk in
                size += Int64(chunk.count)
                if size > limit {
                    throw RegistryError(.payloadTooLarge, "the archive is larger than the limit of \(limit) bytes")
                }
                hasher.update(chunk)
                try file.write(chunk)
            }
            guard size > 0 else { throw RegistryError.badRequest("the request body is empty: send \(expected)") }
            try await Blocking.run { () throws(RegistryError) in try file.syncAndClose() }
        } catch let e as RegistryError {
            file.abandon()
            throw e
        } catch {
            file.abandon()
            throw .badRequest("the upload was interrupted")
        }
        return StagedArchive(path: name, size: size, sha256: Hex.encode(hasher.finalize()))
    }
}

/// The staging file's descriptor, owned by one upload.
private final class StagingFile: @unchecked Sendable {
    let fd: Int32
    let path: String
    private var closed = false
    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    func write(_ bytes: [UInt8]) throws(RegistryError) {
        if !FileSystem.write(fd: fd, bytes) { throw .unavailable("archive storage", detail: "write \(path): errno \(errno)") }
    }

    func syncAndClose() throws(RegistryError) {
        let ok = fsync(fd) == 0
        close(fd)
        closed = true
        if !ok { throw .unavailable("archive storage", detail: "fsync \(path): errno \(errno)") }
    }

    func abandon() {
        if !closed {
            close(fd)
            closed = true
        }
        unlink(path)
    }
}
