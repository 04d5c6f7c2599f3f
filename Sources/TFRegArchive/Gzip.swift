import CZlib
import Glibc
import TFRegCore
import TFRegSystem

/// Errors from reading or writing compressed archives.
public struct ArchiveError: Error, Sendable, CustomStringConvertible, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

// MARK: Byte sources and sinks

/// Where compressed bytes come from: a file or memory, so the one strict reader serves both the
/// server (files) and the fuzzer (byte arrays).
public protocol ByteSource: AnyObject {
    /// Reads up to `buffer.count` bytes; 0 only at the end.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int
}

/// Where bytes go.
public protocol ByteSink: AnyObject {
    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError)
}

/// Reads a file descriptor it owns.
final class FileByteSource: ByteSource {
    private let fd: Int32
    init(path: String) throws(ArchiveError) {
        fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ArchiveError("cannot open archive") }
    }
    deinit { close(fd) }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        while true {
            let n = Glibc.read(fd, buffer.baseAddress, buffer.count)
            if n >= 0 { return n }
            if errno != EINTR { throw ArchiveError("cannot read archive") }
        }
    }
}

/// Reads a byte array.
final class MemoryByteSource: ByteSource {
    private let bytes: [UInt8]
    private var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        let n = min(buffer.count, bytes.count - offset)
        guard n > 0 else { return 0 }
        bytes.withUnsafeBytes { src in
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[offset..<(offset + n)]))
        }
        offset += n
        return n
    }
}

/// Writes every byte to a file descriptor it does not own.
final class FileByteSink: ByteSink {
    let fd: Int32
    init(fd: Int32) { self.fd = fd }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        guard FileSystem.write(fd: fd, bytes) else { throw ArchiveError("cannot write the canonical archive (errno \(errno))") }
    }
}

/// Collects bytes in memory.
final class MemoryByteSink: ByteSink {
    var bytes: [UInt8] = []
    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) { self.bytes.append(contentsOf: bytes) }
}

// MARK: Reading

/// Streams the decompressed bytes of a gzip stream (RFC 1952) with zlib, never holding more than two
/// 64 KiB buffers. Reads every member (RFC 1952 §2.2: a file is a series of members, and GNU tar, Go
/// and Python read them all), and zlib checks each member's CRC-32 and ISIZE trailer. Refuses
/// truncation, data after the last member that is not a member, and more than `maximumOutput`
/// decompressed bytes over all members together (gzip bombs).
public final class GzipReader {
    private static let chunk = 64 * 1024
    private var stream = z_stream()
    private let source: any ByteSource
    private let inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    private let outBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    private var outStart = 0
    private var outEnd = 0
    private var atMemberBoundary = false
    private var finished = false
    private let maximumOutput: Int64
    /// Decompressed bytes produced so far, over all members.
    public private(set) var totalOutput: Int64 = 0
    /// Members started so far.
    public private(set) var members = 1

    init(source: any ByteSource, maximumOutput: Int64) throws(ArchiveError) {
        self.source = source
        self.maximumOutput = maximumOutput
        // 16 + MAX_WBITS: a gzip header and trailer are required, and zlib checks CRC-32 and ISIZE.
        let rc = inflateInit2_(&stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size))
        // Every stored property is initialized here, so a throw still runs `deinit`, which frees the
        // buffers (freeing them here too would free them twice); inflateEnd on a stream that never
        // initialized only returns Z_STREAM_ERROR.
        guard rc == Z_OK else { throw ArchiveError("zlib inflateInit2 failed: \(rc)") }
    }

    public convenience init(path: String, maximumOutput: Int64) throws(ArchiveError) {
        try self.init(source: FileByteSource(path: path), maximumOutput: maximumOutput)
    }

    deinit {
        inflateEnd(&stream)
        inBuf.deallocate()
        outBuf.deallocate()
    }

    /// Fills `buffer` completely unless the stream ends; returns how many bytes were written.
    func read(into buffer: UnsafeMutableRawBufferPointer) throws(ArchiveError) -> Int {
        var filled = 0
        while filled < buffer.count {
            if outStart < outEnd {
                let take = min(buffer.count - filled, outEnd - outStart)
                UnsafeMutableRawBufferPointer(rebasing: buffer[filled..<(filled + take)])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: outBuf[outStart..<(outStart + take)]))
                outStart += take
                filled += take
                continue
            }
            if finished { break }
            try fill()
        }
        return filled
    }

    /// Reads up to `count` bytes; fewer only at the end of the stream.
    public func read(_ count: Int) throws(ArchiveError) -> [UInt8] {
        var result = [UInt8](repeating: 0, count: count)
        let n = try result.withUnsafeMutableBytes { b in Result { () throws(ArchiveError) in try read(into: b) } }.get()
        result.removeSubrange(n...)
        return result
    }

    /// Hands the next bytes, at most `limit`, to `body` straight from the output buffer; 0 at the end.
    func withNextChunk(
        limit: Int,
        _ body: (UnsafeRawBufferPointer) throws(ArchiveError) -> Void
    ) throws(ArchiveError)
        -> Int
    {
        while outStart >= outEnd {
            if finished { return 0 }
            try fill()
        }
        let take = min(limit, outEnd - outStart)
        try body(UnsafeRawBufferPointer(rebasing: outBuf[outStart..<(outStart + take)]))
        outStart += take
        return take
    }

    private func refill() throws(ArchiveError) -> Int {
        let n = try source.read(into: inBuf)
        stream.next_in = inBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = UInt32(n)
        return n
    }

    private func fill() throws(ArchiveError) {
        outStart = 0
        outEnd = 0
        while outEnd == 0 && !finished {
            if atMemberBoundary {
                // After a member's trailer: either the input ends here, or another member starts.
                if stream.avail_in == 0, try refill() == 0 {
                    finished = true
                    return
                }
                guard inflateReset(&stream) == Z_OK else { throw ArchiveError("zlib inflateReset failed") }
                atMemberBoundary = false
                members += 1
            }
            if stream.avail_in == 0, try refill() == 0 {
                throw ArchiveError("the gzip stream is truncated")
            }
            stream.next_out = outBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(Self.chunk)
            let rc = inflate(&stream, Z_NO_FLUSH)
            outEnd = Self.chunk - Int(stream.avail_out)
            switch rc {
            case Z_OK: break
            case Z_STREAM_END: atMemberBoundary = true
            case Z_BUF_ERROR where stream.avail_in == 0: break
            default: throw Self.error(rc, stream.msg, member: members)
            }
            totalOutput += Int64(outEnd)
            if totalOutput > maximumOutput {
                throw ArchiveError("the archive expands to more than \(maximumOutput) bytes")
            }
        }
    }

    private static func error(_ rc: Int32, _ msg: UnsafePointer<CChar>?, member: Int) -> ArchiveError {
        let text = msg.map { String(cString: $0) } ?? "zlib error \(rc)"
        switch text {
        case "incorrect data check":
            return ArchiveError("gzip member \(member): the CRC-32 in the trailer does not match the data")
        case "incorrect length check":
            return ArchiveError("gzip member \(member): the ISIZE in the trailer does not match the data length")
        case "incorrect header check" where member > 1:
            return ArchiveError("the archive has data after its last gzip member")
        case "incorrect header check": return ArchiveError("the archive is not gzip data")
        default: return ArchiveError("gzip member \(member) is corrupt: \(text)")
        }
    }
}

// MARK: Writing

/// Streams one gzip member with fixed header fields (mtime 0, no name, OS 255 "unknown"), zlib level 6,
/// windowBits 15, memLevel 8, default strategy. Input is collected into 64 KiB blocks and each full
/// block goes to deflate whole, so the output depends only on the bytes written, never on how the
/// caller split them.
final class GzipWriter {
    static let chunk = 64 * 1024
    private var stream = z_stream()
    private let header = UnsafeMutablePointer<gz_header>.allocate(capacity: 1)
    private let inBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    private let outBuf = UnsafeMutableRawBufferPointer.allocate(byteCount: chunk, alignment: 16)
    private var pending = 0
    private let sink: any ByteSink

    init(sink: any ByteSink, level: Int32 = 6) throws(ArchiveError) {
        self.sink = sink
        header.initialize(to: gz_header())
        header.pointee.os = 255
        guard
            deflateInit2_(
                &stream,
                level,
                Z_DEFLATED,
                16 + MAX_WBITS,
                8,
                Z_DEFAULT_STRATEGY,
                ZLIB_VERSION,
                Int32(MemoryLayout<z_stream>.size)
            ) == Z_OK
        else {
            // As in GzipReader: `deinit` runs after this throw and frees the buffers.
            throw ArchiveError("zlib deflateInit2 failed")
        }
        // zlib keeps the pointer until it writes the header, hence the heap allocation.
        _ = deflateSetHeader(&stream, header)
    }

    deinit {
        deflateEnd(&stream)
        header.deallocate()
        inBuf.deallocate()
        outBuf.deallocate()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) {
        var off = 0
        while off < bytes.count {
            let take = min(Self.chunk - pending, bytes.count - off)
            UnsafeMutableRawBufferPointer(rebasing: inBuf[pending..<(pending + take)])
                .copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[off..<(off + take)]))
            pending += take
            off += take
            if pending == Self.chunk { try deflatePending(flush: Z_NO_FLUSH) }
        }
    }

    func write(_ bytes: [UInt8]) throws(ArchiveError) {
        try bytes.withUnsafeBytes { b in Result { () throws(ArchiveError) in try write(b) } }.get()
    }

    /// Writes the last block and the trailer.
    func finish() throws(ArchiveError) { try deflatePending(flush: Z_FINISH) }

    private func deflatePending(flush: Int32) throws(ArchiveError) {
        stream.next_in = inBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
        stream.avail_in = UInt32(pending)
        while true {
            stream.next_out = outBuf.baseAddress?.assumingMemoryBound(to: Bytef.self)
            stream.avail_out = UInt32(Self.chunk)
            let rc = deflate(&stream, flush)
            guard rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR else {
                throw ArchiveError("zlib deflate failed: \(rc)")
            }
            let produced = Self.chunk - Int(stream.avail_out)
            if produced > 0 { try sink.write(UnsafeRawBufferPointer(rebasing: outBuf[0..<produced])) }
            if flush == Z_FINISH ? rc == Z_STREAM_END : (stream.avail_in == 0 && stream.avail_out > 0) { break }
        }
        pending = 0
    }
}

/// One-shot gzip compression through `GzipWriter`, so equal input gives equal output.
public enum Gzip {
    public static func compress(_ data: [UInt8]) throws(ArchiveError) -> [UInt8] {
        let sink = MemoryByteSink()
        let writer = try GzipWriter(sink: sink)
        try writer.write(data)
        try writer.finish()
        return sink.bytes
    }
}
