/// A JSON syntax error (RFC 8259): what was wrong and the byte offset where it was found.
public struct JSONSyntaxError: Error, Equatable, CustomStringConvertible {
    /// What was wrong, ending in `at byte N`.
    public let message: String

    public init(message: String) { self.message = message }

    public var description: String { message }
}

/// The one byte scanner under tfreg's JSON readers: `JSONValue(parsing:)` (request bodies, AWS
/// answers) and the DynamoDB wire codec in TFRegAWS, which decodes straight into attribute values.
/// It reads one token or one container at a time and leaves policy (depth, duplicate keys, which
/// members matter) to its caller. Insignificant white space is RFC 8259 §2's four characters.
public struct JSONScanner {
    public let bytes: [UInt8]
    /// The next byte to read.
    public var offset = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public func fail(_ m: String) -> JSONSyntaxError { JSONSyntaxError(message: "\(m) at byte \(offset)") }

    /// The next byte, nil at the end.
    public var peek: UInt8? { offset < bytes.count ? bytes[offset] : nil }

    public mutating func skipSpace() {
        while offset < bytes.count, bytes[offset] == 0x20 || bytes[offset] == 0x0a || bytes[offset] == 0x0d || bytes[offset] == 0x09 {
            offset += 1
        }
    }

    /// Skips white space, then refuses anything left.
    public mutating func end(_ what: String = "unexpected data after the JSON value") throws(JSONSyntaxError) {
        skipSpace()
        guard offset == bytes.count else { throw fail(what) }
    }

    public mutating func expect(_ c: UInt8) throws(JSONSyntaxError) {
        skipSpace()
        guard offset < bytes.count, bytes[offset] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
        offset += 1
    }

    /// `{ "key": value, … }`, calling `member` with the scanner positioned at each value, which it
    /// must read (or skip). Duplicate keys are the caller's concern.
    public mutating func object(_ member: (inout JSONScanner, String) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "{"))
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return
        }
        while true {
            skipSpace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let key = try string()
            try expect(UInt8(ascii: ":"))
            skipSpace()
            try member(&self, key)
            skipSpace()
            guard offset < bytes.count else { throw fail("unexpected end") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            offset += 1
            return
        }
    }

    /// `[ value, … ]`, calling `element` with the scanner positioned at each element.
    public mutating func array(_ element: (inout JSONScanner) throws(JSONSyntaxError) -> Void) throws(JSONSyntaxError) {
        try expect(UInt8(ascii: "["))
        skipSpace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return
        }
        while true {
            skipSpace()
            try element(&self)
            skipSpace()
            guard offset < bytes.count else { throw fail("unexpected end") }
            if bytes[offset] == UInt8(ascii: ",") {
                offset += 1
                continue
            }
            guard bytes[offset] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            offset += 1
            return
        }
    }

    /// A string (RFC 8259 §7), strictly: see `JSONString.read`.
    public mutating func string() throws(JSONSyntaxError) -> String {
        do { return try JSONString.read(bytes, at: &offset) } catch { throw fail(error.message) }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard offset + n <= bytes.count else { return false }
        for k in 0..<n where bytes[offset + k] != word.utf8Start[k] { return false }
        offset += n
        return true
    }

    public mutating func bool() throws(JSONSyntaxError) -> Bool {
        if literal("true") { return true }
        if literal("false") { return false }
        throw fail("expected true or false")
    }

    public mutating func null() throws(JSONSyntaxError) {
        guard literal("null") else { throw fail("invalid literal") }
    }

    /// A number's text (RFC 8259 §6: `-? int frac? exp?`, no leading zero), checked but not converted.
    public mutating func number() throws(JSONSyntaxError) -> String {
        let start = offset
        func digits(_ s: inout JSONScanner) -> Int {
            let from = s.offset
            while s.offset < s.bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(s.bytes[s.offset]) { s.offset += 1 }
            return s.offset - from
        }
        if peek == UInt8(ascii: "-") { offset += 1 }
        guard let first = peek, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { throw fail("invalid number") }
        if first == UInt8(ascii: "0"), offset + 1 < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[offset + 1]) {
            throw fail("leading zero")
        }
        _ = digits(&self)
        if peek == UInt8(ascii: ".") {
            offset += 1
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            offset += 1
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { offset += 1 }
            guard digits(&self) > 0 else { throw fail("invalid number") }
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    /// Any JSON value, checked for shape but not kept; containers deeper than `maxDepth` are refused.
    public mutating func skipValue(depth: Int, maxDepth: Int) throws(JSONSyntaxError) {
        guard depth < maxDepth else { throw fail("nested too deeply") }
        skipSpace()
        guard let c = peek else { throw fail("unexpected end") }
        switch c {
        case UInt8(ascii: "{"): try object { (s, _) throws(JSONSyntaxError) in try s.skipValue(depth: depth + 1, maxDepth: maxDepth) }
        case UInt8(ascii: "["): try array { (s) throws(JSONSyntaxError) in try s.skipValue(depth: depth + 1, maxDepth: maxDepth) }
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
        case UInt8(ascii: "n"): try null()
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): _ = try number()
        default: throw fail("unexpected character")
        }
    }
}
