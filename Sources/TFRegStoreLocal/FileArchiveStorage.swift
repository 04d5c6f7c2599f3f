import TFRegCore

#if canImport(Glibc)
import Glibc
#endif

/// `ArchiveStorage` in a local directory: `<root>/archives/NS/NAME/SYSTEM/VERSION/SHA256.tar.gz`,
/// staged under `<root>/tmp` on the same filesystem so that storing is an atomic `rename`, with the
/// file and its directory fsynced. Clients download through the registry's signed archive route.
public struct FileArchiveStorage: ArchiveStorage {
    public let root: String
    public var archivesDirectory: String { root + "/archives" }
    public var stagingDirectory: String { root + "/tmp" }

    public init(root: String) throws(RegistryError) {
        self.root = root
        for dir in [root, root + "/archives", root + "/tmp"] {
            try FileSystem.makeDirectories(dir, mode: 0o750)
        }
    }

    /// The key for an archive: every part comes from a validated address, version and hex digest.
    static func key(module: ModuleAddress, version: Version, sha256: String) -> String {
        "\(module)/\(version)/\(sha256).tar.gz"
    }

    /// Keys are read back from the database; check them again before they touch the filesystem.
    static func isSafeKey(_ key: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+/".utf8)
        guard !key.isEmpty, key.utf8.count <= 512, key.utf8.allSatisfy(allowed.contains), !key.hasPrefix("/") else { return false }
        return key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    public func put(_ staged: StagedArchive, module: ModuleAddress, version: Version) async throws(RegistryError) -> ArchiveLocation {
        let key = Self.key(module: module, version: version, sha256: staged.sha256)
        let final = archivesDirectory + "/" + key
        let dir = String(final[..<final.lastIndex(of: "/")!])
        try FileSystem.makeDirectories(dir, mode: 0o750)
        guard rename(staged.path, final) == 0 else {
            let e = errno
            _ = unlink(staged.path)
            throw .unavailable("archive storage", detail: "rename to \(final): errno \(e)")
        }
        try FileSystem.fsyncDirectory(dir)
        return ArchiveLocation(bucket: nil, key: key)
    }

    public func remove(_ location: ArchiveLocation) async throws(RegistryError) {
        guard location.bucket == nil, Self.isSafeKey(location.key) else { return }
        let path = archivesDirectory + "/" + location.key
        if unlink(path) != 0 && errno != ENOENT {
            throw .unavailable("archive storage", detail: "unlink \(path): errno \(errno)")
        }
    }

    public func delivery(for location: ArchiveLocation, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        .servedByRegistry
    }

    public func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile {
        guard location.bucket == nil, Self.isSafeKey(location.key) else {
            throw .notFound("archive not found")
        }
        let path = archivesDirectory + "/" + location.key
        var st = stat()
        guard stat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw .init(.notFound, "archive not found", detail: "missing file \(path)")
        }
        return LocalArchiveFile(path: path, size: Int64(st.st_size))
    }
}

/// Small POSIX helpers shared by the local store and the CLI.
public enum FileSystem {
    public static func makeDirectories(_ path: String, mode: mode_t) throws(RegistryError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw .unavailable("storage", detail: "mkdir \(current): errno \(errno)")
            }
        }
    }

    public static func fsyncDirectory(_ path: String) throws(RegistryError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw .unavailable("storage", detail: "open \(path): errno \(errno)") }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw .unavailable("storage", detail: "fsync \(path): errno \(errno)") }
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }

    /// Reads a whole (small) file.
    public static func read(_ path: String, limit: Int = 16 << 20) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count <= limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 { return nil }
            if n == 0 { return out }
            out += buf[0..<n]
        }
        return nil
    }

    /// Writes a file atomically (temp file, fsync, rename) with `mode`; refuses to follow a symlink.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(RegistryError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw .unavailable("storage", detail: "create \(tmp): errno \(errno)") }
        var ok = bytes.withUnsafeBytes { buf in
            var off = 0
            while off < buf.count {
                let n = write(fd, buf.baseAddress! + off, buf.count - off)
                if n <= 0 { return false }
                off += n
            }
            return true
        }
        ok = ok && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            unlink(tmp)
            throw .unavailable("storage", detail: "write \(path): errno \(errno)")
        }
    }
}
