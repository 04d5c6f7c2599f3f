import Glibc
import TFRegSystem

extension TarWriter {
    /// Writes an uncompressed tar of `names` (regular files directly in `directory`, links not
    /// followed) to the new file `output` (mode 0600): what `tfreg provider publish` and `tfreg mirror
    /// pull` upload. Each file is copied in 64 KiB chunks as it is written, so a provider zip of
    /// hundreds of megabytes never has to fit in memory.
    public static func writeFiles(_ names: [String], in directory: String, toFile output: String) throws(ArchiveError) {
        let fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ArchiveError("cannot create \(output) (errno \(errno))") }
        let written = Result { () throws(ArchiveError) in
            for name in names { try copyFile(name, from: directory, to: fd) }
            guard FileSystem.write(fd: fd, [UInt8](repeating: 0, count: 1024)) else { throw ArchiveError("cannot write \(output) (errno \(errno))") }
        }
        close(fd)
        do throws(ArchiveError) { try written.get() } catch {
            unlink(output)
            throw error
        }
    }

    /// One regular file's header, bytes and padding.
    static func copyFile(_ name: String, from directory: String, to out: Int32) throws(ArchiveError) {
        let path = directory + "/" + name
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw ArchiveError("cannot read \(path) (errno \(errno))") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { throw ArchiveError("\(path) is not a regular file") }
        let size = Int64(st.st_size)
        let header = try TarFormat.headers(path: Array(name.utf8), type: TarFormat.regular, mode: 0o644, size: size, link: [])
        guard FileSystem.write(fd: out, header) else { throw ArchiveError("cannot write the tar (errno \(errno))") }
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        var left = size
        while left > 0 {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, Int(min(Int64($0.count), left))) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { throw ArchiveError("\(path) changed while it was read") }
            let ok = buffer.withUnsafeBytes { FileSystem.write(fd: out, UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            guard ok else { throw ArchiveError("cannot write the tar (errno \(errno))") }
            left -= Int64(n)
        }
        guard FileSystem.write(fd: out, [UInt8](repeating: 0, count: TarFormat.padding(size))) else {
            throw ArchiveError("cannot write the tar (errno \(errno))")
        }
    }
}
