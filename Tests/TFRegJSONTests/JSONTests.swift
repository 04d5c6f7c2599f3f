import TFRegJSON
import Testing

@Suite struct JSONParserEdgeTests {
    func parse(_ s: String, _ options: JSONParseOptions = .strict) throws(JSONSyntaxError) -> JSONValue {
        try JSONValue(parsing: Array(s.utf8), options: options)
    }

    @Test func nestingIsBoundedByTheOptions() throws {
        let deep16 = String(repeating: "[", count: 16) + String(repeating: "]", count: 16)
        let deep17 = String(repeating: "[", count: 17) + String(repeating: "]", count: 17)
        #expect(try parse(deep16) != .null)
        #expect(throws: JSONSyntaxError.self) { try parse(deep17) }
        #expect(try parse(deep17, .answers) != .null)
        let deep65 = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(throws: JSONSyntaxError.self) { try parse(deep65, .answers) }
    }

    @Test func escapesAreDecoded() throws {
        #expect(try parse(#""\u0041\"\\\/\b\f\n\r\t""#) == .string("A\"\\/\u{08}\u{0C}\n\r\t"))
        #expect(try parse(#""\ud83d\ude00""#).stringValue == "😀")
        for bad in [#""\u004""#, #""\u00zz""#, #""\ud83d""#, #""\ude00""#, #""\ud83d\u0041""#, #""\q""#, "\"a\u{09}\""] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try parse(bad) }
        }
    }

    @Test func numbers() throws {
        #expect(try parse("0") == .int(0))
        #expect(try parse("-0") == .int(0))
        #expect(try parse("9223372036854775807") == .int(Int64.max))
        #expect(try parse("-9223372036854775808") == .int(Int64.min))
        for bad in ["9223372036854775808", "1.5", "1e3", "01", "-", "+1", "1.", ".5", "1e", "0x10"] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try parse(bad) }
        }
        // AWS answers carry fractional timestamps: kept as their text.
        #expect(try parse(#"{"CreationDate": 1.7178e9}"#, .answers)["CreationDate"] == .number("1.7178e9"))
        #expect(try parse("9223372036854775808", .answers) == .number("9223372036854775808"))
        for bad in ["1.", "01", "1e+", "-.5"] {
            #expect(throws: JSONSyntaxError.self, "\(bad)") { try parse(bad, .answers) }
        }
    }

    @Test func duplicateKeysAndTrailingDataAreRefusedInEveryMode() {
        for options in [JSONParseOptions.strict, .answers] {
            #expect(throws: JSONSyntaxError.self) { try parse(#"{"a": 1, "a": 1}"#, options) }
            #expect(throws: JSONSyntaxError.self) { try parse(#"{} {}"#, options) }
            #expect(throws: JSONSyntaxError.self) { try parse("", options) }
        }
    }

    @Test func errorsSayWhere() {
        #expect(throws: JSONSyntaxError(message: "expected ',' or '}' at byte 8")) { try parse(#"{"a": 1 "b": 2}"#) }
    }

    @Test func serializationRoundTrips() throws {
        let v = JSONValue.object([
            ("s", .string("q\"\u{7f}\u{01}é")), ("n", .int(-5)), ("a", .array([.null, .bool(true), .number("2.5")])), ("o", .object([])),
        ])
        #expect(try JSONValue(parsing: v.serialized(), options: .answers) == v)
        #expect(String(decoding: v.serialized(), as: UTF8.self) == #"{"s":"q\"\u007f\u0001é","n":-5,"a":[null,true,2.5],"o":{}}"#)
    }

    @Test func scannerSkipsWhatItDoesNotRead() throws {
        var s = JSONScanner(Array(#" {"skip": [1, {"x": null}, "y", -2.5e3], "keep": "k"} "#.utf8))
        var kept: [String] = []
        s.skipSpace()
        try s.object { (s, key) throws(JSONSyntaxError) in
            if key == "keep" { kept.append(try s.string()) } else { try s.skipValue(depth: 0, maxDepth: 4) }
        }
        try s.end()
        #expect(kept == ["k"])
    }
}
