import CZlib
import TFRegCore

#if canImport(Glibc)
import Glibc
#endif

/// Errors from reading or writing compressed archives.
public struct ArchiveError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// Streams the decompressed bytes of a gzip file (RFC 1952) with zlib, never holding more than a
/// small buffer, and stops with an error once more than `maximumOutput` bytes come out (gzip bombs).
public final class GzipFileReader {
    private static let chunk = 64 * 1024
    private var stream = z_stream()
    private let fd: Int32
    private let inBuf = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
    private let outBuf = UnsafeMutablePointer<UInt8>.allocate(capacity: chunk)
    private var outStart = 0
    private var outEnd = 0
    private var finished = false
    private let maximumOutput: Int64
    public private(set) var totalOutput: Int64 = 0

    public init(path: String, maximumOutput: Int64) throws(ArchiveError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        self.maximumOutput = maximumOutput
        guard fd >= 0 else {
            inBuf.deallocate()
            outBuf.deallocate()
            throw ArchiveError("cannot open archive")
        }
        // 16 + MAX_WBITS: expect a gzip header and trailer, and check its CRC.
        let rc = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        guard rc == Z_OK else {
            close(fd)
            inBuf.deallocate()
            outBuf.deallocate()
            throw ArchiveError("zlib inflateInit2 failed: \(rc)")
        }
    }

    deinit {
        inflateEnd(&stream)
        close(fd)
        inBuf.deallocate()
        outBuf.deallocate()
    }

    /// Reads up to `count` bytes; fewer only at the end of the stream.
    public func read(_ count: Int) throws(ArchiveError) -> [UInt8] {
        var result: [UInt8] = []
        result.reserveCapacity(count)
        while result.count < count {
            if outStart < outEnd {
                let take = min(count - result.count, outEnd - outStart)
                result.append(contentsOf: UnsafeBufferPointer(start: outBuf + outStart, count: take))
                outStart += take
                continue
            }
            if finished { break }
            try fill()
        }
        return result
    }

    /// Skips `count` bytes of decompressed output; false if the stream ended first.
    public func skip(_ count: Int64) throws(ArchiveError) -> Bool {
        var left = count
        while left > 0 {
            if outStart < outEnd {
                let take = Int(min(left, Int64(outEnd - outStart)))
                outStart += take
                left -= Int64(take)
                continue
            }
            if finished { return false }
            try fill()
        }
        return true
    }

    private func fill() throws(ArchiveError) {
        outStart = 0
        outEnd = 0
        while outEnd == 0 && !finished {
            if stream.avail_in == 0 {
                let n = Glibc.read(fd, inBuf, Self.chunk)
                if n < 0 { throw ArchiveError("cannot read archive") }
                if n == 0 { throw ArchiveError("the gzip stream is truncated") }
                stream.next_in = inBuf
                stream.avail_in = UInt32(n)
            }
            stream.next_out = outBuf
            stream.avail_out = UInt32(Self.chunk)
            let rc = inflate(&stream, Z_NO_FLUSH)
            outEnd = Self.chunk - Int(stream.avail_out)
            switch rc {
            case Z_OK, Z_BUF_ERROR: break
            case Z_STREAM_END: finished = true
            default: throw ArchiveError("the archive is not valid gzip data")
            }
            totalOutput += Int64(outEnd)
            if totalOutput > maximumOutput {
                throw ArchiveError("the archive expands to more than \(maximumOutput) bytes")
            }
        }
    }
}

/// One-shot gzip compression with fixed header fields (mtime 0, no name), so equal input gives equal output.
public enum Gzip {
    public static func compress(_ data: [UInt8], level: Int32 = 9) throws(ArchiveError) -> [UInt8] {
        var stream = z_stream()
        guard deflateInit2_(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw ArchiveError("zlib deflateInit2 failed")
        }
        defer { deflateEnd(&stream) }
        var header = gz_header()
        header.os = 255  // "unknown": the same bytes on every platform
        _ = deflateSetHeader(&stream, &header)
        var out = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(data.count))) + 64)
        var input = data
        let rc: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
            out.withUnsafeMutableBufferPointer { outBuf in
                stream.next_in = inBuf.baseAddress
                stream.avail_in = UInt32(inBuf.count)
                stream.next_out = outBuf.baseAddress
                stream.avail_out = UInt32(outBuf.count)
                return deflate(&stream, Z_FINISH)
            }
        }
        guard rc == Z_STREAM_END else { throw ArchiveError("zlib deflate failed: \(rc)") }
        out.removeSubrange(Int(stream.total_out)...)
        return out
    }
}
