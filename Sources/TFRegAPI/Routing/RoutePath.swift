/// Writes a parameter into a route path: as it is when every byte may stand in a path segment
/// (RFC 3986 §3.3 `pchar`: unreserved, sub-delims, `:` and `@` — every value that passed its grammar,
/// so those paths are byte for byte what they were), else percent-encoded (`#` in `token:NAME#ID`),
/// so `URLParsing.segments` reads back exactly the value written.
enum RoutePath {
    static func segment(_ value: String, keepSlash: Bool = false) -> String {
        // Over contiguous UTF-8 with a table: iterating a String's UTF8View through a closure cost
        // ~35 instructions a byte, on every download link.
        let clean =
            value.utf8.withContiguousStorageIfAvailable { bytes in
                bytes.allSatisfy { pathBytes[Int($0)] || (keepSlash && $0 == UInt8(ascii: "/")) }
            } ?? value.utf8.allSatisfy { isPathByte($0) || (keepSlash && $0 == UInt8(ascii: "/")) }
        if clean { return value }
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count * 3)
        for b in value.utf8 {
            if isPathByte(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(b)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(b >> 4)], hex[Int(b & 0xf)]]
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `isPathByte` for every byte value.
    static let pathBytes: [Bool] = (0...255).map { isPathByte(UInt8($0)) }

    /// `pchar` without `%` (a literal `%` is encoded, so no value is ever read as an escape).
    static func isPathByte(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): true
        case UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"): true
        case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"), UInt8(ascii: "("), UInt8(ascii: ")"): true
        case UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"), UInt8(ascii: "@"): true
        default: false
        }
    }
}
