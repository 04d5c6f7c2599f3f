/// Byte encodings used in tokens, signatures and digests.
public enum Hex {
    private static let digits = Array("0123456789abcdef".utf8)

    /// Arrays (digests, MACs: SigV4 encodes several per AWS call) take this concrete path; the generic
    /// one below is not specialized across modules and costs several times more.
    public static func encode(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBufferPointer { encode(buffer: $0) }
    }

    static func encode(buffer bytes: UnsafeBufferPointer<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            digits.withUnsafeBufferPointer { d in
                for (i, b) in bytes.enumerated() {
                    out[2 * i] = d[Int(b >> 4)]
                    out[2 * i + 1] = d[Int(b & 0x0f)]
                }
            }
            return bytes.count * 2
        }
    }

    public static func encode(_ bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            var i = 0
            for b in bytes {
                out[i] = digits[Int(b >> 4)]
                out[i + 1] = digits[Int(b & 0x0f)]
                i += 2
            }
            return i
        }
    }

    /// Decodes lowercase or uppercase hex; nil for odd length or a non-hex character.
    public static func decode(_ string: some StringProtocol) -> [UInt8]? {
        let utf8 = Array(string.utf8)
        guard utf8.count % 2 == 0 else { return nil }
        var out = [UInt8]()
        out.reserveCapacity(utf8.count / 2)
        var i = 0
        while i < utf8.count {
            guard let hi = value(utf8[i]), let lo = value(utf8[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    private static func value(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}

/// Base64 (RFC 4648 §4) and its URL-safe unpadded form (§5), strict on decode.
public enum Base64 {
    private static let standard = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/".utf8)
    private static let urlSafe = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    public static func encode(_ bytes: some Collection<UInt8>, urlSafe url: Bool = false) -> String {
        let table = url ? urlSafe : standard
        let input = Array(bytes)
        var out = [UInt8]()
        out.reserveCapacity((input.count + 2) / 3 * 4)
        var i = 0
        while i + 3 <= input.count {
            let n = UInt32(input[i]) << 16 | UInt32(input[i + 1]) << 8 | UInt32(input[i + 2])
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)], table[Int(n >> 6 & 63)], table[Int(n & 63)]]
            i += 3
        }
        let rest = input.count - i
        if rest > 0 {
            var n = UInt32(input[i]) << 16
            if rest == 2 { n |= UInt32(input[i + 1]) << 8 }
            out += [table[Int(n >> 18 & 63)], table[Int(n >> 12 & 63)]]
            if rest == 2 { out.append(table[Int(n >> 6 & 63)]) }
            if !url { out += Array(repeating: UInt8(ascii: "="), count: 3 - rest) }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes; `urlSafe` expects the unpadded URL alphabet. Returns nil on any invalid character or length.
    /// Reads the string's UTF-8 in place when it is contiguous (a sealed token on every request).
    public static func decode(_ string: some StringProtocol, urlSafe url: Bool = false) -> [UInt8]? {
        if let result = string.utf8.withContiguousStorageIfAvailable({ decode(bytes: $0, url: url) }) { return result }
        return Array(string.utf8).withUnsafeBufferPointer { decode(bytes: $0, url: url) }
    }

    static func decode(bytes: UnsafeBufferPointer<UInt8>, url: Bool) -> [UInt8]? {
        var count = bytes.count
        if !url {
            guard count % 4 == 0 else { return nil }
            var pad = 0
            while pad < 2, count > 0, bytes[count - 1] == UInt8(ascii: "=") {
                count -= 1
                pad += 1
            }
        }
        guard count % 4 != 1 else { return nil }
        let values = url ? urlSafeValues : standardValues
        var acc: UInt32 = 0
        var bits = 0
        var valid = true
        // Written in place (no per-byte capacity check or table bounds check: the table has 256 entries
        // and `i` stays below `count`); a sealed token's base64 was a fifth of its verification.
        let out = values.withUnsafeBufferPointer { table in
            [UInt8](unsafeUninitializedCapacity: count * 3 / 4) { buffer, written in
                var n = 0
                for i in 0..<count {
                    let v = table[Int(bytes[i])]
                    guard v != invalid else {
                        valid = false
                        break
                    }
                    acc = acc << 6 | UInt32(v)
                    bits += 6
                    if bits >= 8 {
                        bits -= 8
                        buffer[n] = UInt8(truncatingIfNeeded: acc >> UInt32(bits))
                        n += 1
                    }
                }
                written = n
            }
        }
        guard valid else { return nil }
        // Non-canonical encodings (non-zero leftover bits) are rejected so each value has one spelling.
        if bits > 0, acc & ((1 << UInt32(bits)) - 1) != 0 { return nil }
        return out
    }

    /// Each byte's 6-bit value in an alphabet, `invalid` for bytes outside it.
    private static let invalid: UInt8 = 0xff
    private static let standardValues = values(of: standard)
    private static let urlSafeValues = values(of: urlSafe)
    private static func values(of alphabet: [UInt8]) -> [UInt8] {
        var table = [UInt8](repeating: invalid, count: 256)
        for (i, c) in alphabet.enumerated() { table[Int(c)] = UInt8(i) }
        return table
    }
}

/// RFC 3986 percent-encoding: every byte outside the unreserved set `A-Za-z0-9-._~` (and `/` when
/// `keepSlash`) becomes `%XX` with uppercase hex. Used for URLs tfreg builds and for SigV4.
public enum PercentEncoding {
    public static func encode(_ s: String, keepSlash: Bool = false) -> String {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(s.utf8.count)
        for b in s.utf8 {
            let unreserved =
                (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
                || b == UInt8(ascii: "-") || b == UInt8(ascii: ".") || b == UInt8(ascii: "_") || b == UInt8(ascii: "~")
            if unreserved || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
