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
/// always give the same bytes. Paths longer than 100 bytes use the ustar prefix field; longer than
/// that is an error. The writer does not judge paths: `ModulePacker` decides what goes in.
public enum TarWriter {
    public static func archive(_ entries: [TarEntry]) throws(ArchiveError) -> [UInt8] {
        var out: [UInt8] = []
        for e in entries {
            var header = [UInt8](repeating: 0, count: 512)
            var path = Array(e.path.utf8)
            if case .directory = e.kind, path.last != UInt8(ascii: "/") { path.append(UInt8(ascii: "/")) }
            var name = path
            var prefix: [UInt8] = []
            if path.count > 100 {
                // Split at a '/' so that prefix <= 155 and name <= 100.
                guard let split = path.indices.reversed().first(where: { path[$0] == UInt8(ascii: "/") && $0 <= 155 && path.count - $0 - 1 <= 100 && $0 > 0 }) else {
                    throw ArchiveError("path too long for a tar header: \(e.path)")
                }
                prefix = Array(path[..<split])
                name = Array(path[(split + 1)...])
            }
            put(&header, name, at: 0, width: 100)
            putOctal(&header, UInt64(e.mode), at: 100, width: 8)
            putOctal(&header, 0, at: 108, width: 8)
            putOctal(&header, 0, at: 116, width: 8)
            var body: [UInt8] = []
            let type: UInt8
            switch e.kind {
            case .file(let data):
                body = data
                type = UInt8(ascii: "0")
            case .directory: type = UInt8(ascii: "5")
            case .symlink(let target):
                type = UInt8(ascii: "2")
                guard target.utf8.count <= 100 else { throw ArchiveError("link target too long: \(target)") }
                put(&header, Array(target.utf8), at: 157, width: 100)
            case .hardlink(let target):
                type = UInt8(ascii: "1")
                guard target.utf8.count <= 100 else { throw ArchiveError("link target too long: \(target)") }
                put(&header, Array(target.utf8), at: 157, width: 100)
            }
            putOctal(&header, UInt64(body.count), at: 124, width: 12)
            putOctal(&header, 0, at: 136, width: 12)
            header[156] = type
            put(&header, Array("ustar\0".utf8), at: 257, width: 6)
            put(&header, Array("00".utf8), at: 263, width: 2)
            put(&header, prefix, at: 345, width: 155)
            // Checksum: sum of the header with the checksum field as spaces.
            for i in 148..<156 { header[i] = UInt8(ascii: " ") }
            let sum = header.reduce(0) { $0 + UInt32($1) }
            putOctal(&header, UInt64(sum), at: 148, width: 7)
            header[155] = UInt8(ascii: " ")
            out += header
            out += body
            let pad = (512 - body.count % 512) % 512
            out += [UInt8](repeating: 0, count: pad)
        }
        out += [UInt8](repeating: 0, count: 1024)
        return out
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
