import TFRegCore

/// Limits that keep a hostile archive from using the server's memory, disk or time.
public struct ArchiveLimits: Sendable {
    public var maximumExpandedBytes: Int64
    public var maximumEntries: Int
    public init(maximumExpandedBytes: Int64 = 512 * 1024 * 1024, maximumEntries: Int = 20_000) {
        self.maximumExpandedBytes = maximumExpandedBytes
        self.maximumEntries = maximumEntries
    }
}

/// What an inspected archive holds.
public struct ArchiveSummary: Sendable, Equatable {
    public var entries: [String]
    public var terraformFiles: [String]
}

/// Verifies that an upload is a gzip'd tar a module consumer can safely unpack: readable to the end,
/// checksummed headers, no absolute paths, no `..`, no links that leave the archive's root, no device
/// files, and at least one `.tf` or `.tf.json` file. Streams: memory use does not grow with the archive.
public struct TarGzInspector: ArchiveInspector {
    public let limits: ArchiveLimits
    public init(limits: ArchiveLimits = ArchiveLimits()) { self.limits = limits }

    public func inspect(path: String) throws(RegistryError) {
        do throws(ArchiveError) {
            let summary = try summarize(path: path)
            if summary.terraformFiles.isEmpty {
                throw ArchiveError("the archive contains no Terraform files (*.tf or *.tf.json)")
            }
        } catch {
            throw RegistryError(.badRequest, "invalid module archive: \(error.message)")
        }
    }

    public func summarize(path: String) throws(ArchiveError) -> ArchiveSummary {
        let reader = try GzipFileReader(path: path, maximumOutput: limits.maximumExpandedBytes)
        var summary = ArchiveSummary(entries: [], terraformFiles: [])
        var paxPath: String?
        var paxLink: String?
        var gnuLongName: String?
        var gnuLongLink: String?
        var sawEnd = false
        while true {
            let header = try reader.read(512)
            if header.isEmpty { break }
            guard header.count == 512 else { throw ArchiveError("the tar stream is truncated") }
            if header.allSatisfy({ $0 == 0 }) {
                sawEnd = true
                break
            }
            guard Self.checksumMatches(header) else { throw ArchiveError("a tar header checksum does not match") }
            // Base-256 sizes reach almost Int64.max: bound it before rounding up to whole blocks.
            guard let size = Self.octal(header[124..<136]), size >= 0, size <= Int64.max - 511 else {
                throw ArchiveError("a tar header has an invalid size")
            }
            let type = header[156]
            let padded = (size + 511) / 512 * 512
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "g"):
                guard size <= 1 << 20 else { throw ArchiveError("a pax header is too large") }
                let data = try reader.read(Int(padded))
                guard data.count == padded else { throw ArchiveError("the tar stream is truncated") }
                let records = try Self.paxRecords(Array(data.prefix(Int(size))))
                if type == UInt8(ascii: "x") {
                    paxPath = records["path"] ?? paxPath
                    paxLink = records["linkpath"] ?? paxLink
                } else if records["path"] != nil || records["linkpath"] != nil {
                    throw ArchiveError("global pax path headers are not allowed")
                }
                continue
            case UInt8(ascii: "L"), UInt8(ascii: "K"):
                guard size <= 1 << 16 else { throw ArchiveError("a long-name header is too large") }
                let data = try reader.read(Int(padded))
                guard data.count == padded else { throw ArchiveError("the tar stream is truncated") }
                let name = String(decoding: data.prefix(Int(size)).prefix { $0 != 0 }, as: UTF8.self)
                if type == UInt8(ascii: "L") { gnuLongName = name } else { gnuLongLink = name }
                continue
            default: break
            }
            var name = paxPath ?? gnuLongName ?? Self.headerPath(header)
            let link = paxLink ?? gnuLongLink ?? Self.string(header[157..<257])
            paxPath = nil; paxLink = nil; gnuLongName = nil; gnuLongLink = nil
            summary.entries.append(name)
            guard summary.entries.count <= limits.maximumEntries else { throw ArchiveError("the archive has more than \(limits.maximumEntries) entries") }
            let components = try Self.safeComponents(name)
            name = components.joined(separator: "/")
            switch type {
            case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
                if name.hasSuffix(".tf") || name.hasSuffix(".tf.json") { summary.terraformFiles.append(name) }
            case UInt8(ascii: "5"):
                break
            case UInt8(ascii: "2"):
                // A symlink is resolved against its own directory and must stay inside the root.
                guard !link.hasPrefix("/") else { throw ArchiveError("symlink \(name) points to an absolute path") }
                var depth = components.count - 1
                for part in link.split(separator: "/", omittingEmptySubsequences: true) {
                    if part == "." { continue }
                    if part == ".." { depth -= 1 } else { depth += 1 }
                    guard depth >= 0 else { throw ArchiveError("symlink \(name) points outside the module") }
                }
            case UInt8(ascii: "1"):
                _ = try Self.safeComponents(link)
            default:
                throw ArchiveError("entry \(name) is not a regular file, directory or link")
            }
            guard try reader.skip(padded) else { throw ArchiveError("the tar stream is truncated") }
        }
        guard sawEnd || !summary.entries.isEmpty else { throw ArchiveError("the archive is empty") }
        return summary
    }

    /// Splits a member path into components, rejecting absolute paths, `..`, NUL and backslashes.
    static func safeComponents(_ path: String) throws(ArchiveError) -> [String] {
        guard !path.isEmpty else { throw ArchiveError("an entry has an empty name") }
        guard !path.hasPrefix("/") else { throw ArchiveError("entry \(path) has an absolute path") }
        guard !path.utf8.contains(0), !path.contains("\\") else { throw ArchiveError("entry \(path) has an invalid character") }
        var parts: [String] = []
        for p in path.split(separator: "/", omittingEmptySubsequences: true) {
            if p == "." { continue }
            guard p != ".." else { throw ArchiveError("entry \(path) leaves the archive root ('..')") }
            parts.append(String(p))
        }
        return parts
    }

    static func headerPath(_ h: [UInt8]) -> String {
        let name = string(h[0..<100])
        let isUstar = h[257..<262].elementsEqual("ustar".utf8)
        let prefix = isUstar ? string(h[345..<500]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    static func string(_ bytes: ArraySlice<UInt8>) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    static func octal(_ bytes: ArraySlice<UInt8>) -> Int64? {
        if let first = bytes.first, first & 0x80 != 0 {
            // GNU base-256 for large sizes.
            var v: Int64 = Int64(first & 0x7f)
            for b in bytes.dropFirst() {
                guard v < Int64.max >> 8 else { return nil }
                v = v << 8 | Int64(b)
            }
            return v
        }
        let text = bytes.prefix { $0 != 0 && $0 != UInt8(ascii: " ") }.drop { $0 == UInt8(ascii: " ") }
        if text.isEmpty { return 0 }
        return Int64(String(decoding: text, as: UTF8.self), radix: 8)
    }

    static func checksumMatches(_ h: [UInt8]) -> Bool {
        guard let stored = octal(h[148..<156]) else { return false }
        var sum: Int64 = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int64(b) }
        return stored == sum
    }

    /// pax records: "LEN key=value\n".
    static func paxRecords(_ data: [UInt8]) throws(ArchiveError) -> [String: String] {
        var out: [String: String] = [:]
        var i = 0
        while i < data.count {
            guard let space = data[i...].firstIndex(of: UInt8(ascii: " ")),
                let len = Int(String(decoding: data[i..<space], as: UTF8.self)), len > space - i, len <= data.count - i,
                data[i + len - 1] == UInt8(ascii: "\n")
            else { throw ArchiveError("a pax header is malformed") }
            let record = data[(space + 1)..<(i + len - 1)]
            guard let eq = record.firstIndex(of: UInt8(ascii: "=")) else { throw ArchiveError("a pax header is malformed") }
            out[String(decoding: record[..<eq], as: UTF8.self)] = String(decoding: record[(eq + 1)...], as: UTF8.self)
            i += len
        }
        return out
    }
}
