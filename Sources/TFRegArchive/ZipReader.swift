import CZlib
import Glibc
import TFRegCrypto

// MARK: Random-access sources

/// Where a zip's bytes come from: a file read with pread, or memory (tests and the fuzzer). A zip is
/// read from its end (the central directory), so the source must allow reads at any offset.
public protocol RandomAccessSource: AnyObject {
    var size: Int64 { get }
    /// Reads up to `buffer.count` bytes at `offset`; fewer only at the end.
    func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int
}

extension RandomAccessSource {
    /// Exactly `count` bytes at `offset`, or an error naming the truncation.
    func bytes(at offset: Int64, count: Int) throws(ArchiveError) -> [UInt8] {
        guard offset >= 0, count >= 0, offset <= size, Int64(count) <= size - offset else {
            throw ArchiveError("the zip is truncated (a read past its end)")
        }
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result: Result<Int, ArchiveError> = out.withUnsafeMutableBytes { b in
                do throws(ArchiveError) {
                    return .success(try read(at: offset + Int64(done), into: UnsafeMutableRawBufferPointer(rebasing: b[done...])))
                } catch {
                    return .failure(error)
                }
            }
            let n = try result.get()
            guard n > 0 else { throw ArchiveError("the zip is truncated") }
            done += n
        }
        return out
    }
}

/// A file opened read-only; its size is taken once (a file that changes under the reader fails reads).
public final class FileRandomAccessSource: RandomAccessSource {
    private let fd: Int32
    public let size: Int64

    public init(path: String) throws(ArchiveError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError("cannot open the zip") }
        var st = stat()
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            close(fd)
            throw ArchiveError("the zip is not a regular file")
        }
        size = Int64(st.st_size)
    }

    deinit { close(fd) }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        while true {
            let n = pread(fd, buffer.baseAddress, buffer.count, off_t(offset))
            if n >= 0 { return n }
            if errno != EINTR { throw ArchiveError("cannot read the zip") }
        }
    }
}

/// A byte array.
public final class MemoryRandomAccessSource: RandomAccessSource {
    private let bytes: [UInt8]
    public var size: Int64 { Int64(bytes.count) }

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func read(at offset: Int64, into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        guard offset >= 0, offset <= Int64(bytes.count) else { return 0 }
        let start = Int(offset)
        let n = min(buffer.count, bytes.count - start)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[start..<(start + n)])) }
        return n
    }
}

// MARK: The reader

/// Bounds on a zip (provider packages: a binary plus a few text files).
public struct ZipLimits: Sendable {
    public var maximumEntries: Int
    /// Sum of the declared (and verified) uncompressed sizes.
    public var maximumExpandedBytes: Int64
    public var maximumNameBytes: Int

    public init(maximumEntries: Int = 1_000, maximumExpandedBytes: Int64 = 2 << 30, maximumNameBytes: Int = 1_024) {
        self.maximumEntries = maximumEntries
        self.maximumExpandedBytes = maximumExpandedBytes
        self.maximumNameBytes = maximumNameBytes
    }
}

/// One entry of a verified zip.
public struct ZipEntry: Sendable, Equatable {
    public let name: String
    public let isDirectory: Bool
    public let size: Int64
    /// SHA-256 of the decompressed content (empty for a directory).
    public let sha256: [UInt8]
    /// A Unix mode with an execute bit was recorded (zips made on Unix carry one).
    public let executable: Bool
}

/// A strict zip reader (APPNOTE 6.3.x) for provider packages: reads the central directory from the end,
/// checks every entry against its local header, inflates every file (stored or deflate) and checks its
/// size and CRC-32. Refuses: zip64, multi-disk, encryption, other methods, data before the first entry
/// or between the last one and the directory, overlapping entries, names that escape (absolute, `..`,
/// backslashes, NUL, empty components), duplicates (also a file that is a directory's prefix), symlinks,
/// more than the limits' entries or expanded bytes.
public enum ZipReader {
    static let endRecordSize = 22
    static let centralHeaderSize = 46
    static let localHeaderSize = 30

    public static func read(path: String, limits: ZipLimits = ZipLimits()) throws(ArchiveError) -> [ZipEntry] {
        try read(FileRandomAccessSource(path: path), limits: limits)
    }

    public static func read(bytes: [UInt8], limits: ZipLimits = ZipLimits()) throws(ArchiveError) -> [ZipEntry] {
        try read(MemoryRandomAccessSource(bytes), limits: limits)
    }

    struct Central {
        let name: String
        let flags: Int
        let method: Int
        let crc: UInt32
        let compressedSize: Int64
        let size: Int64
        let localOffset: Int64
        let mode: UInt32
    }

    public static func read(_ source: any RandomAccessSource, limits: ZipLimits) throws(ArchiveError) -> [ZipEntry] {
        let size = source.size
        guard size >= Int64(endRecordSize) else { throw ArchiveError("the file is too short to be a zip") }
        // The end record is the last 22 bytes plus its comment: find the one whose comment ends the file.
        let tailLength = Int(min(size, Int64(endRecordSize + 0xFFFF)))
        let tail = try source.bytes(at: size - Int64(tailLength), count: tailLength)
        var end: Int? = nil
        var i = tailLength - endRecordSize
        while i >= 0 {
            if le32(tail, i) == 0x0605_4B50, le16(tail, i + 20) == tailLength - endRecordSize - i {
                end = i
                break
            }
            i -= 1
        }
        guard let end else { throw ArchiveError("no zip end-of-central-directory record ends the file") }
        let endOffset = size - Int64(tailLength - end)
        let disk = le16(tail, end + 4)
        let cdDisk = le16(tail, end + 6)
        let entriesHere = le16(tail, end + 8)
        let entries = le16(tail, end + 10)
        let cdSize = Int64(le32(tail, end + 12))
        let cdOffset = Int64(le32(tail, end + 16))
        if entries == 0xFFFF || cdSize == 0xFFFF_FFFF || cdOffset == 0xFFFF_FFFF {
            throw ArchiveError("zip64 archives are not accepted")
        }
        guard disk == 0, cdDisk == 0, entriesHere == entries else { throw ArchiveError("multi-disk zips are not accepted") }
        guard entries <= limits.maximumEntries else { throw ArchiveError("the zip has more than \(limits.maximumEntries) entries") }
        guard cdOffset + cdSize == endOffset else {
            throw ArchiveError("the zip's central directory does not end where its end record starts")
        }
        guard cdSize <= Int64(entries) * Int64(centralHeaderSize + 3 * 0xFFFF) else {
            throw ArchiveError("the zip's central directory is larger than its entries")
        }
        let cd = try source.bytes(at: cdOffset, count: Int(cdSize))

        var centrals: [Central] = []
        var names = Set<String>()
        var p = 0
        for _ in 0..<entries {
            guard p + centralHeaderSize <= cd.count, le32(cd, p) == 0x0201_4B50 else {
                throw ArchiveError("a zip central directory header is malformed")
            }
            let madeBy = le16(cd, p + 4)
            let flags = le16(cd, p + 8)
            let method = le16(cd, p + 10)
            let crc = UInt32(le32(cd, p + 16))
            let compressed = Int64(le32(cd, p + 20))
            let uncompressed = Int64(le32(cd, p + 24))
            let nameLength = le16(cd, p + 28)
            let extraLength = le16(cd, p + 30)
            let commentLength = le16(cd, p + 32)
            let startDisk = le16(cd, p + 34)
            let external = UInt32(le32(cd, p + 38))
            let local = Int64(le32(cd, p + 42))
            let next = p + centralHeaderSize + nameLength + extraLength + commentLength
            guard next <= cd.count else { throw ArchiveError("a zip central directory header runs past the directory") }
            let rawName = Array(cd[(p + centralHeaderSize)..<(p + centralHeaderSize + nameLength)])
            p = next
            guard compressed != 0xFFFF_FFFF, uncompressed != 0xFFFF_FFFF, local != 0xFFFF_FFFF else {
                throw ArchiveError("zip64 entries are not accepted")
            }
            guard startDisk == 0 else { throw ArchiveError("multi-disk zips are not accepted") }
            let name = try validName(rawName, limits: limits)
            guard flags & 0x0001 == 0, flags & 0x0040 == 0, flags & 0x2000 == 0 else {
                throw ArchiveError("entry \(name) is encrypted")
            }
            guard method == 0 || method == 8 else { throw ArchiveError("entry \(name) uses compression method \(method)") }
            if method == 0, compressed != uncompressed {
                throw ArchiveError("stored entry \(name) has different compressed and uncompressed sizes")
            }
            // Unix modes live in the high half of the external attributes when made on Unix (3).
            let mode: UInt32 = madeBy >> 8 == 3 ? external >> 16 : 0
            if mode & 0o170000 == 0o120000 { throw ArchiveError("entry \(name) is a symlink") }
            let isDirectory = name.hasSuffix("/")
            if isDirectory, uncompressed != 0 { throw ArchiveError("directory \(name) has data") }
            if mode & 0o170000 != 0, mode & 0o170000 != 0o100000, mode & 0o170000 != 0o040000 {
                throw ArchiveError("entry \(name) is not a regular file or directory")
            }
            guard names.insert(name).inserted else { throw ArchiveError("entry \(name) appears twice") }
            centrals.append(
                Central(
                    name: name,
                    flags: flags,
                    method: method,
                    crc: crc,
                    compressedSize: compressed,
                    size: uncompressed,
                    localOffset: local,
                    mode: mode
                )
            )
        }
        guard p == cd.count else { throw ArchiveError("the zip central directory has trailing bytes") }
        // A file may not also be a directory prefix of another entry (`a` and `a/b`), nor a directory named twice.
        for name in names where !name.hasSuffix("/") {
            if names.contains(name + "/") { throw ArchiveError("entry \(name) is both a file and a directory") }
        }
        for name in names {
            var path = Substring(name.hasSuffix("/") ? String(name.dropLast()) : name)
            while let slash = path.lastIndex(of: "/") {
                path = path[..<slash]
                if names.contains(String(path)) { throw ArchiveError("entry \(path) is both a file and a directory") }
            }
        }
        let declared = centrals.reduce(Int64(0)) { $0 + $1.size }
        guard declared <= limits.maximumExpandedBytes else {
            throw ArchiveError("the zip expands to more than \(limits.maximumExpandedBytes) bytes")
        }

        // Local headers in file order: each entry's data ends before the next entry starts (no overlap, so
        // no quoted-overlap bombs), the first starts at 0 and the last ends before the directory.
        var out: [ZipEntry] = []
        var expected: Int64 = 0
        for c in centrals.sorted(by: { $0.localOffset < $1.localOffset }) {
            guard c.localOffset >= expected else { throw ArchiveError("entry \(c.name) overlaps the entry before it") }
            if out.isEmpty, c.localOffset != 0 { throw ArchiveError("the zip has data before its first entry") }
            let header = try source.bytes(at: c.localOffset, count: localHeaderSize)
            guard le32(header, 0) == 0x0403_4B50 else { throw ArchiveError("entry \(c.name) has no local header") }
            let localFlags = le16(header, 6)
            let localMethod = le16(header, 8)
            let nameLength = le16(header, 26)
            let extraLength = le16(header, 28)
            guard localMethod == c.method, localFlags & 0x0009 == c.flags & 0x0009 else {
                throw ArchiveError("entry \(c.name)'s local header disagrees with the central directory")
            }
            let localName = try source.bytes(at: c.localOffset + Int64(localHeaderSize), count: nameLength)
            guard localName == Array(c.name.utf8) else { throw ArchiveError("entry \(c.name)'s local name differs") }
            if localFlags & 0x0008 == 0 {
                guard le32(header, 14) == Int(c.crc), Int64(le32(header, 18)) == c.compressedSize, Int64(le32(header, 22)) == c.size else {
                    throw ArchiveError("entry \(c.name)'s local sizes or CRC disagree with the central directory")
                }
            }
            let dataStart = c.localOffset + Int64(localHeaderSize + nameLength + extraLength)
            let dataEnd = dataStart + c.compressedSize
            guard dataEnd <= cdOffset else { throw ArchiveError("entry \(c.name)'s data runs into the central directory") }
            let digest = try inflateAndHash(source, c, from: dataStart)
            expected = dataEnd
            if c.flags & 0x0008 != 0 {
                // Data descriptor: optional signature, CRC-32, sizes (32-bit: zip64 is refused above).
                let withSignature = dataEnd + 16 <= cdOffset ? try source.bytes(at: dataEnd, count: 4) : []
                expected = dataEnd + (withSignature.count == 4 && le32(withSignature, 0) == 0x0807_4B50 ? 16 : 12)
                guard expected <= cdOffset else { throw ArchiveError("entry \(c.name)'s data descriptor is truncated") }
            }
            out.append(
                ZipEntry(
                    name: c.name,
                    isDirectory: c.name.hasSuffix("/"),
                    size: c.size,
                    sha256: digest,
                    executable: c.mode & 0o111 != 0
                )
            )
        }
        guard out.isEmpty ? cdOffset == 0 : expected == cdOffset else {
            throw ArchiveError("the zip has data between its last entry and its central directory")
        }
        // Report in central-directory order.
        let byName = Dictionary(uniqueKeysWithValues: out.map { ($0.name, $0) })
        return centrals.compactMap { byName[$0.name] }
    }

    /// Inflates (or copies) one entry's data, checking exact sizes and the CRC-32; returns its SHA-256.
    static func inflateAndHash(_ source: any RandomAccessSource, _ c: Central, from start: Int64) throws(ArchiveError) -> [UInt8] {
        let chunk = 64 * 1024
        var check = EntryCheck(name: c.name, size: c.size)
        var hasher = SHA256.Hasher()
        var consumed: Int64 = 0
        let input = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        let output = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
        defer {
            input.deallocate()
            output.deallocate()
        }
        if c.method == 0 {
            while consumed < c.compressedSize {
                let want = Int(min(Int64(chunk), c.compressedSize - consumed))
                let n = try source.read(at: start + consumed, into: UnsafeMutableRawBufferPointer(rebasing: input[0..<want]))
                guard n > 0 else { throw ArchiveError("entry \(c.name) is truncated") }
                consumed += Int64(n)
                try check.take(UnsafeRawBufferPointer(rebasing: input[0..<n]), &hasher)
            }
        } else {
            var stream = z_stream()
            guard inflateInit2_(&stream, -MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
                throw ArchiveError("zlib inflateInit2 failed")
            }
            defer { inflateEnd(&stream) }
            var ended = false
            while !ended {
                if stream.avail_in == 0 {
                    let want = Int(min(Int64(chunk), c.compressedSize - consumed))
                    guard want > 0 else { throw ArchiveError("entry \(c.name)'s deflate stream is truncated") }
                    let n = try source.read(at: start + consumed, into: UnsafeMutableRawBufferPointer(rebasing: input[0..<want]))
                    guard n > 0 else { throw ArchiveError("entry \(c.name) is truncated") }
                    consumed += Int64(n)
                    stream.next_in = input.baseAddress?.assumingMemoryBound(to: Bytef.self)
                    stream.avail_in = uInt(n)
                }
                stream.next_out = output.baseAddress?.assumingMemoryBound(to: Bytef.self)
                stream.avail_out = uInt(chunk)
                let rc = inflate(&stream, Z_NO_FLUSH)
                let n = chunk - Int(stream.avail_out)
                if n > 0 { try check.take(UnsafeRawBufferPointer(rebasing: output[0..<n]), &hasher) }
                switch rc {
                case Z_STREAM_END: ended = true
                case Z_OK: break
                case Z_BUF_ERROR where stream.avail_in == 0: break
                default: throw ArchiveError("entry \(c.name)'s deflate data is corrupt")
                }
            }
            guard stream.avail_in == 0, consumed == c.compressedSize else {
                throw ArchiveError("entry \(c.name)'s deflate stream ends before its compressed size")
            }
        }
        guard check.produced == c.size else { throw ArchiveError("entry \(c.name) is shorter than its declared size") }
        guard UInt32(truncatingIfNeeded: check.crc) == c.crc else { throw ArchiveError("entry \(c.name)'s CRC-32 does not match") }
        return hasher.finalize()
    }

    /// Running size and CRC-32 of one entry's output (the SHA-256 beside it), refusing more than the
    /// declared size as soon as it is passed.
    struct EntryCheck {
        let name: String
        let size: Int64
        var crc = crc32(0, nil, 0)
        var produced: Int64 = 0

        init(name: String, size: Int64) {
            self.name = name
            self.size = size
        }

        mutating func take(_ bytes: UnsafeRawBufferPointer, _ hasher: inout SHA256.Hasher) throws(ArchiveError) {
            produced += Int64(bytes.count)
            guard produced <= size else { throw ArchiveError("entry \(name) expands past its declared size") }
            hasher.update(bytes)
            crc = crc32(crc, bytes.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(bytes.count))
        }
    }

    /// A name that stays inside the extraction directory: relative, `/`-separated, valid UTF-8, no `.`/`..`
    /// or empty component (a trailing `/` marks a directory), no backslash, control character or colon drive.
    static func validName(_ raw: [UInt8], limits: ZipLimits) throws(ArchiveError) -> String {
        guard !raw.isEmpty, raw.count <= limits.maximumNameBytes else { throw ArchiveError("an entry name is empty or too long") }
        guard let name = String(validating: raw, as: UTF8.self) else { throw ArchiveError("an entry name is not UTF-8") }
        let shown = String(name.unicodeScalars.map { $0.value < 0x20 || $0.value == 0x7F ? "?" : Character($0) })
        guard !raw.contains(where: { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }) else {
            throw ArchiveError("entry \(shown) has a control character or backslash in its name")
        }
        guard raw.first != UInt8(ascii: "/") else { throw ArchiveError("entry \(shown) is an absolute path") }
        var components = name.split(separator: "/", omittingEmptySubsequences: false)
        if name.hasSuffix("/") { components.removeLast() }
        for part in components {
            guard !part.isEmpty, part != ".", part != ".." else { throw ArchiveError("entry \(shown) escapes or is not canonical") }
        }
        if let first = components.first, first.count == 2, first.hasSuffix(":") {
            throw ArchiveError("entry \(shown) names a drive")
        }
        return name
    }

    static func le16(_ b: [UInt8], _ i: Int) -> Int { Int(b[i]) | Int(b[i + 1]) << 8 }
    static func le32(_ b: [UInt8], _ i: Int) -> Int { le16(b, i) | le16(b, i + 2) << 16 }
}
