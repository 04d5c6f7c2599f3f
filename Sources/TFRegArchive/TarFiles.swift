import Glibc

extension TarWriter {
    /// Writes an uncompressed tar of `names` (regular files directly in `directory`, links not
    /// followed) to the new file `output` (mode 0600): what `tfreg provider publish` uploads. Each file
    /// is read while it is written, one at a time.
    public static func writeFiles(_ names: [String], in directory: String, toFile output: String) throws(ArchiveError) {
        let fd = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ArchiveError("cannot create \(output) (errno \(errno))") }
        let written = Result { () throws(ArchiveError) in
            try write(names.map { TarEntry(path: $0, kind: .file([])) }, to: FileByteSink(fd: fd), contentsFrom: directory)
        }
        close(fd)
        do throws(ArchiveError) { try written.get() } catch {
            unlink(output)
            throw error
        }
    }
}
