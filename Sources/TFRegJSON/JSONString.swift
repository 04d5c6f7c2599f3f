/// JSON strings as bytes (RFC 8259): the one reader and writer shared by tfreg's strict request-body
/// parser (TFRegAPI) and its DynamoDB wire codec (TFRegAWS).
public enum JSONString {
    public struct Malformed: Error, Equatable {
        public let message: String
    }

    /// Reads the string whose opening quote is `b[i]`; afterwards `i` is past the closing quote.
    /// Strict: a control character, an unknown escape, a lone surrogate or invalid UTF-8 is an error,
    /// and on an error `i` is where it was found.
    public static func read(_ b: [UInt8], at i: inout Int) throws(Malformed) -> String {
        guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw Malformed(message: "expected a string") }
        i += 1
        let start = i
        // Fast path: no escape before the closing quote, the bytes between the quotes are the string.
        while i < b.count, b[i] != UInt8(ascii: "\""), b[i] != UInt8(ascii: "\\") {
            guard b[i] >= 0x20 else { throw Malformed(message: "control character in string") }
            i += 1
        }
        guard i < b.count else { throw Malformed(message: "unterminated string") }
        var out = Array(b[start..<i])
        while true {
            guard i < b.count else { throw Malformed(message: "unterminated string") }
            let c = b[i]
            i += 1
            switch c {
            case UInt8(ascii: "\""):
                guard let s = String(validating: out, as: UTF8.self) else { throw Malformed(message: "invalid UTF-8") }
                return s
            case UInt8(ascii: "\\"):
                guard i < b.count else { throw Malformed(message: "unterminated escape") }
                let e = b[i]
                i += 1
                switch e {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
                case UInt8(ascii: "b"): out.append(0x08)
                case UInt8(ascii: "f"): out.append(0x0c)
                case UInt8(ascii: "n"): out.append(0x0a)
                case UInt8(ascii: "r"): out.append(0x0d)
                case UInt8(ascii: "t"): out.append(0x09)
                case UInt8(ascii: "u"):
                    var scalar = try hex4(b, at: &i)
                    if (0xD800...0xDBFF).contains(scalar) {
                        guard i + 2 <= b.count, b[i] == UInt8(ascii: "\\"), b[i + 1] == UInt8(ascii: "u") else {
                            throw Malformed(message: "lone surrogate")
                        }
                        i += 2
                        let low = try hex4(b, at: &i)
                        guard (0xDC00...0xDFFF).contains(low) else { throw Malformed(message: "lone surrogate") }
                        scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                    } else if (0xDC00...0xDFFF).contains(scalar) {
                        throw Malformed(message: "lone surrogate")
                    }
                    guard let u = Unicode.Scalar(scalar) else { throw Malformed(message: "invalid \\u escape") }
                    out += Array(String(Character(u)).utf8)
                default: throw Malformed(message: "invalid escape")
                }
            case 0..<0x20: throw Malformed(message: "control character in string")
            default: out.append(c)
            }
        }
    }

    static func hex4(_ b: [UInt8], at i: inout Int) throws(Malformed) -> UInt32 {
        guard i + 4 <= b.count else { throw Malformed(message: "invalid \\u escape") }
        var v: UInt32 = 0
        for c in b[i..<i + 4] {
            let d: UInt8
            switch c {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
            default: throw Malformed(message: "invalid \\u escape")
            }
            v = v << 4 | UInt32(d)
        }
        i += 4
        return v
    }

    /// Writes `s` quoted: quote, backslash, control characters and DEL escaped, the rest as UTF-8.
    public static func write(_ s: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        var s = s
        // Runs of bytes that need no escape are copied whole; nothing is allocated per string (this
        // runs for every string of every response).
        s.withUTF8 { bytes in
            var run = 0
            for i in 0..<bytes.count {
                let b = bytes[i]
                guard b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") || b < 0x20 || b == 0x7f else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run..<i]))
                run = i + 1
                out.append(UInt8(ascii: "\\"))
                switch b {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(b)
                case 0x0a: out.append(UInt8(ascii: "n"))
                case 0x0d: out.append(UInt8(ascii: "r"))
                case 0x09: out.append(UInt8(ascii: "t"))
                default:
                    out.append(UInt8(ascii: "u"))
                    out.append(UInt8(ascii: "0"))
                    out.append(UInt8(ascii: "0"))
                    out.append(hexDigit(b >> 4))
                    out.append(hexDigit(b & 0xf))
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[run...]))
        }
        out.append(UInt8(ascii: "\""))
    }

    private static func hexDigit(_ n: UInt8) -> UInt8 { n < 10 ? UInt8(ascii: "0") + n : UInt8(ascii: "a") + n - 10 }
}
