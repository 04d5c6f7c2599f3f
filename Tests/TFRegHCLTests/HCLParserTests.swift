import TFRegHCL
import TFRegJSON
import Testing

/// Parses `text` and returns the body, failing the test on a parse error.
private func body(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) -> HCLBody {
    let r = HCLParser.parse(Array(text.utf8), filename: "main.tf")
    #expect(r.error == nil, "\(r.error?.description ?? "")", sourceLocation: sourceLocation)
    return r.body
}

private func error(_ bytes: [UInt8], limits: HCLLimits = HCLLimits()) -> HCLError? {
    HCLParser.parse(bytes, filename: "main.tf", limits: limits).error
}

private func error(_ text: String, limits: HCLLimits = HCLLimits()) -> HCLError? { error(Array(text.utf8), limits: limits) }

/// The value of `x = EXPR` as JSON text, or nil when it is not a literal.
private func value(_ expression: String) -> String? {
    let b = body("x = \(expression)\n")
    return b.attribute("x")?.expression.value.map { String(decoding: $0.serialized(), as: UTF8.self) }
}

@Suite struct HCLStructureTests {
    @Test func attributesBlocksLabelsAndNesting() throws {
        let b = body(
            """
            a = 1
            resource "aws_s3_bucket" this {
              bucket = "x"
              lifecycle {
                prevent_destroy = true
              }
              dynamic "rule" {
                for_each = var.rules
                content { id = rule.value }
              }
            }
            empty {}
            """
        )
        #expect(b.attributes.map(\.name) == ["a"])
        #expect(b.blocks.map(\.type) == ["resource", "empty"])
        let r = try #require(b.blocks.first)
        #expect(r.labels == ["aws_s3_bucket", "this"])
        #expect(r.line == 2)
        #expect(r.body.blocks.map(\.type) == ["lifecycle", "dynamic"])
        #expect(r.body.blocks[1].body.blocks.first?.body.attribute("id")?.expression.source == "rule.value")
    }

    @Test func expressionsKeepTheirExactSourceText() {
        let b = body(
            """
            type = map(object({
              a = string # why
              b = optional(list(number), [1, 2])
            }))
            cond = var.a != null ? var.a : "x"   # trailing comment
            """
        )
        #expect(b.attribute("type")?.expression.source == "map(object({\n  a = string # why\n  b = optional(list(number), [1, 2])\n}))")
        #expect(b.attribute("type")?.expression.value == nil)
        #expect(b.attribute("cond")?.expression.source == "var.a != null ? var.a : \"x\"")
    }

    @Test func everyExpressionFormParses() {
        let b = body(
            """
            a = [for k, v in var.m : "${k}=${v}" if v != ""]
            b = { for s in var.l : s => upper(s)... }
            c = var.list[*].id
            d = var.obj.*.name
            e = aws_instance.x[0].id
            f = (1 + 2) * 3 % 4 >= 1 && !false || null == null
            g = -var.n
            h = provider::aws::arn_parse("x")
            i = merge(var.a, var.b...)
            j = f(
              1,
              2,
            )
            k = var.a.0
            """
        )
        #expect(b.attributes.count == 11)
        #expect(b.attributes.allSatisfy { $0.expression.value == nil })
        #expect(b.attribute("k")?.expression.source == "var.a.0")
    }

    @Test func commentsOfEveryKindAndTemplateSyntaxInsideThemIsIgnored() {
        let b = body(
            """
            /* ${not} "an" %{ interpolation
               over lines */
            // ${ also not
            # <<EOT not a heredoc
            a = "x" /* after */ # and
            /* before */ b = 2 // end
            """
        )
        #expect(b.attributes.map(\.name) == ["a", "b"])
        #expect(b.attribute("a")?.expression.value == .string("x"))
    }

    @Test func crlfLineEndings() {
        let b = body("a = \"x\"\r\nblock {\r\n  b = <<EOT\r\nline\r\nEOT\r\n}\r\n")
        #expect(b.attribute("a")?.expression.value == .string("x"))
        #expect(b.blocks.first?.body.attribute("b")?.expression.value == .string("line\r\n"))
    }

    @Test func oneLineBlocksHoldOneArgument() {
        #expect(body("v \"a\" { default = 1 }\n").blocks.first?.body.attribute("default")?.expression.value == .int(1))
        #expect(error("v \"a\" { default = 1\n type = 2 }\n") != nil)
        #expect(error("v \"a\" { default = 1 type = string }\n")?.line == 1)
    }
}

@Suite struct HCLLiteralTests {
    @Test func scalars() {
        #expect(value("\"s\"") == "\"s\"")
        #expect(value("true") == "true")
        #expect(value("false") == "false")
        #expect(value("null") == "null")
        #expect(value("42") == "42")
        #expect(value("-7") == "-7")
        #expect(value("!true") == "false")
    }

    @Test func numbersAreDecimalTextAsGoCtyWritesThem() {
        #expect(value("1.50") == "1.5")
        #expect(value("1e3") == "1000")
        #expect(value("2E-2") == "0.02")
        #expect(value("007") == "7")
        #expect(value("-0") == "-0")
        #expect(value("12345678901234567890") == "12345678901234567890")
        #expect(value("0.000") == "0")
    }

    @Test func hugeNumbersAreNotExpanded() {
        // 1e999999999 would be a billion digits: beyond HCLValue.maximumDigits the source text is kept.
        #expect(value("1e999999999") == nil)
        #expect(value("1e99999999999999999999999") == nil)
        #expect(value(String(repeating: "9", count: 10_000)) == nil)
        #expect(value("1e-999999999") == nil)
    }

    @Test func collectionsOfLiteralsWithKeysInByteOrder() {
        #expect(value("[1, \"a\", [true], {}]") == "[1,\"a\",[true],{}]")
        #expect(value("{ zeta = 1, alpha = 2, \"b c\" = 3, 4 = 5 }") == "{\"4\":5,\"alpha\":2,\"b c\":3,\"zeta\":1}")
        #expect(value("{\n  a = 1\n  a = 2\n}") == "{\"a\":2}")
        #expect(value("{ a: 1, b: [2] }") == "{\"a\":1,\"b\":[2]}")
        #expect(value("[1, var.x]") == nil)
        #expect(value("{ (var.k) = 1 }") == nil)
        #expect(value("(1)") == "1")
    }

    @Test func stringEscapesAndTemplates() {
        #expect(value(#""a\tb\n\"q\" \\ \u00e9 \U0001F600""#) == "\"a\\tb\\n\\\"q\\\" \\\\ é 😀\"")
        #expect(value(#""$${x} %%{y}""#) == "\"${x} %{y}\"")
        #expect(value(#""v${1}-${"x"}-${true}""#) == "\"v1-x-true\"")
        #expect(value(#""${42}""#) == "42")
        #expect(value(#""${[1]}""#) == "[1]")
        #expect(value(#""a ${~ "b" ~} c""#) == "\"abc\"")
        #expect(value(#""x-${var.y}""#) == nil)
        #expect(value(#""%{ if true }y%{ endif }""#) == nil)
    }

    @Test func heredocs() {
        #expect(value("<<EOT\nline one\n  two ${\"x\"}\nEOT") == "\"line one\\n  two x\\n\"")
        #expect(value("<<-EOT\n    indented\n      more\n\n    back\n    EOT") == "\"indented\\n  more\\n\\nback\\n\"")
        #expect(value("<<EOT\nEOTX is text\n  EOT") == "\"EOTX is text\\n\"")
        #expect(value("<<EOT\nEOT") == "\"\"")
        #expect(value("<<-EOT\n  ${var.x}\n  EOT") == nil)
    }
}

/// Hostile inputs: every one is an error naming its line, or a bounded result; none traps.
@Suite struct HCLHostileInputTests {
    @Test func unterminatedStringsHeredocsCommentsAndBlocks() {
        #expect(error("a = 1\nb = \"no end\n")?.line == 2)
        #expect(error("a = \"no end")?.line == 1)
        // As hclsyntax reports them: an unterminated heredoc at the end of the file, an unclosed block at its '{'.
        #expect(error("a = 1\n\nb = <<EOT\nnever closed\n")?.line == 5)
        #expect(error("a = <<EOT")?.line == 1)
        #expect(error("/* open\n\n")?.line == 1)
        #expect(error("x = 1\nb {\n  a = 1\n")?.line == 2)
        #expect(error("a = \"${1\"")?.line == 1)
        #expect(error("a = \"%{ if true }x\"")?.line == 1)
        #expect(error("a = \"%{ endif }\"") != nil)
        #expect(error("a = \"%{ bogus }\"") != nil)
        #expect(error("a = [1, 2") != nil)
        #expect(error("a = {") != nil)
        #expect(error("a = f(1,") != nil)
        #expect(error("a = 1 +\n 2\n")?.line == 1)
    }

    @Test func errorsNameTheFileAndLine() throws {
        let e = try #require(HCLParser.parse(Array("a = 1\nb = \"\\q\"\n".utf8), filename: "vars.tf").error)
        #expect(e.description.hasPrefix("vars.tf:2: "))
        #expect(error("a = 1\na = 2\n")?.line == 2)
    }

    @Test func deepNestingIsRefusedNotAStackOverflow() {
        let deep = 100_000
        #expect(error("a = " + String(repeating: "[", count: deep) + String(repeating: "]", count: deep)) != nil)
        #expect(error("a = " + String(repeating: "(", count: deep) + "1" + String(repeating: ")", count: deep)) != nil)
        #expect(error("a = " + String(repeating: "{a=", count: deep) + "1" + String(repeating: "}", count: deep)) != nil)
        #expect(error("a = " + String(repeating: "-", count: deep) + "1") != nil)
        #expect(error("a = \"" + String(repeating: "${\"", count: deep)) != nil)
        #expect(error(String(repeating: "b {\n", count: deep)) != nil)
        // Within the bound it parses.
        #expect(error("a = " + String(repeating: "[", count: 30) + String(repeating: "]", count: 30)) == nil)
    }

    @Test func nulAndInvalidUTF8AndLoneCarriageReturns() {
        #expect(error([0x61, 0x20, 0x3D, 0x20, 0x00, 0x0A]) != nil)
        #expect(error(Array("a = 1\nb = \"".utf8) + [0xFF, 0xFE] + Array("\"\n".utf8))?.line == 2)
        #expect(error(Array("a = \"".utf8) + [0xED, 0xA0, 0x80] + Array("\"\n".utf8)) != nil)  // a surrogate
        #expect(error(Array("a = \"".utf8) + [0xC0, 0xAF] + Array("\"\n".utf8)) != nil)  // overlong
        #expect(error(Array("a = \"".utf8) + [0xE2, 0x82]) != nil)  // truncated
        #expect(error("a = 1\rb = 2\n") != nil)
        #expect(error(#"a = "\uD800""#) != nil)
        #expect(error(#"a = "\u12""#) != nil)
        // As in hclsyntax, comments may hold any byte; identifiers and strings may not.
        #expect(error(Array("# ".utf8) + [0x80, 0xFF] + Array("\na = 1 /* ".utf8) + [0xFF] + Array(" */\n".utf8)) == nil)
        #expect(error(Array("a".utf8) + [0x80] + Array(" = 1\n".utf8)) != nil)
        #expect(error(Array("a = <<EOT\nx".utf8) + [0x80] + Array("\nEOT\n".utf8))?.line == 2)
        // NUL inside a string is a character like any other.
        #expect(
            HCLParser.parse(Array("a = \"".utf8) + [0] + Array("\"\n".utf8), filename: "t").body.attribute("a")?.expression.value == .string("\0")
        )
    }

    @Test func boundsWhileGrowing() {
        let small = HCLLimits(maximumFileBytes: 64, maximumDepth: 8, maximumTokens: 20, maximumStringBytes: 16)
        #expect(error(String(repeating: "#", count: 65), limits: small)?.message.contains("larger") == true)
        #expect(error("a = \"" + String(repeating: "x", count: 17) + "\"", limits: small)?.message.contains("longer") == true)
        #expect(error("a = <<EOT\n" + String(repeating: "x", count: 17) + "\nEOT\n", limits: small)?.message.contains("longer") == true)
        #expect(error("a = [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]", limits: small)?.message.contains("tokens") == true)
        #expect(error("a = [[[[[[[[[[1]]]]]]]]]]", limits: small)?.message.contains("nested") == true)
    }

    @Test func keywordsAndOddTokens() {
        #expect(error("{ a = 1 }") != nil)
        #expect(error("a = { for = 1 }") != nil)  // as hclsyntax: `for` opens a for expression
        #expect(error("a = b c") != nil)
        #expect(error("= 1") != nil)
        #expect(error("a = ") != nil)
        #expect(error("a = 1.") != nil)
        #expect(error("a = x::y") != nil)
        #expect(error("\u{FEFF}a = 1") != nil)
    }

    /// Mutations of a real file: the parser returns (an error or a body) for every one, without trapping.
    @Test func mutatedInputsNeverTrap() {
        let seed = Array(
            """
            variable "a" {
              type    = map(object({ a = string }))
              default = { x = [1, 2.5e3, "s${1}", <<EOT
            text
            EOT
              ] }
            }
            /* c */ # d
            """.utf8
        )
        var rng = SplitMix(seed: 19)
        let alphabet = Array("{}[]()\"$%<>-=:,.~#/*\\\n\r\0 aEOT1e".utf8) + [0xFF, 0xC3]
        for _ in 0..<3_000 {
            var b = seed
            for _ in 0..<Int(rng.next() % 4 + 1) {
                let at = Int(rng.next() % UInt64(b.count + 1))
                switch rng.next() % 3 {
                case 0: b.insert(alphabet[Int(rng.next() % UInt64(alphabet.count))], at: at)
                case 1: if at < b.count { b.remove(at: at) }
                default: if at < b.count { b[at] = alphabet[Int(rng.next() % UInt64(alphabet.count))] }
                }
            }
            _ = HCLParser.parse(b, filename: "m.tf")
        }
    }
}

@Suite struct HCLJSONSyntaxTests {
    static let schema = HCLJSONSyntax.Schema(blocks: [
        "variable": (1, HCLJSONSyntax.Schema(expressionAttributes: ["type"])),
        "resource": (2, HCLJSONSyntax.Schema()),
    ])

    @Test func blocksLabelsExpressionsAndValues() throws {
        let text = """
            {
              "//": "a comment",
              "variable": {
                "region": { "type": "string", "default": "eu-west-1" },
                "tags": { "type": "map(string)", "default": { "b": 1.50, "a": [true] } }
              },
              "resource": [ { "aws_s3_bucket": { "this": { "bucket": "x" } } } ]
            }
            """
        let r = HCLJSONSyntax.parse(Array(text.utf8), filename: "main.tf.json", schema: Self.schema)
        #expect(r.error == nil)
        let vars = r.body.blocks.filter { $0.type == "variable" }
        #expect(vars.map(\.labels) == [["region"], ["tags"]])
        #expect(vars[0].body.attribute("type")?.expression.source == "string")
        #expect(
            vars[1].body.attribute("default")?.expression.value.map { String(decoding: $0.serialized(), as: UTF8.self) } == "{\"a\":[true],\"b\":1.5}"
        )
        #expect(r.body.blocks.last?.labels == ["aws_s3_bucket", "this"])
    }

    @Test func invalidJSONNamesItsLine() {
        let r = HCLJSONSyntax.parse(Array("{\n\"variable\": {\n  \"a\": }\n}".utf8), filename: "x.tf.json", schema: Self.schema)
        #expect(r.error?.line == 3)
        #expect(r.error?.file == "x.tf.json")
        #expect(HCLJSONSyntax.parse(Array("[1]".utf8), filename: "x", schema: Self.schema).error != nil)
        #expect(HCLJSONSyntax.parse(Array(String(repeating: "[", count: 100_000).utf8), filename: "x", schema: Self.schema).error != nil)
    }
}

/// A small deterministic generator for the mutation test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
