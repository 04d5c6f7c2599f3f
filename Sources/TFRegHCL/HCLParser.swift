import TFRegJSON

/// A recursive-descent parser for HCL native syntax (hashicorp/hcl `hclsyntax`, the spec's
/// "Structural Elements", "Expressions" and "Templates"), reading bytes directly: bodies of attributes
/// and (nested, one-line) blocks with labels; the whole expression grammar (literals, tuples, objects,
/// templates with `${}`/`%{}`, heredocs, references, function calls, index/attribute/splat, unary and
/// binary operators, conditionals, `for`), each kept as its exact source text, with the value of
/// literals and collections of literals. Newlines end attributes and object items except inside
/// `()`, `[]` and `${}`, as in hclsyntax. Never traps: every index is checked, counts and depth are
/// bounded by `HCLLimits` as they grow, numbers are decimal text (no overflow).
public enum HCLParser {
    /// Parses `bytes` (a `.tf` file named `filename` in error messages).
    public static func parse(_ bytes: [UInt8], filename: String, limits: HCLLimits = HCLLimits()) -> HCLParseResult {
        var p = NativeParser(bytes: bytes, file: filename, limits: limits)
        var body = HCLBody()
        do throws(HCLError) {
            guard bytes.count <= limits.maximumFileBytes else {
                throw HCLError(file: filename, line: 1, message: "the file is larger than \(limits.maximumFileBytes) bytes")
            }
            try p.parseBody(into: &body, inBlock: false)
            return HCLParseResult(body: body, error: nil)
        } catch {
            return HCLParseResult(body: body, error: error)
        }
    }
}

/// One parse's state: the bytes, the position and the counters the limits bound.
struct NativeParser {
    let b: [UInt8]
    let file: String
    let limits: HCLLimits
    var i = 0
    var depth = 0
    var tokens = 0

    init(bytes: [UInt8], file: String, limits: HCLLimits) {
        b = bytes
        self.file = file
        self.limits = limits
    }

    // MARK: Errors, bytes, counters

    func line(at offset: Int) -> Int {
        var n = 1
        var k = 0
        let end = min(offset, b.count)
        while k < end {
            if b[k] == 0x0A { n += 1 }
            k += 1
        }
        return n
    }

    func fail(_ message: String, at offset: Int? = nil) -> HCLError {
        HCLError(file: file, line: line(at: offset ?? i), message: message)
    }

    func peek(_ k: Int = 0) -> UInt8? {
        let j = i + k
        return j >= 0 && j < b.count ? b[j] : nil
    }

    var atEnd: Bool { i >= b.count }

    func text(_ start: Int, _ end: Int) -> String {
        guard start >= 0, start <= end, end <= b.count else { return "" }
        return String(decoding: b[start..<end], as: UTF8.self)
    }

    mutating func count() throws(HCLError) {
        tokens += 1
        guard tokens <= limits.maximumTokens else {
            throw fail("the file has more than \(limits.maximumTokens) tokens")
        }
    }

    mutating func enter() throws(HCLError) {
        depth += 1
        guard depth <= limits.maximumDepth else { throw fail("nested more than \(limits.maximumDepth) levels deep") }
    }

    mutating func leave() { depth -= 1 }

    /// The length of the valid UTF-8 sequence at `k` (no overlong forms, surrogates or values above
    /// U+10FFFF), nil when it is not one. Comments may hold any byte, as in hclsyntax; strings,
    /// heredocs and identifiers are checked where they are read.
    func utf8Length(at k: Int) -> Int? {
        guard k < b.count else { return nil }
        let c = b[k]
        if c < 0x80 { return 1 }
        let n: Int
        var lo: UInt8 = 0x80
        var hi: UInt8 = 0xBF
        switch c {
        case 0xC2...0xDF: n = 1
        case 0xE0:
            n = 2
            lo = 0xA0
        case 0xE1...0xEC, 0xEE...0xEF: n = 2
        case 0xED:
            n = 2
            hi = 0x9F
        case 0xF0:
            n = 3
            lo = 0x90
        case 0xF1...0xF3: n = 3
        case 0xF4:
            n = 3
            hi = 0x8F
        default: return nil
        }
        guard k + n < b.count, b[k + 1] >= lo && b[k + 1] <= hi else { return nil }
        var j = 2
        while j <= n {
            guard b[k + j] >= 0x80 && b[k + j] <= 0xBF else { return nil }
            j += 1
        }
        return n + 1
    }

    // MARK: White space, comments, newlines

    /// Skips spaces, tabs and `/* */` comments; with `newlines`, also newlines and `#`/`//` comments
    /// (which end a line, as a newline does).
    mutating func skipSpace(newlines: Bool) throws(HCLError) {
        while let c = peek() {
            switch c {
            case 0x20, 0x09: i += 1
            case 0x0D:
                guard peek(1) == 0x0A else { throw fail("a carriage return not followed by a newline") }
                if !newlines { return }
                i += 2
            case 0x0A:
                if !newlines { return }
                i += 1
            case UInt8(ascii: "#"):
                if !newlines { return }
                skipLineComment()
            case UInt8(ascii: "/"):
                if peek(1) == UInt8(ascii: "*") {
                    let start = i
                    i += 2
                    while true {
                        guard let d = peek() else { throw fail("unterminated /* comment", at: start) }
                        if d == UInt8(ascii: "*") && peek(1) == UInt8(ascii: "/") {
                            i += 2
                            break
                        }
                        i += 1
                    }
                } else if peek(1) == UInt8(ascii: "/") {
                    if !newlines { return }
                    skipLineComment()
                } else {
                    return
                }
            default: return
            }
        }
    }

    private mutating func skipLineComment() {
        while let c = peek(), c != 0x0A { i += 1 }
        if peek() == 0x0A { i += 1 }
    }

    /// At a newline or a comment that ends the line (`#`, `//`), or at the end.
    var atLineEnd: Bool {
        guard let c = peek() else { return true }
        if c == 0x0A || c == UInt8(ascii: "#") { return true }
        if c == 0x0D && peek(1) == 0x0A { return true }
        return c == UInt8(ascii: "/") && peek(1) == UInt8(ascii: "/")
    }

    /// Requires the end of a line (or of the file) after an attribute or a block, and consumes it.
    mutating func endLine(_ what: String) throws(HCLError) {
        try skipSpace(newlines: false)
        guard atLineEnd else { throw fail("missing newline after \(what)") }
        if atEnd { return }
        if peek() == 0x0D { i += 1 }
        if peek() == 0x0A {
            i += 1
        } else {
            skipLineComment()
        }
    }

    // MARK: Identifiers

    static func isIdentStart(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || c == UInt8(ascii: "_")
    }

    static func isIdentContinue(_ c: UInt8) -> Bool {
        isIdentStart(c) || (c >= 0x30 && c <= 0x39) || c == UInt8(ascii: "-")
    }

    /// The Unicode scalar at `k` and its length in bytes; nil for invalid UTF-8.
    func scalar(at k: Int) -> (Unicode.Scalar, Int)? {
        guard let n = utf8Length(at: k) else { return nil }
        let c = b[k]
        var v = n == 1 ? UInt32(c) : UInt32(c) & (0xFF >> (n + 1))
        if n > 1 {
            for j in 1..<n { v = v << 6 | UInt32(b[k + j] & 0x3F) }
        }
        return Unicode.Scalar(v).map { ($0, n) }
    }

    /// An identifier (the spec's `ID_Start (ID_Continue | '-')*`, Unicode letters included).
    mutating func identifier() -> String? {
        let start = i
        guard let c = peek() else { return nil }
        if c >= 0x80 {
            guard let (u, n) = scalar(at: i), u.properties.isIDStart else { return nil }
            i += n
        } else {
            guard Self.isIdentStart(c) else { return nil }
            i += 1
        }
        while let d = peek() {
            if d >= 0x80 {
                guard let (u, n) = scalar(at: i), u.properties.isIDContinue else { break }
                i += n
            } else if Self.isIdentContinue(d) {
                i += 1
            } else {
                break
            }
        }
        return text(start, i)
    }

    /// The identifier at the position, without consuming it.
    func peekIdentifier() -> String? {
        var copy = self
        return copy.identifier()
    }

    // MARK: Bodies

    /// `openedAt`: the offset of a block's `{` (an unclosed block is reported there, as hclsyntax does).
    mutating func parseBody(into body: inout HCLBody, inBlock: Bool, openedAt: Int = 0) throws(HCLError) {
        while true {
            try skipSpace(newlines: true)
            guard let c = peek() else {
                if inBlock { throw fail("unclosed block: no '}' for this '{'", at: openedAt) }
                return
            }
            if c == UInt8(ascii: "}") && inBlock { return }
            try count()
            let start = i
            guard let name = identifier() else { throw fail("an argument or block definition is required here") }
            try skipSpace(newlines: false)
            if peek() == UInt8(ascii: "=") && peek(1) != UInt8(ascii: "=") {
                i += 1
                let e = expression(try parseExpression(true))
                try endLine("an argument")
                try add(HCLAttribute(name: name, expression: e, line: line(at: start)), to: &body, at: start)
                continue
            }
            var block = HCLBlock(type: name, labels: [], body: HCLBody(), line: line(at: start))
            while true {
                try skipSpace(newlines: false)
                if peek() == UInt8(ascii: "\"") {
                    let label = try parseQuoted()
                    guard case .string(let s) = label.value, label.literalOnly else {
                        throw fail("a block label must be a string without interpolation")
                    }
                    block.labels.append(s)
                } else if let l = identifier() {
                    block.labels.append(l)
                } else {
                    break
                }
                try count()
            }
            guard peek() == UInt8(ascii: "{") else {
                throw fail("'=' or '{' expected after '\(name.prefix(64))'")
            }
            let open = i
            i += 1
            try enter()
            try skipSpace(newlines: false)
            if atLineEnd {
                try parseBody(into: &block.body, inBlock: true, openedAt: open)
            } else if peek() != UInt8(ascii: "}") {
                // A one-line block holds at most one attribute.
                let aStart = i
                guard let aName = identifier() else { throw fail("an argument definition is required here") }
                try skipSpace(newlines: false)
                guard peek() == UInt8(ascii: "=") && peek(1) != UInt8(ascii: "=") else {
                    throw fail("a one-line block may contain only one argument")
                }
                i += 1
                let e = expression(try parseExpression(true))
                block.body.attributes.append(HCLAttribute(name: aName, expression: e, line: line(at: aStart)))
                try skipSpace(newlines: false)
            }
            guard peek() == UInt8(ascii: "}") else { throw fail("'}' expected to close the block") }
            i += 1
            leave()
            try endLine("a block")
            body.blocks.append(block)
        }
    }

    func add(_ a: HCLAttribute, to body: inout HCLBody, at offset: Int) throws(HCLError) {
        guard body.attribute(a.name) == nil else {
            throw fail("the argument '\(a.name.prefix(64))' is set twice", at: offset)
        }
        body.attributes.append(a)
    }
}
