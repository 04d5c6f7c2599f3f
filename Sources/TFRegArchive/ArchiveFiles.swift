import Glibc

/// Reads chosen files out of a module archive with the same strict reader as canonicalization
/// (`GzipReader` + `StrictTarReader`), for the documentation extractor: every entry is read and
/// checked, only the selected regular files' bytes are kept, each and all together bounded.
public enum ArchiveFiles {
    public struct File: Sendable, Equatable {
        public let path: String
        public let bytes: [UInt8]
    }

    public struct Contents: Sendable {
        /// The selected files within the bounds, in archive order.
        public var files: [File] = []
        /// Every regular file's path (selected or not).
        public var paths: [String] = []
        /// Selected files left out by `maximumFileBytes` or `maximumTotalBytes`.
        public var leftOut: [String] = []
    }

    /// The archive at `path` (file data spooled in an unlinked temporary file, as canonicalization does).
    public static func read(
        archiveAt path: String,
        limits: ArchiveLimits = ArchiveLimits(),
        maximumFileBytes: Int,
        maximumTotalBytes: Int,
        select: (String) -> Bool
    ) throws(ArchiveError) -> Contents {
        let spoolPath = "/tmp/tfreg-docs-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).spool"
        return try read(
            source: FileByteSource(path: path),
            spool: FileSpool(path: spoolPath),
            limits: limits,
            maximumFileBytes: maximumFileBytes,
            maximumTotalBytes: maximumTotalBytes,
            select: select
        )
    }

    /// The same from bytes in memory (tests, fuzzing).
    public static func read(
        bytes: [UInt8],
        limits: ArchiveLimits = ArchiveLimits(),
        maximumFileBytes: Int,
        maximumTotalBytes: Int,
        select: (String) -> Bool
    ) throws(ArchiveError) -> Contents {
        try read(
            source: MemoryByteSource(bytes),
            spool: MemorySpool(),
            limits: limits,
            maximumFileBytes: maximumFileBytes,
            maximumTotalBytes: maximumTotalBytes,
            select: select
        )
    }

    static func read(
        source: any ByteSource,
        spool: any DataSpool,
        limits: ArchiveLimits,
        maximumFileBytes: Int,
        maximumTotalBytes: Int,
        select: (String) -> Bool
    ) throws(ArchiveError) -> Contents {
        let gz = try GzipReader(source: source, maximumOutput: limits.maximumExpandedBytes)
        let reader = StrictTarReader(gzip: gz, limits: limits, spool: spool)
        try reader.readAll()
        var out = Contents()
        var total = 0
        for entry in reader.entries {
            guard case .file(let offset, let size, _) = entry.kind else { continue }
            let path = String(decoding: Array(entry.components.joined(separator: [UInt8(ascii: "/")])), as: UTF8.self)
            out.paths.append(path)
            guard select(path) else { continue }
            guard let n = Int(exactly: size), n <= maximumFileBytes, n <= maximumTotalBytes - total else {
                out.leftOut.append(path)
                continue
            }
            var bytes = [UInt8](repeating: 0, count: n)
            if n > 0 {
                try bytes.withUnsafeMutableBytes { buffer in
                    Result { () throws(ArchiveError) in try spool.read(at: offset, into: buffer) }
                }.get()
            }
            total += n
            out.files.append(File(path: path, bytes: bytes))
        }
        return out
    }
}
