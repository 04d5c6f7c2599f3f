import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// One entry of a canonical archive, in archive order.
public struct CanonicalEntry: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        case file(size: Int64, executable: Bool)
        case directory
        case symlink(target: String)
    }
    /// Relative path without a trailing '/'.
    public let path: String
    public let kind: Kind

    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    /// The name as it appears in the archive (and in `tar -t`): directories end with '/'.
    public var archiveName: String {
        if case .directory = kind { return path + "/" }
        return path
    }

    public var description: String {
        switch kind {
        case .file(let size, let x): return "\(path) (\(size) bytes\(x ? ", executable" : ""))"
        case .directory: return path + "/"
        case .symlink(let target): return "\(path) -> \(target)"
        }
    }
}

/// The registry's canonical archives: read an upload with the one strict reader (`GzipReader` +
/// `StrictTarReader`), check its paths and links as a whole, and write it again in exactly one form.
/// The canonical bytes are what the registry hashes, stores and serves, so no difference between
/// readers can reach a consumer. The format is specified in docs/architecture.md, "Canonical archives".
public enum ArchiveCanonicalization {
    /// The same code path in memory (for fuzzing and tests): canonical archive bytes and its entries.
    public static func canonicalize(
        bytes: [UInt8],
        limits: ArchiveLimits = ArchiveLimits()
    ) throws(ArchiveError) -> (
        archive: [UInt8], entries: [CanonicalEntry]
    ) {
        let sink = MemoryByteSink()
        let result = try run(source: MemoryByteSource(bytes), spool: MemorySpool(), sink: sink, limits: limits)
        return (sink.bytes, result.entries)
    }

    /// Reads `source` completely, then writes the canonical archive to `sink`.
    static func run(
        source: any ByteSource,
        spool: any DataSpool,
        sink: any ByteSink,
        limits: ArchiveLimits
    )
        throws(ArchiveError) -> (entries: [CanonicalEntry], size: Int64, sha256: [UInt8])
    {
        let gz = try GzipReader(source: source, maximumOutput: limits.maximumExpandedBytes)
        let reader = StrictTarReader(gzip: gz, limits: limits, spool: spool)
        try reader.readAll()
        let planned = try plan(reader.entries, limits: limits)
        let hashing = HashingSink(sink)
        try write(planned, from: spool, to: hashing, limits: limits)
        return (planned.map(\.entry), hashing.count, hashing.finalize())
    }

    // MARK: Planning

    struct Planned {
        var path: [UInt8]
        var entry: CanonicalEntry
        var spoolOffset: Int64
    }

    /// The name a case-insensitive, normalization-insensitive file system (macOS, Windows) would see:
    /// a Swift `String` compares and hashes by Unicode canonical equivalence, and ASCII letters are
    /// lowercased. That is the full Unicode case fold of every name the reader accepts: it refuses any
    /// other character that changes under case folding (`ς`, `µ`, `ſ`, `ß`, `ﬀ`, capitals), which
    /// `lowercased()` would have missed. Paths are valid UTF-8 (checked by the reader).
    static func fold(_ path: [UInt8]) -> String {
        String(decoding: path.map(ASCII.lowercased), as: UTF8.self)
    }

    static func join(_ components: ArraySlice<[UInt8]>) -> [UInt8] {
        Array(components.joined(separator: [UInt8(ascii: "/")]))
    }

    /// Checks the entries as a whole and decides the canonical list: no duplicates (also by letter case
    /// and Unicode normalization), no entry inside a file or a symlink, every parent directory explicit,
    /// symlinks resolved lexically against their directory, inside the module, never to or through
    /// another symlink, never to their own directory or an ancestor, no loop through several links,
    /// targets written in shortest relative form; sorted by path bytes.
    static func plan(_ entries: [ReadEntry], limits: ArchiveLimits) throws(ArchiveError) -> [Planned] {
        var recorded = 0
        return try plan(entries, limits: limits, pathsRecorded: &recorded)
    }

    /// `pathsRecorded` counts the paths (explicit and implied) put in the path table, so that tests can
    /// show how much work an archive caused before it was refused: every path is counted against
    /// `maximumEntries` as it is recorded, so an upload that implies more directories than the limit
    /// is refused after at most that many, whatever it implies.
    static func plan(
        _ entries: [ReadEntry],
        limits: ArchiveLimits,
        pathsRecorded: inout Int
    ) throws(ArchiveError) -> [Planned] {
        enum Seen { case file, directory, symlink }
        var byKey: [String: (path: [UInt8], kind: Seen)] = [:]
        var dirs: [[[UInt8]]] = []
        func record(_ key: String, _ path: [UInt8], _ kind: Seen) throws(ArchiveError) {
            guard byKey.count < limits.maximumEntries else {
                throw ArchiveError(
                    "the archive has more than \(limits.maximumEntries) entries (with its implied directories)"
                )
            }
            byKey[key] = (path, kind)
            pathsRecorded += 1
        }
        for e in entries {
            let path = join(e.components[...])
            let kind: Seen
            switch e.kind {
            case .file: kind = .file
            case .directory: kind = .directory
            case .symlink: kind = .symlink
            }
            let key = fold(path)
            if let other = byKey[key] {
                let shown = StrictTarReader.printable(path)
                if other.path == path { throw ArchiveError("entry \(shown) appears more than once") }
                throw ArchiveError(
                    "entries \(StrictTarReader.printable(other.path)) and \(shown) differ only in letter case or Unicode normalization"
                )
            }
            try record(key, path, kind)
        }
        // Parents: they must be directories, and are added where the archive left them implicit, each
        // counted against the limit as it is added. The walk up stops at the first parent already known
        // as a directory: every entry walks its own chain, so that parent's ancestors are checked by its
        // own walk (linear, not quadratic, in the depth of deep trees).
        for e in entries {
            for n in stride(from: e.components.count - 1, to: 0, by: -1) {
                let parent = join(e.components[..<n])
                let key = fold(parent)
                if let seen = byKey[key] {
                    guard seen.path == parent else {
                        throw ArchiveError(
                            "entries \(StrictTarReader.printable(seen.path)) and \(StrictTarReader.printable(parent)) differ only in letter case or Unicode normalization"
                        )
                    }
                    switch seen.kind {
                    case .directory: break
                    case .file:
                        throw ArchiveError(
                            "entry \(StrictTarReader.printable(join(e.components[...]))) is inside \(StrictTarReader.printable(parent)), which is a file"
                        )
                    case .symlink:
                        throw ArchiveError(
                            "entry \(StrictTarReader.printable(join(e.components[...]))) passes through the symlink \(StrictTarReader.printable(parent))"
                        )
                    }
                    break
                } else {
                    try record(key, parent, .directory)
                    dirs.append(Array(e.components[..<n]))
                }
            }
        }
        var planned: [Planned] = []
        planned.reserveCapacity(byKey.count)
        for d in dirs {
            planned.append(
                Planned(
                    path: join(d[...]),
                    entry: CanonicalEntry(path: String(decoding: join(d[...]), as: UTF8.self), kind: .directory),
                    spoolOffset: 0
                )
            )
        }
        var directoryLinks = SymlinkLoops()
        for e in entries {
            let path = join(e.components[...])
            let name = String(decoding: path, as: UTF8.self)
            switch e.kind {
            case .file(let offset, let size, let executable):
                planned.append(
                    Planned(
                        path: path,
                        entry: CanonicalEntry(path: name, kind: .file(size: size, executable: executable)),
                        spoolOffset: offset
                    )
                )
            case .directory:
                planned.append(Planned(path: path, entry: CanonicalEntry(path: name, kind: .directory), spoolOffset: 0))
            case .symlink(let raw):
                let link = try resolveLink(raw, at: e.components) { key in
                    byKey[key].map { ($0.path, $0.kind == .symlink) }
                }
                if byKey[fold(join(link.resolved[...]))]?.kind == .directory {
                    directoryLinks.add(path: path, directory: e.components.dropLast(), target: link.resolved)
                }
                planned.append(
                    Planned(
                        path: path,
                        entry: CanonicalEntry(
                            path: name,
                            kind: .symlink(target: String(decoding: link.target, as: UTF8.self))
                        ),
                        spoolOffset: 0
                    )
                )
            }
        }
        try directoryLinks.refuseLoops()
        planned.sort { $0.path.lexicographicallyPrecedes($1.path) }
        return planned
    }

    /// Resolves a symlink target lexically against the link's directory. Refuses absolute targets,
    /// targets leaving the module, targets that are the link's own directory or one of its ancestors
    /// (the module root included: a loop for anything that follows links), and targets that are, or
    /// pass through, another symlink (chains). Returns the shortest relative form (leading ".."
    /// components, then names; "." for the link's own directory) and the resolved path's components.
    static func resolveLink(
        _ raw: [UInt8],
        at components: [[UInt8]],
        lookup: (String) -> (path: [UInt8], isSymlink: Bool)?
    ) throws(ArchiveError) -> (target: [UInt8], resolved: [[UInt8]]) {
        let shown = StrictTarReader.printable(join(components[...]))
        try StrictTarReader.checkCharacters(raw, "the target of symlink \(shown)")
        guard raw.first != UInt8(ascii: "/") else { throw ArchiveError("symlink \(shown) points to an absolute path") }
        let base = Array(components.dropLast())
        let resolution = try LexicalPath.resolve(raw, in: base) { (name: [UInt8]) throws(ArchiveError) in
            guard name.count <= StrictTarReader.maximumComponentBytes else {
                throw ArchiveError("the target of symlink \(shown) has a name component over 255 bytes")
            }
        }
        guard let resolved = resolution else { throw ArchiveError("symlink \(shown) points outside the module") }
        if resolved.count <= base.count && fold(join(resolved[...])) == fold(join(base[..<resolved.count])) {
            throw ArchiveError(
                "symlink \(shown) points to its own directory or one of its parents: a loop for anything that follows links"
            )
        }
        var prefix: [UInt8] = []
        for n in stride(from: 1, through: resolved.count, by: 1) {
            // Built incrementally: one pass over the target, however deep.
            if n > 1 { prefix.append(UInt8(ascii: "/")) }
            prefix += resolved[n - 1]
            guard let seen = lookup(fold(prefix)) else { break }  // nothing below a missing path
            if seen.isSymlink {
                let other = StrictTarReader.printable(seen.path)
                if n == resolved.count {
                    throw ArchiveError(
                        "symlink \(shown) points to the symlink \(other); links to links are not accepted"
                    )
                }
                throw ArchiveError("symlink \(shown) points through the symlink \(other)")
            }
        }
        var common = 0
        while common < base.count && common < resolved.count && base[common] == resolved[common] { common += 1 }
        let parts =
            Array(repeating: [UInt8(ascii: "."), UInt8(ascii: ".")], count: base.count - common) + resolved[common...]
        let target = parts.isEmpty ? [UInt8(ascii: ".")] : join(parts[...])
        guard target.count <= StrictTarReader.maximumPathBytes else {
            throw ArchiveError("the target of symlink \(shown) is too long")
        }
        return (target, resolved)
    }

    // MARK: Writing

    /// Writes the planned entries as one gzip member of canonical tar (see `TarFormat`).
    static func write(
        _ planned: [Planned],
        from spool: any DataSpool,
        to sink: any ByteSink,
        limits: ArchiveLimits
    )
        throws(ArchiveError)
    {
        var headers: [[UInt8]] = []
        headers.reserveCapacity(planned.count)
        var expanded: Int64 = 1024
        for p in planned {
            var path = p.path
            let header: [UInt8]
            var size: Int64 = 0
            switch p.entry.kind {
            case .file(let s, let executable):
                size = s
                header = try TarFormat.headers(
                    path: path,
                    type: TarFormat.regular,
                    mode: executable ? 0o755 : 0o644,
                    size: s,
                    link: []
                )
            case .directory:
                path.append(UInt8(ascii: "/"))
                header = try TarFormat.headers(path: path, type: TarFormat.directory, mode: 0o755, size: 0, link: [])
            case .symlink(let target):
                header = try TarFormat.headers(
                    path: path,
                    type: TarFormat.symlink,
                    mode: 0o755,
                    size: 0,
                    link: Array(target.utf8)
                )
            }
            expanded += Int64(header.count) + size + Int64(TarFormat.padding(size))
            guard expanded <= limits.maximumExpandedBytes else {
                throw ArchiveError(
                    "the canonical archive would expand to more than \(limits.maximumExpandedBytes) bytes"
                )
            }
            headers.append(header)
        }
        let gz = try GzipWriter(sink: sink)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
        defer { buffer.deallocate() }
        let zeros = [UInt8](repeating: 0, count: 1024)
        for (p, header) in zip(planned, headers) {
            try gz.write(header)
            guard case .file(let size, _) = p.entry.kind else { continue }
            var offset = p.spoolOffset
            var left = size
            while left > 0 {
                let n = Int(min(left, Int64(buffer.count)))
                let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[0..<n])
                try spool.read(at: offset, into: chunk)
                try gz.write(UnsafeRawBufferPointer(chunk))
                offset += Int64(n)
                left -= Int64(n)
            }
            try gz.write(Array(zeros[0..<TarFormat.padding(size)]))
        }
        try gz.write(zeros)
        try gz.finish()
    }
}

/// The server's canonicalizer: upload file in, canonical file out (created exclusively, 0640, fsynced),
/// file data spooled in an unlinked temporary file next to the output (zero runs left as holes).
/// A module must also contain at least one `.tf` or `.tf.json` file.
public struct TarGzCanonicalizer: ArchiveCanonicalizer {
    public let limits: ArchiveLimits
    public init(limits: ArchiveLimits = ArchiveLimits()) { self.limits = limits }

    public func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive {
        let out = open(output, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard out >= 0 else { throw .unavailable("archive storage", detail: "create \(output): errno \(errno)") }
        var keep = false
        defer {
            close(out)
            if !keep { unlink(output) }
        }
        let spool: FileSpool
        let source: FileByteSource
        do throws(ArchiveError) {
            spool = try FileSpool(path: output + ".spool")
            source = try FileByteSource(path: input)
        } catch {
            throw .unavailable("archive storage", detail: "canonicalize \(input): \(error.message)")
        }
        let result: (entries: [CanonicalEntry], size: Int64, sha256: [UInt8])
        do throws(ArchiveError) {
            result = try ArchiveCanonicalization.run(
                source: source,
                spool: spool,
                sink: FileByteSink(fd: out),
                limits: limits
            )
            guard result.entries.contains(where: Self.isTerraformFile) else {
                throw ArchiveError("the archive contains no Terraform files (*.tf or *.tf.json)")
            }
        } catch {
            throw .badRequest("invalid module archive: \(error.message)")
        }
        guard fsync(out) == 0 else { throw .unavailable("archive storage", detail: "fsync \(output): errno \(errno)") }
        keep = true
        return CanonicalArchive(size: result.size, sha256: Hex.encode(result.sha256), entries: result.entries.count)
    }

    /// The canonical entries of the archive at `path`, without keeping the canonical bytes.
    public func entries(path: String) throws(ArchiveError) -> [CanonicalEntry] {
        let spoolPath = "/tmp/tfreg-entries-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).spool"
        return try ArchiveCanonicalization.run(
            source: FileByteSource(path: path),
            spool: FileSpool(path: spoolPath),
            sink: NullSink(),
            limits: limits
        ).entries
    }

    static func isTerraformFile(_ e: CanonicalEntry) -> Bool {
        guard case .file = e.kind else { return false }
        return e.path.hasSuffix(".tf") || e.path.hasSuffix(".tf.json")
    }
}

// MARK: Sinks and spools

/// Counts and hashes what passes through.
final class HashingSink: ByteSink {
    private let inner: any ByteSink
    private var hasher: SHA256.Hasher? = SHA256.Hasher()
    private(set) var count: Int64 = 0
    init(_ inner: any ByteSink) { self.inner = inner }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        hasher?.update(bytes)
        count += Int64(bytes.count)
        try inner.write(bytes)
    }

    func finalize() -> [UInt8] {
        guard let h = hasher.take() else { return [] }
        return h.finalize()
    }
}

final class NullSink: ByteSink {
    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {}
}

/// Holds file data between reading and writing (the canonical order differs from the upload's).
protocol DataSpool: AnyObject {
    var length: Int64 { get }
    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError)
    /// Fills `buffer` with the bytes at `offset`, which were appended before.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError)
}

final class MemorySpool: DataSpool {
    private var bytes: [UInt8] = []
    var length: Int64 { Int64(bytes.count) }
    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) { self.bytes.append(contentsOf: bytes) }
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) {
        guard let start = Int(exactly: offset), start >= 0, start <= bytes.count - buffer.count else {
            throw ArchiveError("spool read out of range")
        }
        bytes.withUnsafeBytes {
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[start..<(start + buffer.count)]))
        }
    }
}

/// An unlinked temporary file; all-zero chunks are skipped (left as holes), so a zero bomb costs no disk.
final class FileSpool: DataSpool {
    private let fd: Int32
    private(set) var length: Int64 = 0

    init(path: String) throws(ArchiveError) {
        fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ArchiveError("cannot create a spool file (errno \(errno))") }
        unlink(path)
    }
    deinit { close(fd) }

    func append(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        if isAllZero(bytes) {
            length += Int64(bytes.count)
            return
        }
        var off = 0
        while off < bytes.count {
            let n = pwrite(fd, bytes.baseAddress.map { $0 + off }, bytes.count - off, off_t(length) + off_t(off))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw ArchiveError("cannot write the spool file (errno \(errno))") }
            off += n
        }
        length += Int64(bytes.count)
    }

    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) {
        var off = 0
        while off < buffer.count {
            let n = pread(fd, buffer.baseAddress.map { $0 + off }, buffer.count - off, off_t(offset) + off_t(off))
            if n < 0 && errno == EINTR { continue }
            if n < 0 { throw ArchiveError("cannot read the spool file (errno \(errno))") }
            if n == 0 {
                // A trailing hole: zeros up to the logical length.
                guard offset + Int64(buffer.count) <= length else { throw ArchiveError("spool read out of range") }
                UnsafeMutableRawBufferPointer(rebasing: buffer[off...]).initializeMemory(as: UInt8.self, repeating: 0)
                return
            }
            off += n
        }
    }
}

/// Whether every byte is zero, compared 64 KiB at a time with `memcmp` (fast even in debug builds).
func isAllZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var off = 0
    while off < bytes.count {
        let n = min(zeroPage.count, bytes.count - off)
        guard let base = bytes.baseAddress, let zero = zeroPage.baseAddress, memcmp(base + off, zero, n) == 0 else {
            return false
        }
        off += n
    }
    return true
}

private nonisolated(unsafe) let zeroPage: UnsafeRawBufferPointer = {
    let p = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 16)
    p.initializeMemory(as: UInt8.self, repeating: 0)
    return UnsafeRawBufferPointer(p)
}()
