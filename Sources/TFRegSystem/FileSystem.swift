import Glibc

/// Small POSIX file helpers: the one place tfreg reads a whole file, writes one, or walks a
/// directory. Synchronous; callers on the cooperative pool go through `Blocking.run` for large files.
public enum FileSystem {
    /// Reads a whole file of at most `limit` bytes: nil when it cannot be opened or read, or is larger.
    /// `noFollow`: nil for a symbolic link too (files in the data directory and in backups).
    public static func read(_ path: String, limit: Int = 16 << 20, noFollow: Bool = false) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (noFollow ? O_NOFOLLOW | O_NONBLOCK : 0))
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let (bytes, complete) = read(fd: fd, limit: limit), complete else { return nil }
        return bytes
    }

    /// A whole file as UTF-8 text (invalid sequences repaired), nil when it cannot be read.
    public static func readText(_ path: String, limit: Int = .max) -> String? {
        read(path, limit: limit).map { String(decoding: $0, as: UTF8.self) }
    }

    /// A file's bytes up to end of file, or the first ones once more than `limit` have been read
    /// (the caller's own size check then refuses them). Nil when it cannot be opened or read.
    public static func readPrefix(_ path: String, limit: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        return read(fd: fd, limit: limit)?.bytes
    }

    /// Reads a whole file, throwing what failed (for callers that report the path). `noFollow`: refuse a
    /// symlink (a file decided as regular must still be one when it is read).
    public static func readAll(_ path: String, noFollow: Bool = false) throws(SystemError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | (noFollow ? O_NOFOLLOW : 0))
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        guard let (bytes, _) = read(fd: fd, limit: .max) else { throw SystemError("read", path) }
        return bytes
    }

    /// Reads exactly `count` bytes from the start of a file: nil when it cannot be read or is shorter.
    public static func read(_ path: String, exactly count: Int) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < out.count {
            let n = out.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + done, $0.count - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return out
    }

    /// Reads `fd` to end of file or until more than `limit` bytes arrived (`complete` false then;
    /// the bytes read so far are returned). Nil on a read error.
    public static func read(fd: Int32, limit: Int) -> (bytes: [UInt8], complete: Bool)? {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while out.count <= limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n < 0 { return nil }
            if n == 0 { return (out, true) }
            out += buf[0..<n]
        }
        return (out, false)
    }

    /// Standard input up to end of file, at most about `limit` bytes (stops reading beyond; errors end it).
    public static func readStandardInput(limit: Int = 1 << 20) -> [UInt8] {
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 4096)
        while out.count < limit {
            let n = buf.withUnsafeMutableBytes { Glibc.read(0, $0.baseAddress, $0.count) }
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { break }
            out += buf[0..<n]
        }
        return out
    }

    /// Writes all of `bytes` to `fd` (retrying short writes and EINTR); false when a write fails,
    /// with `errno` still that write's.
    @discardableResult
    public static func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
        var off = 0
        while off < bytes.count {
            let n = Glibc.write(fd, bytes.baseAddress! + off, bytes.count - off)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { return false }
            off += n
        }
        return true
    }

    /// See `write(fd:_:)` above.
    @discardableResult
    public static func write(fd: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { write(fd: fd, $0) }
    }

    /// Writes a file atomically (temp file, fsync, rename) with `mode`; refuses to follow a symlink.
    public static func writeAtomically(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemError) {
        let tmp = path + ".tmp-\(getpid())"
        let fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SystemError("create", tmp) }
        let ok = write(fd: fd, bytes) && fchmod(fd, mode) == 0 && fsync(fd) == 0
        close(fd)
        guard ok, rename(tmp, path) == 0 else {
            let failed = SystemError("write", path)
            unlink(tmp)
            throw failed
        }
    }

    /// Creates `path` (never an existing file, never through a symlink), writes `bytes`, fsyncs;
    /// removes the file again when writing fails.
    public static func writeExclusive(_ path: String, _ bytes: [UInt8], mode: mode_t) throws(SystemError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode)
        guard fd >= 0 else { throw SystemError("create", path) }
        defer { close(fd) }
        guard write(fd: fd, bytes), fsync(fd) == 0 else {
            let failed = SystemError("write", path)
            _ = unlink(path)
            throw failed
        }
    }

    /// `mkdir -p` with `mode` for every directory it creates.
    public static func makeDirectories(_ path: String, mode: mode_t) throws(SystemError) {
        var current = path.hasPrefix("/") ? "" : "."
        for part in path.split(separator: "/") {
            current += "/" + part
            if mkdir(current, mode) != 0 && errno != EEXIST {
                throw SystemError("mkdir", current)
            }
        }
    }

    /// fsyncs a directory, so a rename or link in it is durable.
    public static func fsyncDirectory(_ path: String) throws(SystemError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemError("fsync", path) }
    }

    /// The names in a directory (without "." and ".."); empty when it cannot be read.
    public static func list(_ path: String) -> [String] {
        guard let dir = opendir(path) else { return [] }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    public static func exists(_ path: String) -> Bool {
        var st = stat()
        return stat(path, &st) == 0
    }
}
