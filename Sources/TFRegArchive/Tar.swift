/// One entry to write into a tar archive.
public struct TarEntry: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case file([UInt8])
        case directory
        case symlink(target: String)
        case hardlink(target: String)
    }

    public var path: String
    public var kind: Kind
    public var mode: UInt32

    public init(path: String, kind: Kind, mode: UInt32? = nil) {
        self.path = path
        self.kind = kind
        switch kind {
        case .directory: self.mode = mode ?? 0o755
        default: self.mode = mode ?? 0o644
        }
    }
}

/// Writes POSIX ustar archives. Owner, group and mtime are fixed (0, 0, 0) so that the same entries
/// always give the same bytes; headers come from `TarFormat`, the canonical writer's header code.
/// The writer does not judge paths: `ModulePacker` and the canonicalizer decide what goes in.
public enum TarWriter {
    public static func archive(_ entries: [TarEntry]) throws(ArchiveError) -> [UInt8] {
        let sink = MemoryByteSink()
        try write(entries, to: sink)
        return sink.bytes
    }

    /// Writes the archive entry by entry to `sink` (a file's data is never copied into a second buffer).
    /// With `contentsFrom`, a file entry's bytes are read from `ROOT/PATH` as it is written (one file
    /// in memory at a time), not taken from the entry.
    static func write(_ entries: [TarEntry], to sink: any ByteSink, contentsFrom root: String? = nil) throws(ArchiveError) {
        func put(_ bytes: [UInt8]) throws(ArchiveError) {
            try bytes.withUnsafeBytes { b in Result { () throws(ArchiveError) in try sink.write(b) } }.get()
        }
        for e in entries {
            var path = Array(e.path.utf8)
            let body: [UInt8]
            let type: UInt8
            var link: [UInt8] = []
            switch e.kind {
            case .file(let data):
                if let root { body = try ModulePacker.readFile(root + "/" + e.path, noFollow: true) } else { body = data }
                type = TarFormat.regular
            case .directory:
                body = []
                type = TarFormat.directory
                if path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
            case .symlink(let target):
                body = []
                type = TarFormat.symlink
                link = Array(target.utf8)
            case .hardlink(let target):
                body = []
                type = UInt8(ascii: "1")
                link = Array(target.utf8)
            }
            try put(try TarFormat.headers(path: path, type: type, mode: e.mode, size: Int64(body.count), link: link))
            try put(body)
            try put([UInt8](repeating: 0, count: TarFormat.padding(Int64(body.count))))
        }
        try put([UInt8](repeating: 0, count: 1024))
    }
}

/// The canonical tar header layout (POSIX.1-2001 ustar, pax `x` headers only where ustar cannot
/// hold a value). Used by `TarWriter` and the canonical archive writer, so both give the same bytes.
enum TarFormat {
    static let regular = UInt8(ascii: "0")
    static let directory = UInt8(ascii: "5")
    static let symlink = UInt8(ascii: "2")
    static let paxName = Array("././@PaxHeader".utf8)
    /// Largest size an 11-digit octal field holds.
    static let maximumOctalSize: Int64 = 0o77777777777

    /// Zero bytes after `size` bytes of data up to the next 512-byte block.
    static func padding(_ size: Int64) -> Int { Int((512 - size % 512) % 512) }

    /// The header block(s) for one entry: a pax `x` header first when the path, the link target or the
    /// size does not fit ustar, then the ustar header.
    static func headers(
        path: [UInt8],
        type: UInt8,
        mode: UInt32,
        size: Int64,
        link: [UInt8]
    ) throws(ArchiveError)
        -> [UInt8]
    {
        var records: [UInt8] = []
        var name = path
        var prefix: [UInt8] = []
        if let split = ustarSplit(path) {
            prefix = split.prefix
            name = split.name
        } else {
            records += paxRecord("path", path)
            name = Array("././@PaxPath".utf8)
        }
        var linkField = link
        if link.count > 100 {
            records += paxRecord("linkpath", link)
            linkField = []
        }
        var sizeField = size
        if size > maximumOctalSize {
            records += paxRecord("size", Array(String(size).utf8))
            sizeField = 0
        }
        var out: [UInt8] = []
        if !records.isEmpty {
            out += ustar(
                name: paxName,
                prefix: [],
                type: UInt8(ascii: "x"),
                mode: 0o644,
                size: Int64(records.count),
                link: []
            )
            out += records
            out += [UInt8](repeating: 0, count: padding(Int64(records.count)))
        }
        out += ustar(name: name, prefix: prefix, type: type, mode: mode, size: sizeField, link: linkField)
        return out
    }

    /// Splits a path so that it fits ustar's name (100) and prefix (155) fields, cutting at a '/'.
    static func ustarSplit(_ path: [UInt8]) -> (prefix: [UInt8], name: [UInt8])? {
        if path.count <= 100 { return ([], path) }
        for i in path.indices.reversed() where path[i] == UInt8(ascii: "/") && i > 0 && i <= 155 {
            let nameLength = path.count - i - 1
            if nameLength >= 1 && nameLength <= 100 { return (Array(path[..<i]), Array(path[(i + 1)...])) }
            if nameLength > 100 { return nil }
        }
        return nil
    }

    /// One pax record, "LEN key=value\n", where LEN counts the whole record including itself.
    static func paxRecord(_ key: String, _ value: [UInt8]) -> [UInt8] {
        let base = key.utf8.count + value.count + 3
        var length = base + String(base).utf8.count
        if String(length).utf8.count > String(base).utf8.count { length += 1 }
        return Array("\(length) \(key)=".utf8) + value + [UInt8(ascii: "\n")]
    }

    static func ustar(name: [UInt8], prefix: [UInt8], type: UInt8, mode: UInt32, size: Int64, link: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 512)
        put(&header, name, at: 0, width: 100)
        putOctal(&header, UInt64(mode), at: 100, width: 8)
        putOctal(&header, 0, at: 108, width: 8)
        putOctal(&header, 0, at: 116, width: 8)
        putOctal(&header, UInt64(max(size, 0)), at: 124, width: 12)
        putOctal(&header, 0, at: 136, width: 12)
        header[156] = type
        put(&header, link, at: 157, width: 100)
        put(&header, Array("ustar\0".utf8), at: 257, width: 6)
        put(&header, Array("00".utf8), at: 263, width: 2)
        put(&header, prefix, at: 345, width: 155)
        // Checksum: sum of the header with the checksum field as spaces.
        for i in 148..<156 { header[i] = UInt8(ascii: " ") }
        let sum = header.reduce(0) { $0 + UInt64($1) }
        putOctal(&header, sum, at: 148, width: 7)
        header[155] = UInt8(ascii: " ")
        return header
    }

    private static func put(_ h: inout [UInt8], _ bytes: [UInt8], at offset: Int, width: Int) {
        for (i, b) in bytes.prefix(width).enumerated() { h[offset + i] = b }
    }

    private static func putOctal(_ h: inout [UInt8], _ value: UInt64, at offset: Int, width: Int) {
        var digits = Array(String(value, radix: 8).utf8)
        while digits.count < width - 1 { digits.insert(UInt8(ascii: "0"), at: 0) }
        put(&h, digits, at: offset, width: width - 1)
        h[offset + width - 1] = 0
    }
}
