#if canImport(Glibc)
import Glibc
#endif

/// Packs a module directory into a deterministic `.tar.gz`: entries sorted by path, owner/group 0,
/// mtime 0, modes normalised to 0644/0755, and `.git`, `.terraform`, `*.tfstate*` left out.
/// The same tree always gives byte-identical output, so the archive's SHA-256 identifies the content.
public enum ModulePacker {
    public static func isExcluded(_ name: String) -> Bool {
        name == ".git" || name == ".terraform" || name.contains(".tfstate")
    }

    public static func entries(ofDirectory root: String) throws(ArchiveError) -> [TarEntry] {
        var entries: [TarEntry] = []
        try walk(root: root, relative: "", into: &entries)
        entries.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        return entries
    }

    public static func pack(directory root: String) throws(ArchiveError) -> [UInt8] {
        let entries = try entries(ofDirectory: root)
        guard entries.contains(where: { e in
            if case .file = e.kind { return e.path.hasSuffix(".tf") || e.path.hasSuffix(".tf.json") }
            return false
        }) else {
            throw ArchiveError("\(root) contains no Terraform files (*.tf or *.tf.json)")
        }
        // Through the server's canonicalizer: the packed bytes are exactly what the registry will store.
        return try ArchiveCanonicalization.canonicalize(bytes: Gzip.compress(TarWriter.archive(entries))).archive
    }

    private static func walk(root: String, relative: String, into entries: inout [TarEntry]) throws(ArchiveError) {
        let dirPath = relative.isEmpty ? root : root + "/" + relative
        guard let dir = opendir(dirPath) else { throw ArchiveError("cannot read directory \(dirPath)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." || isExcluded(name) { continue }
            names.append(name)
        }
        for name in names {
            let rel = relative.isEmpty ? name : relative + "/" + name
            let full = root + "/" + rel
            var st = stat()
            guard lstat(full, &st) == 0 else { throw ArchiveError("cannot stat \(full)") }
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                entries.append(TarEntry(path: rel, kind: .directory))
                try walk(root: root, relative: rel, into: &entries)
            case S_IFREG:
                let data = try readFile(full)
                let exec = st.st_mode & 0o111 != 0
                entries.append(TarEntry(path: rel, kind: .file(data), mode: exec ? 0o755 : 0o644))
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: 4097)
                let n = readlink(full, &buf, 4096)
                guard n > 0 else { throw ArchiveError("cannot read link \(full)") }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                var depth = rel.split(separator: "/").count - 1
                var escapes = target.hasPrefix("/")
                for part in target.split(separator: "/") where part != "." {
                    depth += part == ".." ? -1 : 1
                    if depth < 0 { escapes = true }
                }
                if escapes { throw ArchiveError("symlink \(rel) points outside the module directory") }
                entries.append(TarEntry(path: rel, kind: .symlink(target: target), mode: 0o777))
            default:
                throw ArchiveError("\(rel) is not a regular file, directory or symlink")
            }
        }
    }

    static func readFile(_ path: String) throws(ArchiveError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError("cannot open \(path)") }
        defer { close(fd) }
        var out: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0 { throw ArchiveError("cannot read \(path)") }
            if n == 0 { break }
            out += buf[0..<n]
        }
        return out
    }
}
