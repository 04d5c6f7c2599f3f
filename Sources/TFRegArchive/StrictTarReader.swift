import TFRegSystem

/// Limits that keep a hostile archive from using the server's memory, disk or time. They apply to
/// the whole upload (all gzip members together) and to the canonical archive written from it.
public struct ArchiveLimits: Sendable {
    public var maximumExpandedBytes: Int64
    public var maximumEntries: Int
    public init(maximumExpandedBytes: Int64 = 512 * 1024 * 1024, maximumEntries: Int = 20_000) {
        self.maximumExpandedBytes = maximumExpandedBytes
        self.maximumEntries = maximumEntries
    }
}

/// One entry as the strict reader understood it (before implied directories and sorting).
struct ReadEntry {
    enum Kind {
        /// Data at `offset` in the spool.
        case file(offset: Int64, size: Int64, executable: Bool)
        case directory
        case symlink(target: [UInt8])
    }
    var components: [[UInt8]]
    var kind: Kind
}

/// Reads a tar stream from a `GzipReader` strictly, to its very end: every header checksummed and
/// every numeric field range-checked without trapping arithmetic; only POSIX ustar (`"ustar\0" "00"`)
/// and GNU (`"ustar  \0"`) headers; pax `x` records parsed exactly against a whitelist of keys; GNU `L`/`K`
/// long names; regular files, directories and symlinks only. File data goes to a spool.
///
/// Decisions (docs/architecture.md, "Canonical archives"):
/// - GNU headers must have bytes 345..<512 (atime, ctime, offset, sparse map, realsize) all zero, and
///   POSIX headers bytes 500..<512: readers disagree on what those bytes mean (prefix or not, star's
///   131-byte prefix), so a header that uses them is refused.
/// - One `x`, one `L` and one `K` at most per entry, and never pax and GNU long names for the same entry.
/// - Global `g` headers may carry only `comment` (`git archive` writes one); anything else would change
///   every later entry in GNU tar.
/// - Hard links, devices, FIFOs, GNU sparse/multivolume/volume/dumpdir entries and all `GNU.sparse.*`
///   pax keys are refused.
/// - The end is the first all-zero block; after it only zero bytes may follow (GNU tar without `-i`,
///   Python and Go would stop there or fail, while `tar -i` would read on: no later data is allowed).
///   A stream without an end marker, or not a whole number of 512-byte blocks, is refused.
final class StrictTarReader {
    private let gz: GzipReader
    private let limits: ArchiveLimits
    private let spool: any DataSpool
    private var block = [UInt8](repeating: 0, count: 512)
    private(set) var entries: [ReadEntry] = []
    private var entriesRead = 0

    /// Extension headers that apply to the next entry.
    private struct Pending {
        var paxPath: [UInt8]?
        var paxLink: [UInt8]?
        var paxSize: Int64?
        var longName: [UInt8]?
        var longLink: [UInt8]?
        var sawPax = false
        var isEmpty: Bool { !sawPax && longName == nil && longLink == nil }
    }

    init(gzip: GzipReader, limits: ArchiveLimits, spool: any DataSpool) {
        gz = gzip
        self.limits = limits
        self.spool = spool
    }

    static let maximumPathBytes = 1024
    static let maximumComponentBytes = 255
    /// Deeper paths are refused: nothing a module ships is 64 directories deep, and the depth bounds
    /// the work of checking every entry's parents.
    static let maximumDepth = 64
    static let maximumExtensionBytes: Int64 = 1 << 20

    func readAll() throws(ArchiveError) {
        var pending = Pending()
        while true {
            guard try readBlock() else { throw ArchiveError("the tar stream ends without an end-of-archive marker") }
            if block.allSatisfy({ $0 == 0 }) {
                guard pending.isEmpty else { throw ArchiveError("an extended header is not followed by an entry") }
                try readToEnd()
                return
            }
            let h = block
            try Self.checkChecksum(h)
            let isGNU = try Self.format(h)
            for (range, field) in [(100..<108, "mode"), (108..<116, "uid"), (116..<124, "gid"), (136..<148, "mtime")] {
                _ = try Self.number(h, range, field)
            }
            let headerSize = try Self.number(h, 124..<136, "size")
            let type = h[156]
            switch type {
            case UInt8(ascii: "x"):
                guard !pending.sawPax else { throw ArchiveError("an entry has two pax headers") }
                guard pending.longName == nil && pending.longLink == nil else {
                    throw ArchiveError("an entry mixes pax and GNU long-name headers")
                }
                pending.sawPax = true
                try applyPax(try Self.paxRecords(readExtension(headerSize)), to: &pending)
                continue
            case UInt8(ascii: "g"):
                try countEntry()
                for (key, _) in try Self.paxRecords(readExtension(headerSize)) where key != Array("comment".utf8) {
                    throw ArchiveError(
                        "a global pax header sets '\(Self.printable(key))', which would apply to every later entry"
                    )
                }
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                let isName = type == UInt8(ascii: "L")
                // Readers disagree on whether a pax size applies to a GNU long-name header: never both.
                guard !pending.sawPax else { throw ArchiveError("an entry mixes pax and GNU long-name headers") }
                guard (isName ? pending.longName : pending.longLink) == nil else {
                    throw ArchiveError("an entry has two GNU long-name headers")
                }
                let data = try readExtension(headerSize)
                var end = data.count
                while end > 0 && data[end - 1] == 0 { end -= 1 }
                let name = Array(data[..<end])
                guard !name.contains(0) else { throw ArchiveError("a GNU long name contains a NUL byte") }
                if isName { pending.longName = name } else { pending.longLink = name }
                continue
            default: break
            }
            try countEntry()
            let p = pending
            pending = Pending()
            if p.paxPath != nil && p.longName != nil {
                throw ArchiveError("an entry has both a pax path and a GNU long name")
            }
            if p.paxLink != nil && p.longLink != nil {
                throw ArchiveError("an entry has both a pax linkpath and a GNU long link name")
            }
            var rawPath = p.paxPath ?? p.longName ?? Self.field(h, 0..<100)
            if p.paxPath == nil && p.longName == nil && !isGNU {
                let prefix = Self.field(h, 345..<500)
                if !prefix.isEmpty { rawPath = prefix + [UInt8(ascii: "/")] + rawPath }
            }
            let rawLink = p.paxLink ?? p.longLink ?? Self.field(h, 157..<257)
            let size = p.paxSize ?? headerSize
            let shown = Self.printable(rawPath)
            let isDirectoryName = rawPath.last == UInt8(ascii: "/")

            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                guard !isDirectoryName else {
                    throw ArchiveError("entry \(shown) is a regular file but its name ends with '/'")
                }
                guard rawLink.isEmpty else { throw ArchiveError("entry \(shown) is a regular file with a link target") }
                let components = try Self.components(rawPath, what: "entry")
                let mode = try Self.number(h, 100..<108, "mode")
                let offset = spool.length
                try copyData(size, name: shown)
                entries.append(
                    ReadEntry(
                        components: components,
                        kind: .file(offset: offset, size: size, executable: mode & 0o111 != 0)
                    )
                )
            case UInt8(ascii: "5"):
                guard size == 0 else { throw ArchiveError("directory \(shown) has data") }
                guard rawLink.isEmpty else { throw ArchiveError("directory \(shown) has a link target") }
                let components = try Self.components(rawPath, what: "entry", allowRoot: true)
                // "./" (the module root itself) is implied and not kept.
                if !components.isEmpty { entries.append(ReadEntry(components: components, kind: .directory)) }
            case UInt8(ascii: "2"):
                guard size == 0 else { throw ArchiveError("symlink \(shown) has data") }
                guard !isDirectoryName else { throw ArchiveError("symlink \(shown) has a name ending with '/'") }
                let components = try Self.components(rawPath, what: "entry")
                guard !rawLink.isEmpty else { throw ArchiveError("symlink \(shown) has an empty target") }
                entries.append(ReadEntry(components: components, kind: .symlink(target: rawLink)))
            case UInt8(ascii: "1"):
                throw ArchiveError("entry \(shown) is a hard link; hard links are not accepted")
            case UInt8(ascii: "3"), UInt8(ascii: "4"):
                throw ArchiveError("entry \(shown) is a device file")
            case UInt8(ascii: "6"):
                throw ArchiveError("entry \(shown) is a FIFO")
            case UInt8(ascii: "S"):
                throw ArchiveError("entry \(shown) is a GNU sparse file")
            case UInt8(ascii: "M"), UInt8(ascii: "V"), UInt8(ascii: "D"), UInt8(ascii: "N"):
                throw ArchiveError(
                    "entry \(shown) is a GNU multivolume, volume-label, dump-directory or old long-name entry"
                )
            default:
                throw ArchiveError("entry \(shown) has the unsupported type \(Self.printable([type]))")
            }
        }
    }

    // MARK: Stream

    /// Reads the next 512-byte block; false at the clean end of the stream.
    private func readBlock() throws(ArchiveError) -> Bool {
        let n = try block.withUnsafeMutableBytes { b in Result { () throws(ArchiveError) in try gz.read(into: b) } }
            .get()
        if n == 0 { return false }
        guard n == 512 else { throw ArchiveError("the tar stream ends in the middle of a block") }
        return true
    }

    private func countEntry() throws(ArchiveError) {
        entriesRead += 1
        if entriesRead > limits.maximumEntries {
            throw ArchiveError("the archive has more than \(limits.maximumEntries) entries")
        }
    }

    /// Checks that `size` more bytes fit the expansion limit, before reading them.
    private func checkBudget(_ size: Int64, name: String) throws(ArchiveError) {
        let left = limits.maximumExpandedBytes - gz.totalOutput
        guard size <= left else {
            throw ArchiveError(
                "entry \(name) (\(size) bytes) makes the archive expand to more than \(limits.maximumExpandedBytes) bytes"
            )
        }
    }

    /// Reads an extension header's data (bounded) and skips its padding.
    private func readExtension(_ size: Int64) throws(ArchiveError) -> [UInt8] {
        guard size <= Self.maximumExtensionBytes, let count = Int(exactly: size) else {
            throw ArchiveError("an extended header is larger than 1 MiB")
        }
        let data = try gz.read(count)
        guard data.count == count else { throw ArchiveError("the tar stream is truncated") }
        try skip(TarFormat.padding(size))
        return data
    }

    /// Streams `size` bytes of file data into the spool, then skips the padding.
    private func copyData(_ size: Int64, name: String) throws(ArchiveError) {
        try checkBudget(size, name: name)
        var left = size
        while left > 0 {
            let limit = Int(min(left, 64 * 1024))
            let n = try gz.withNextChunk(limit: limit) { (chunk) throws(ArchiveError) in try spool.append(chunk) }
            guard n > 0 else { throw ArchiveError("the tar stream is truncated inside entry \(name)") }
            left -= Int64(n)
        }
        try skip(TarFormat.padding(size))
    }

    private func skip(_ count: Int) throws(ArchiveError) {
        var left = count
        while left > 0 {
            let n = try gz.withNextChunk(limit: left) { _ in }
            guard n > 0 else { throw ArchiveError("the tar stream is truncated") }
            left -= n
        }
    }

    /// After the first zero block: only zero bytes, to the end of the last gzip member.
    private func readToEnd() throws(ArchiveError) {
        while true {
            var nonZero = false
            let n = try gz.withNextChunk(limit: 64 * 1024) { chunk in nonZero = !isAllZero(chunk) }
            if n == 0 { break }
            if nonZero { throw ArchiveError("the archive has data after its end-of-archive marker") }
        }
        guard gz.totalOutput % 512 == 0 else { throw ArchiveError("the tar stream ends in the middle of a block") }
    }

    // MARK: Headers

    /// True for a GNU header, false for POSIX ustar; anything else is refused.
    static func format(_ h: [UInt8]) throws(ArchiveError) -> Bool {
        let magic = h[257..<265]
        if magic.elementsEqual("ustar\u{0}00".utf8) {
            guard h[500..<512].allSatisfy({ $0 == 0 }) else {
                throw ArchiveError("a ustar header has data in its padding (bytes 500-511)")
            }
            return false
        }
        if magic.elementsEqual("ustar  \u{0}".utf8) {
            guard h[345..<512].allSatisfy({ $0 == 0 }) else {
                throw ArchiveError(
                    "a GNU tar header uses its atime/ctime/sparse area (bytes 345-511), which readers interpret differently"
                )
            }
            return true
        }
        throw ArchiveError("a tar header is neither POSIX ustar nor GNU format")
    }

    static func checkChecksum(_ h: [UInt8]) throws(ArchiveError) {
        guard h[148..<156].contains(where: { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) else {
            throw ArchiveError("a tar header has no checksum")
        }
        let stored = try number(h, 148..<156, "checksum")
        var sum: Int64 = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int64(b) }
        guard stored == sum else { throw ArchiveError("a tar header checksum does not match") }
    }

    /// A numeric field: octal digits after optional spaces, then only spaces/NULs; or GNU base-256
    /// (first byte 0x80, positive only). Never traps: every step is overflow-checked.
    static func number(_ h: [UInt8], _ range: Range<Int>, _ field: String) throws(ArchiveError) -> Int64 {
        let f = h[range]
        guard let first = f.first else { throw ArchiveError("a tar header has an empty \(field) field") }
        if first & 0x80 != 0 {
            guard first == 0x80 else { throw ArchiveError("a tar header has a negative or invalid base-256 \(field)") }
            var v: Int64 = 0
            for b in f.dropFirst() {
                guard v <= Int64.max >> 8 else { throw ArchiveError("a tar header's \(field) is too large") }
                v = v << 8 | Int64(b)
            }
            return v
        }
        var i = f.startIndex
        while i < f.endIndex && f[i] == UInt8(ascii: " ") { i += 1 }
        var v: Int64 = 0
        while i < f.endIndex && f[i] >= UInt8(ascii: "0") && f[i] <= UInt8(ascii: "7") {
            let (m, o1) = v.multipliedReportingOverflow(by: 8)
            let (a, o2) = m.addingReportingOverflow(Int64(f[i] - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw ArchiveError("a tar header's \(field) is too large") }
            v = a
            i += 1
        }
        while i < f.endIndex {
            guard f[i] == 0 || f[i] == UInt8(ascii: " ") else {
                throw ArchiveError("a tar header's \(field) field is not an octal number")
            }
            i += 1
        }
        return v
    }

    /// A NUL-terminated (or full-width) string field.
    static func field(_ h: [UInt8], _ range: Range<Int>) -> [UInt8] { Array(h[range].prefix { $0 != 0 }) }

    // MARK: pax

    /// pax extended header records, "LEN key=value\n" each (POSIX.1-2001 pax, "pax Extended Header"),
    /// parsed exactly: LEN is decimal without leading zeros, counts the whole record, and is checked
    /// against the bytes left before any index is formed.
    static func paxRecords(_ data: [UInt8]) throws(ArchiveError) -> [(key: [UInt8], value: [UInt8])] {
        var out: [(key: [UInt8], value: [UInt8])] = []
        var i = 0
        while i < data.count {
            let left = data.count - i
            var j = i
            var length = 0
            while j < data.count && ASCII.isDigit(data[j]) {
                let (m, o1) = length.multipliedReportingOverflow(by: 10)
                let (a, o2) = m.addingReportingOverflow(Int(data[j] - UInt8(ascii: "0")))
                guard !o1 && !o2 && a <= left else { throw ArchiveError("a pax record's length exceeds its header") }
                length = a
                j += 1
            }
            guard j > i, data[i] != UInt8(ascii: "0"), j < data.count, data[j] == UInt8(ascii: " ") else {
                throw ArchiveError("a pax record does not start with its length")
            }
            // LEN digits, the space, "k=", "\n" at least.
            guard length >= j - i + 4 else { throw ArchiveError("a pax record is shorter than its own fields") }
            let end = i + length  // length <= left, so no overflow and end <= data.count
            guard data[end - 1] == UInt8(ascii: "\n") else {
                throw ArchiveError("a pax record does not end with a newline")
            }
            let record = data[(j + 1)..<(end - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")), eq > record.startIndex else {
                throw ArchiveError("a pax record has no key")
            }
            out.append((Array(record[..<eq]), Array(record[(eq + 1)...])))
            i = end
        }
        return out
    }

    /// Keys that are read and ignored: they never change where an entry goes or what it holds.
    static let ignoredPaxKeys: Set<String> = [
        "mtime", "atime", "ctime", "uid", "gid", "uname", "gname", "comment", "charset",
        "SCHILY.dev", "SCHILY.ino", "SCHILY.nlink", "SCHILY.fflags", "LIBARCHIVE.creationtime",
    ]
    static let ignoredPaxPrefixes = ["SCHILY.xattr.", "LIBARCHIVE.xattr.", "SCHILY.acl."]

    private func applyPax(_ records: [(key: [UInt8], value: [UInt8])], to pending: inout Pending) throws(ArchiveError) {
        var seen: Set<[UInt8]> = []
        for (keyBytes, value) in records {
            let key = Self.printable(keyBytes)
            guard seen.insert(keyBytes).inserted else { throw ArchiveError("a pax header repeats the key '\(key)'") }
            guard let name = String(validating: keyBytes, as: UTF8.self) else {
                throw ArchiveError("a pax key is not UTF-8")
            }
            switch name {
            case "path":
                guard !value.isEmpty else { throw ArchiveError("a pax header has an empty path") }
                pending.paxPath = value
            case "linkpath":
                guard !value.isEmpty else { throw ArchiveError("a pax header has an empty linkpath") }
                pending.paxLink = value
            case "size":
                pending.paxSize = try Self.decimal(value, what: "pax size")
            case "hdrcharset":
                guard value.elementsEqual("ISO-IR 10646 2000 UTF-8".utf8) else {
                    throw ArchiveError("a pax header declares names that are not UTF-8 (hdrcharset)")
                }
            default:
                if name.hasPrefix("GNU.sparse.") {
                    throw ArchiveError(
                        "a pax header uses the GNU sparse key '\(key)', which renames or reshapes the entry for some readers"
                    )
                }
                guard
                    Self.ignoredPaxKeys.contains(name)
                        || Self.ignoredPaxPrefixes.contains(where: { name.hasPrefix($0) })
                else {
                    throw ArchiveError("a pax header has the unsupported key '\(key)'")
                }
            }
        }
    }

    static func decimal(_ bytes: [UInt8], what: String) throws(ArchiveError) -> Int64 {
        guard !bytes.isEmpty, bytes.count <= 19 else { throw ArchiveError("the \(what) is not a decimal number") }
        var v: Int64 = 0
        for b in bytes {
            guard ASCII.isDigit(b) else {
                throw ArchiveError("the \(what) is not a decimal number")
            }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(b - UInt8(ascii: "0")))
            guard !o1 && !o2 else { throw ArchiveError("the \(what) is too large") }
            v = a
        }
        return v
    }

    // MARK: Paths

    /// Splits a member path into components, dropping empty and "." components. Refuses absolute paths,
    /// "..", NUL/C0/C1 control characters, backslashes, invisible and bidi-control characters
    /// (`VisibleText`), non-ASCII characters that change under case folding, names
    /// ending in '.' or ' ' or containing ':' (Windows aliases), invalid UTF-8, and paths over 1024 bytes
    /// or with a component over 255 bytes.
    static func components(_ raw: [UInt8], what: String, allowRoot: Bool = false) throws(ArchiveError) -> [[UInt8]] {
        let shown = printable(raw)
        try checkCharacters(raw, "\(what) \(shown)")
        guard raw.first != UInt8(ascii: "/") else { throw ArchiveError("\(what) \(shown) has an absolute path") }
        var parts: [[UInt8]] = []
        for p in raw.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if p.elementsEqual([UInt8(ascii: ".")]) { continue }
            guard !p.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) else {
                throw ArchiveError("\(what) \(shown) leaves the module ('..')")
            }
            guard p.count <= maximumComponentBytes else {
                throw ArchiveError("\(what) \(shown) has a name component over \(maximumComponentBytes) bytes")
            }
            parts.append(Array(p))
            guard parts.count <= maximumDepth else { throw ArchiveError("\(what) \(shown) is more than \(maximumDepth) levels deep") }
        }
        guard allowRoot || !parts.isEmpty else { throw ArchiveError("an entry has an empty name") }
        return parts
    }

    static func checkCharacters(_ raw: [UInt8], _ what: String) throws(ArchiveError) {
        guard !raw.isEmpty else { throw ArchiveError("\(what) is empty") }
        guard raw.count <= maximumPathBytes else {
            throw ArchiveError("\(what) is longer than \(maximumPathBytes) bytes")
        }
        guard let text = String(validating: raw, as: UTF8.self) else {
            throw ArchiveError("\(what) is not valid UTF-8")
        }
        for scalar in text.unicodeScalars {
            if VisibleText.isControl(scalar) || scalar == "\\" {
                throw ArchiveError("\(what) contains a control character or a backslash")
            }
            // Code points HFS+ ignores in names, bidi controls and other format characters: they make
            // two different names one file on macOS, or make a name display as another.
            if VisibleText.isInvisible(scalar) {
                throw ArchiveError("\(what) contains an invisible or bidirectional-control character")
            }
            // Case-insensitive file systems (APFS, NTFS) fold `ς` to `σ`, `µ` to `μ`, `ß` to `ss`, `ﬀ` to
            // `ff` and capitals to small letters, which `lowercased()` partly misses: outside ASCII only
            // characters that are their own case fold are accepted, so that lowercasing ASCII is the full
            // fold of every accepted name (`ArchiveCanonicalization.fold`).
            if scalar.value >= 0x80 && scalar.properties.changesWhenCaseFolded {
                throw ArchiveError(
                    "\(what) contains \(VisibleText.codePoint(scalar)), a character that case-insensitive file systems fold into another; outside ASCII only characters that case folding leaves unchanged are accepted"
                )
            }
        }
        // Windows drops trailing dots and spaces and reads ':' as a stream separator: "a." would be "a".
        for component in raw.split(separator: UInt8(ascii: "/"))
        where !component.elementsEqual(".".utf8) && !component.elementsEqual("..".utf8) {
            if component.last == UInt8(ascii: ".") || component.last == UInt8(ascii: " ")
                || component.contains(UInt8(ascii: ":"))
            {
                throw ArchiveError("\(what) has a name ending in '.' or ' ', or containing ':'")
            }
        }
    }

    /// Bytes as text safe for an error message: non-printable ASCII escaped, at most 200 bytes.
    static func printable(_ bytes: [UInt8]) -> String {
        var s = ""
        for b in bytes.prefix(200) {
            if b >= 0x20 && b < 0x7f && b != UInt8(ascii: "\\") {
                s.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                s += "\\x" + String(b, radix: 16)
            }
        }
        return bytes.count > 200 ? s + "…" : s
    }
}
