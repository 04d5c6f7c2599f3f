import TFRegCore
import TFRegJSON

/// A strict RFC 8259 parser for request bodies. Stricter than most on purpose: a duplicate key, a
/// lone surrogate, a number that is not an integer, nesting deeper than 16, or trailing bytes are all
/// errors, so two components can never read one body two ways.
public enum JSONParser {
    public static func parse(_ bytes: [UInt8]) throws(RegistryError) -> JSONValue {
        var p = Parser(b: bytes)
        p.skipSpace()
        let v = try p.value(depth: 0)
        p.skipSpace()
        guard p.i == bytes.count else { throw p.fail("unexpected data after the JSON value") }
        return v
    }

    struct Parser {
        let b: [UInt8]
        var i = 0

        func fail(_ m: String) -> RegistryError { .badRequest("malformed JSON body: \(m) at byte \(i)") }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
        }

        mutating func literal(_ word: String, _ v: JSONValue) throws(RegistryError) -> JSONValue {
            let w = Array(word.utf8)
            guard i + w.count <= b.count, Array(b[i..<i + w.count]) == w else { throw fail("invalid literal") }
            i += w.count
            return v
        }

        mutating func value(depth: Int) throws(RegistryError) -> JSONValue {
            guard depth < 16 else { throw fail("nested too deeply") }
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"):
                i += 1
                var fields: [(String, JSONValue)] = []
                var seen = Set<String>()
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "}") {
                    i += 1
                    return .object([])
                }
                while true {
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
                    let k = try string()
                    guard seen.insert(k).inserted else { throw fail("duplicate key '\(k.prefix(64))'") }
                    skipSpace()
                    guard i < b.count, b[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
                    i += 1
                    skipSpace()
                    fields.append((k, try value(depth: depth + 1)))
                    skipSpace()
                    guard i < b.count else { throw fail("unexpected end") }
                    if b[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard b[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                    i += 1
                    return .object(fields)
                }
            case UInt8(ascii: "["):
                i += 1
                var items: [JSONValue] = []
                skipSpace()
                if i < b.count, b[i] == UInt8(ascii: "]") {
                    i += 1
                    return .array([])
                }
                while true {
                    skipSpace()
                    items.append(try value(depth: depth + 1))
                    skipSpace()
                    guard i < b.count else { throw fail("unexpected end") }
                    if b[i] == UInt8(ascii: ",") {
                        i += 1
                        continue
                    }
                    guard b[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                    i += 1
                    return .array(items)
                }
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): return try literal("true", .bool(true))
            case UInt8(ascii: "f"): return try literal("false", .bool(false))
            case UInt8(ascii: "n"): return try literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                if b[i] == UInt8(ascii: "-") { i += 1 }
                guard i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) else { throw fail("invalid number") }
                if b[i] == UInt8(ascii: "0"), i + 1 < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i + 1]) {
                    throw fail("leading zero")
                }
                while i < b.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) { i += 1 }
                if i < b.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E")].contains(b[i]) {
                    throw fail("only integers are accepted")
                }
                guard let n = Int64(String(decoding: b[start..<i], as: UTF8.self)) else { throw fail("integer out of range") }
                return .int(n)
            default:
                throw fail("unexpected character")
            }
        }

        mutating func string() throws(RegistryError) -> String {
            do { return try JSONString.read(b, at: &i) } catch { throw fail(error.message) }
        }
    }
}

extension JSONValue {
    /// The value of `key` in an object.
    public subscript(key: String) -> JSONValue? {
        guard case .object(let fields) = self else { return nil }
        return fields.first { $0.0 == key }?.1
    }

    public var stringValue: String? {
        if case .string(let s) = self { return s }
        return nil
    }

    public var boolValue: Bool? {
        if case .bool(let v) = self { return v }
        return nil
    }

    public var intValue: Int64? {
        if case .int(let v) = self { return v }
        return nil
    }

    /// Keys of an object (empty for anything else).
    public var keys: [String] {
        guard case .object(let fields) = self else { return [] }
        return fields.map(\.0)
    }
}
