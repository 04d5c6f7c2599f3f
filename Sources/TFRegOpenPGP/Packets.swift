/// One OpenPGP packet (RFC 9580 §4): its tag and body.
struct Packet {
    let tag: UInt8
    let body: [UInt8]
}

/// Reads a sequence of packets, both header formats, definite lengths only (partial lengths belong to
/// data packets, which never appear in keys or detached signatures; indeterminate length is refused).
enum PacketReader {
    static func packets(_ bytes: [UInt8], maximumCount: Int) throws(OpenPGPError) -> [Packet] {
        var out: [Packet] = []
        var i = 0
        while i < bytes.count {
            guard out.count < maximumCount else {
                throw OpenPGPError(.tooLarge, "more than \(maximumCount) packets")
            }
            let header = bytes[i]
            guard header & 0x80 != 0 else { throw OpenPGPError(.malformed, "a packet header lacks its high bit") }
            i += 1
            let tag: UInt8
            let length: Int
            if header & 0x40 != 0 {
                tag = header & 0x3f
                guard i < bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                let first = Int(bytes[i])
                i += 1
                switch first {
                case 0..<192:
                    length = first
                case 192..<224:
                    guard i < bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                    length = ((first - 192) << 8) + Int(bytes[i]) + 192
                    i += 1
                case 255:
                    guard i + 4 <= bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                    length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                    i += 4
                default:
                    throw OpenPGPError(.unsupported, "partial body lengths are not accepted here")
                }
            } else {
                tag = (header >> 2) & 0x0f
                switch header & 0x03 {
                case 0:
                    guard i < bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                    length = Int(bytes[i])
                    i += 1
                case 1:
                    guard i + 2 <= bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                    length = Int(bytes[i]) << 8 | Int(bytes[i + 1])
                    i += 2
                case 2:
                    guard i + 4 <= bytes.count else { throw OpenPGPError(.malformed, "a packet length is truncated") }
                    length = Int(bytes[i]) << 24 | Int(bytes[i + 1]) << 16 | Int(bytes[i + 2]) << 8 | Int(bytes[i + 3])
                    i += 4
                default:
                    throw OpenPGPError(.unsupported, "indeterminate packet lengths are not accepted")
                }
            }
            guard tag != 0 else { throw OpenPGPError(.malformed, "packet tag 0 is reserved") }
            guard length <= bytes.count - i else { throw OpenPGPError(.malformed, "a packet is longer than its input") }
            out.append(Packet(tag: tag, body: Array(bytes[i..<(i + length)])))
            i += length
        }
        return out
    }
}

/// A bounds-checked reader over a packet body; every read throws `malformed` past the end.
struct ByteCursor {
    let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func byte() throws(OpenPGPError) -> UInt8 {
        guard offset < bytes.count else { throw OpenPGPError(.malformed, "a packet ends early") }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func take(_ count: Int) throws(OpenPGPError) -> [UInt8] {
        guard count >= 0, count <= remaining else { throw OpenPGPError(.malformed, "a packet ends early") }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    mutating func uint16() throws(OpenPGPError) -> Int {
        let b = try take(2)
        return Int(b[0]) << 8 | Int(b[1])
    }

    mutating func uint32() throws(OpenPGPError) -> UInt32 {
        let b = try take(4)
        return UInt32(b[0]) << 24 | UInt32(b[1]) << 16 | UInt32(b[2]) << 8 | UInt32(b[3])
    }

    /// A multiprecision integer (RFC 9580 §3.2): a bit count, then its bytes. The bit count must be the
    /// value's exact bit length (no leading zero bytes or bits), as gpg writes it.
    mutating func mpi() throws(OpenPGPError) -> [UInt8] {
        let bits = try uint16()
        guard bits <= OpenPGPLimits.maximumMPIBits else { throw OpenPGPError(.tooLarge, "an MPI of \(bits) bits") }
        let value = try take((bits + 7) / 8)
        if let first = value.first {
            let top = 8 - first.leadingZeroBitCount
            guard first != 0, (value.count - 1) * 8 + top == bits else {
                throw OpenPGPError(.malformed, "an MPI's bit count does not match its value")
            }
        }
        return value
    }

    mutating func expectEnd(_ what: String) throws(OpenPGPError) {
        guard isAtEnd else { throw OpenPGPError(.malformed, "\(what) has trailing bytes") }
    }
}

extension Array where Element == UInt8 {
    /// Big-endian bytes of a 32-bit length, for the hashed trailers of RFC 9580 §5.2.4.
    static func bigEndian32(_ n: Int) -> [UInt8] {
        [UInt8(truncatingIfNeeded: n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)]
    }
}
