/// How strict `JSONValue(parsing:)` is beyond RFC 8259. Duplicate keys, lone surrogates, invalid
/// UTF-8 and trailing bytes are always errors, so two components can never read one text two ways.
public struct JSONParseOptions: Sendable {
    /// Containers nested deeper than this are refused.
    public var maxDepth: Int
    /// Refuse numbers that are not an `Int64` (else they become `.number(text)`).
    public var integersOnly: Bool

    public init(maxDepth: Int, integersOnly: Bool) {
        self.maxDepth = maxDepth
        self.integersOnly = integersOnly
    }

    /// Request bodies: nesting to 16, integers only.
    public static let strict = JSONParseOptions(maxDepth: 16, integersOnly: true)
    /// AWS answers (KMS, DynamoDB's control plane, error bodies): timestamps are fractional numbers.
    public static let answers = JSONParseOptions(maxDepth: 64, integersOnly: false)
}

extension JSONValue {
    /// Parses one JSON text (RFC 8259 §2), white space around it allowed, nothing after it.
    public init(parsing bytes: [UInt8], options: JSONParseOptions = .strict) throws(JSONSyntaxError) {
        var s = JSONScanner(bytes)
        s.skipSpace()
        self = try Self.value(&s, depth: 0, options)
        try s.end()
    }

    static func value(_ s: inout JSONScanner, depth: Int, _ options: JSONParseOptions) throws(JSONSyntaxError) -> JSONValue {
        guard depth < options.maxDepth else { throw s.fail("nested too deeply") }
        guard let c = s.peek else { throw s.fail("unexpected end") }
        switch c {
        case UInt8(ascii: "{"):
            var fields: [(String, JSONValue)] = []
            var seen = Set<String>()
            try s.object { (s, key) throws(JSONSyntaxError) in
                guard seen.insert(key).inserted else { throw s.fail("duplicate key '\(key.prefix(64))'") }
                fields.append((key, try value(&s, depth: depth + 1, options)))
            }
            return .object(fields)
        case UInt8(ascii: "["):
            var items: [JSONValue] = []
            try s.array { (s) throws(JSONSyntaxError) in items.append(try value(&s, depth: depth + 1, options)) }
            return .array(items)
        case UInt8(ascii: "\""): return .string(try s.string())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            guard let b = try? s.bool() else { throw s.fail("invalid literal") }
            return .bool(b)
        case UInt8(ascii: "n"):
            try s.null()
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            let text = try s.number()
            if let n = Int64(text) { return .int(n) }
            guard !options.integersOnly else {
                throw s.fail(text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) ? "only integers are accepted" : "integer out of range")
            }
            return .number(text)
        default:
            throw s.fail("unexpected character")
        }
    }
}
