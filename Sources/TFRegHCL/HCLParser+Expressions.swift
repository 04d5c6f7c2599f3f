import TFRegJSON

/// An expression's extent and, for literals, its value.
struct Expr {
    var start: Int
    var end: Int
    var value: JSONValue?
    /// A quoted string without any interpolation or directive (block labels need one).
    var literalOnly = false
    /// A bare identifier (an object key written `name = …` is the string "name").
    var name: String?
    /// An object constructor's items when every key is literal.
    var items: [(key: String, expression: HCLExpression)]?
}

private let quote = UInt8(ascii: "\"")
private let backslash = UInt8(ascii: "\\")
private let dollar = UInt8(ascii: "$")
private let percent = UInt8(ascii: "%")
private let openBrace = UInt8(ascii: "{")
private let closeBrace = UInt8(ascii: "}")
private let openBracket = UInt8(ascii: "[")
private let closeBracket = UInt8(ascii: "]")
private let openParen = UInt8(ascii: "(")
private let closeParen = UInt8(ascii: ")")
private let comma = UInt8(ascii: ",")
private let dot = UInt8(ascii: ".")
private let colon = UInt8(ascii: ":")
private let equals = UInt8(ascii: "=")
private let tilde = UInt8(ascii: "~")
private let newline: UInt8 = 0x0A
private let carriageReturn: UInt8 = 0x0D

private func isDigit(_ c: UInt8?) -> Bool {
    guard let c else { return false }
    return c >= 0x30 && c <= 0x39
}

/// A template being read: its decoded text while it is still a literal.
struct TemplateState {
    var bytes: [UInt8] = []
    /// Still a literal: no interpolation of a non-literal, no directive.
    var evaluable = true
    /// An interpolation whose value is not a string, number or bool (only a lone one has a value).
    var nonScalar = false
    var interpolations = 0
    /// The value of the first interpolation: `"${x}"` alone is x itself, not a string.
    var loneValue: JSONValue?
    /// Open directives: true for `if` (and whether its `else` was seen), false for `for`.
    var directives: [(isIf: Bool, sawElse: Bool)] = []
    /// After `~}`: leading white space of the next literal is dropped.
    var stripNext = false
}

extension NativeParser {
    func expression(_ e: Expr) -> HCLExpression {
        HCLExpression(source: text(e.start, e.end), value: e.value, items: e.items)
    }

    /// Skips white space; newlines too unless they are significant here.
    mutating func space(_ significant: Bool) throws(HCLError) { try skipSpace(newlines: !significant) }

    /// Expression = Conditional | Operation | ExprTerm. `significant`: newlines end it (bodies, objects).
    mutating func parseExpression(_ significant: Bool) throws(HCLError) -> Expr {
        try enter()
        defer { leave() }
        let condition = try parseBinary(significant, minimum: 1)
        let save = i
        try space(significant)
        guard peek() == UInt8(ascii: "?") else {
            i = save
            return condition
        }
        i += 1
        try count()
        _ = try parseExpression(significant)
        try space(significant)
        guard peek() == colon else { throw fail("':' expected in a conditional expression") }
        i += 1
        let otherwise = try parseExpression(significant)
        return Expr(start: condition.start, end: otherwise.end)
    }

    /// The binary operator at the position: its length and precedence (HCL spec, "Operations").
    func binaryOperator() -> (length: Int, precedence: Int)? {
        guard let c = peek() else { return nil }
        let d = peek(1)
        switch c {
        case UInt8(ascii: "|"): return d == UInt8(ascii: "|") ? (2, 1) : nil
        case UInt8(ascii: "&"): return d == UInt8(ascii: "&") ? (2, 2) : nil
        case equals, UInt8(ascii: "!"): return d == equals ? (2, 3) : nil
        case UInt8(ascii: "<"):
            if d == UInt8(ascii: "<") { return nil }
            return d == equals ? (2, 4) : (1, 4)
        case UInt8(ascii: ">"): return d == equals ? (2, 4) : (1, 4)
        case UInt8(ascii: "+"), UInt8(ascii: "-"): return (1, 5)
        case UInt8(ascii: "*"), percent: return (1, 6)
        case UInt8(ascii: "/"): return d == UInt8(ascii: "/") || d == UInt8(ascii: "*") ? nil : (1, 6)
        default: return nil
        }
    }

    mutating func parseBinary(_ significant: Bool, minimum: Int) throws(HCLError) -> Expr {
        var left = try parseUnary(significant)
        while true {
            let save = i
            try space(significant)
            guard let op = binaryOperator(), op.precedence >= minimum else {
                i = save
                return left
            }
            i += op.length
            try count()
            let right = try parseBinary(significant, minimum: op.precedence + 1)
            left = Expr(start: left.start, end: right.end)
        }
    }

    mutating func parseUnary(_ significant: Bool) throws(HCLError) -> Expr {
        try space(significant)
        let start = i
        guard let c = peek(), c == UInt8(ascii: "-") || c == UInt8(ascii: "!") else {
            return try parsePostfix(significant)
        }
        i += 1
        try count()
        try enter()
        defer { leave() }
        let operand = try parseUnary(significant)
        var value: JSONValue?
        switch (c, operand.value) {
        case (UInt8(ascii: "-"), .int(0)): value = .number("-0")  // go-cty keeps the sign of zero
        case (UInt8(ascii: "-"), .int(let n)) where n != .min: value = .int(-n)
        case (UInt8(ascii: "-"), .number(let t)): value = .number(t.hasPrefix("-") ? String(t.dropFirst()) : "-" + t)
        case (UInt8(ascii: "!"), .bool(let v)): value = .bool(!v)
        default: value = nil
        }
        return Expr(start: start, end: operand.end, value: value)
    }

    /// A term followed by attribute access, indexes and splats (`a.b[0].*.c`, `a[*]`).
    mutating func parsePostfix(_ significant: Bool) throws(HCLError) -> Expr {
        var e = try parseTerm(significant)
        while true {
            let save = i
            try space(significant)
            if peek() == dot && !(peek(1) == dot && peek(2) == dot) {
                i += 1
                try count()
                try space(significant)
                if peek() == UInt8(ascii: "*") {
                    i += 1
                } else if isDigit(peek()) {
                    while isDigit(peek()) { i += 1 }
                } else if identifier() == nil {
                    throw fail("an attribute name is required after '.'")
                }
                e = Expr(start: e.start, end: i)
            } else if peek() == openBracket {
                i += 1
                try count()
                try enter()
                try skipSpace(newlines: true)
                if peek() == UInt8(ascii: "*") {
                    i += 1
                } else {
                    _ = try parseExpression(false)
                }
                try skipSpace(newlines: true)
                guard peek() == closeBracket else { throw fail("']' expected to close an index") }
                i += 1
                leave()
                e = Expr(start: e.start, end: i)
            } else {
                i = save
                return e
            }
        }
    }

    mutating func parseTerm(_ significant: Bool) throws(HCLError) -> Expr {
        try count()
        guard let c = peek() else { throw fail("an expression is expected here, not the end of the file") }
        let start = i
        switch c {
        case quote: return try parseQuoted()
        case UInt8(ascii: "<") where peek(1) == UInt8(ascii: "<"): return try parseHeredoc()
        case 0x30...0x39: return parseNumber()
        case openParen:
            i += 1
            try enter()
            let inner = try parseExpression(false)
            try skipSpace(newlines: true)
            guard peek() == closeParen else { throw fail("')' expected") }
            i += 1
            leave()
            return Expr(start: start, end: i, value: inner.value)
        case openBracket: return try parseTuple()
        case openBrace: return try parseObject()
        default:
            guard let name = identifier() else {
                throw fail("an expression is expected here (found '\(printable(c))')")
            }
            switch name {
            case "true": return Expr(start: start, end: i, value: .bool(true))
            case "false": return Expr(start: start, end: i, value: .bool(false))
            case "null": return Expr(start: start, end: i, value: .null)
            default: break
            }
            var namespaced = false
            while peek() == colon && peek(1) == colon {
                i += 2
                namespaced = true
                guard identifier() != nil else { throw fail("a function name is required after '::'") }
            }
            let afterName = i
            try skipSpace(newlines: false)
            if peek() == openParen {
                i += 1
                try parseArguments()
                return Expr(start: start, end: i)
            }
            guard !namespaced else { throw fail("'(' expected after a namespaced function name") }
            i = afterName
            return Expr(start: start, end: i, name: name)
        }
    }

    func printable(_ c: UInt8) -> String {
        c >= 0x20 && c < 0x7F ? String(UnicodeScalar(c)) : "0x" + String(c, radix: 16)
    }

    mutating func parseArguments() throws(HCLError) {
        try enter()
        try skipSpace(newlines: true)
        if peek() == closeParen {
            i += 1
            leave()
            return
        }
        while true {
            _ = try parseExpression(false)
            try skipSpace(newlines: true)
            if peek() == dot && peek(1) == dot && peek(2) == dot {
                i += 3
                try skipSpace(newlines: true)
                guard peek() == closeParen else { throw fail("')' expected after an expanded argument") }
            }
            if peek() == comma {
                i += 1
                try skipSpace(newlines: true)
                if peek() == closeParen {
                    i += 1
                    break
                }
                continue
            }
            if peek() == closeParen {
                i += 1
                break
            }
            throw fail("',' or ')' expected in a function call")
        }
        leave()
    }

    // MARK: Collections

    mutating func parseTuple() throws(HCLError) -> Expr {
        let start = i
        i += 1
        try enter()
        try skipSpace(newlines: true)
        if peekIdentifier() == "for" { return try parseFor(start: start, close: closeBracket) }
        var items: [JSONValue]? = []
        while true {
            try skipSpace(newlines: true)
            if peek() == closeBracket {
                i += 1
                break
            }
            let e = try parseExpression(false)
            if let v = e.value { items?.append(v) } else { items = nil }
            try skipSpace(newlines: true)
            if peek() == comma {
                i += 1
                continue
            }
            if peek() == closeBracket {
                i += 1
                break
            }
            throw fail("',' or ']' expected in a tuple")
        }
        leave()
        return Expr(start: start, end: i, value: items.map { .array($0) })
    }

    /// `{ key = value, … }`: items end with a comma or a newline; the value is an object with keys in
    /// byte order (as cty orders an object's attributes); a repeated key keeps its last value.
    mutating func parseObject() throws(HCLError) -> Expr {
        let start = i
        i += 1
        try enter()
        try skipSpace(newlines: true)
        if peekIdentifier() == "for" { return try parseFor(start: start, close: closeBrace) }
        var fields: [(String, JSONValue)]? = []
        var items: [(key: String, expression: HCLExpression)]? = []
        while true {
            try skipSpace(newlines: true)
            if peek() == closeBrace {
                i += 1
                break
            }
            let key = try parseExpression(true)
            try skipSpace(newlines: false)
            guard (peek() == equals && peek(1) != equals) || peek() == colon else {
                throw fail("'=' expected after an object key")
            }
            i += 1
            let value = try parseExpression(true)
            let k = key.name ?? HCLValue.keyString(key.value)
            if let k {
                items?.append((key: k, expression: expression(value)))
            } else {
                items = nil
            }
            if let k, let v = value.value, fields != nil {
                fields?.removeAll { $0.0 == k }
                fields?.append((k, v))
            } else {
                fields = nil
            }
            try skipSpace(newlines: false)
            if peek() == comma {
                i += 1
                continue
            }
            if peek() == closeBrace {
                i += 1
                break
            }
            guard atLineEnd && !atEnd else { throw fail("',' or a newline expected after an object item") }
            try skipSpace(newlines: true)
        }
        leave()
        return Expr(start: start, end: i, value: fields.map { HCLValue.sortedObject($0) }, items: items)
    }

    /// `[for k, v in coll : value if cond]`, `{for k, v in coll : key => value... if cond}`.
    mutating func parseFor(start: Int, close: UInt8) throws(HCLError) -> Expr {
        _ = identifier()
        try skipSpace(newlines: true)
        guard identifier() != nil else { throw fail("a variable name is required after 'for'") }
        try skipSpace(newlines: true)
        if peek() == comma {
            i += 1
            try skipSpace(newlines: true)
            guard identifier() != nil else { throw fail("a variable name is required after ','") }
            try skipSpace(newlines: true)
        }
        guard identifier() == "in" else { throw fail("'in' expected in a for expression") }
        _ = try parseExpression(false)
        try skipSpace(newlines: true)
        guard peek() == colon else { throw fail("':' expected in a for expression") }
        i += 1
        _ = try parseExpression(false)
        try skipSpace(newlines: true)
        if close == closeBrace {
            guard peek() == equals && peek(1) == UInt8(ascii: ">") else { throw fail("'=>' expected in a for expression") }
            i += 2
            _ = try parseExpression(false)
            try skipSpace(newlines: true)
            if peek() == dot && peek(1) == dot && peek(2) == dot {
                i += 3
                try skipSpace(newlines: true)
            }
        }
        if peekIdentifier() == "if" {
            _ = identifier()
            _ = try parseExpression(false)
            try skipSpace(newlines: true)
        }
        guard peek() == close else { throw fail("'\(printable(close))' expected to close a for expression") }
        i += 1
        leave()
        return Expr(start: start, end: i)
    }

    // MARK: Numbers

    mutating func parseNumber() -> Expr {
        let start = i
        while isDigit(peek()) { i += 1 }
        let integerEnd = i
        var fractionStart = i
        if peek() == dot && isDigit(peek(1)) {
            i += 1
            fractionStart = i
            while isDigit(peek()) { i += 1 }
        }
        let fraction = fractionStart == integerEnd ? b[i..<i] : b[fractionStart..<i]
        var exponent: Int? = 0
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            let save = i
            i += 1
            var negative = false
            if peek() == UInt8(ascii: "+") || peek() == UInt8(ascii: "-") {
                negative = peek() == UInt8(ascii: "-")
                i += 1
            }
            if isDigit(peek()) {
                var n = 0
                while let d = peek(), isDigit(d) {
                    if n < 1_000_000 { n = n * 10 + Int(d - 0x30) }
                    i += 1
                }
                exponent = n >= 1_000_000 ? nil : (negative ? -n : n)
            } else {
                i = save
            }
        }
        let value = exponent.flatMap { HCLValue.number(integer: b[start..<integerEnd], fraction: fraction, exponent: $0) }
        return Expr(start: start, end: i, value: value)
    }

    // MARK: Templates

    mutating func append(_ c: UInt8, to t: inout TemplateState) throws(HCLError) {
        if t.stripNext {
            if c == 0x20 || c == 0x09 || c == newline || c == carriageReturn { return }
            t.stripNext = false
        }
        guard t.bytes.count < limits.maximumStringBytes else {
            throw fail("a string is longer than \(limits.maximumStringBytes) bytes")
        }
        t.bytes.append(c)
    }

    /// The source character at the position (one UTF-8 sequence, checked) appended to the text.
    mutating func appendSourceCharacter(to t: inout TemplateState) throws(HCLError) {
        guard let n = utf8Length(at: i) else { throw fail("invalid UTF-8 in a string") }
        for _ in 0..<n {
            try append(b[i], to: &t)
            i += 1
        }
    }

    /// At `$` or `%`: an escaped opener (`$${`, `%%{`), an interpolation or a directive; false when
    /// the byte is an ordinary character. `flush`: in a `<<-` heredoc, where an interpolation makes the
    /// text not a literal (the indentation rule applies to literal runs only).
    mutating func templateSequence(_ t: inout TemplateState, flush: Bool) throws(HCLError) -> Bool {
        guard let c = peek(), c == dollar || c == percent else { return false }
        if peek(1) == c && peek(2) == openBrace {
            try append(c, to: &t)
            try append(openBrace, to: &t)
            i += 3
            return true
        }
        guard peek(1) == openBrace else { return false }
        let start = i
        i += 2
        try count()
        try enter()
        if peek() == tilde {
            i += 1
            while let last = t.bytes.last, last == 0x20 || last == 0x09 || last == newline || last == carriageReturn {
                t.bytes.removeLast()
            }
        }
        try skipSpace(newlines: true)
        if c == dollar {
            t.stripNext = false
            let e = try parseExpression(false)
            t.interpolations += 1
            if flush { t.evaluable = false }
            if t.interpolations == 1 { t.loneValue = e.value }
            switch e.value {
            case .string(let s):
                for byte in s.utf8 { try append(byte, to: &t) }
            case .int(let n):
                for byte in String(n).utf8 { try append(byte, to: &t) }
            case .number(let text):
                for byte in text.utf8 { try append(byte, to: &t) }
            case .bool(let v):
                for byte in (v ? "true" : "false").utf8 { try append(byte, to: &t) }
            default:
                t.nonScalar = true
            }
        } else {
            t.evaluable = false
            try directive(&t, at: start)
        }
        try skipSpace(newlines: true)
        t.stripNext = false
        if peek() == tilde {
            i += 1
            t.stripNext = true
        }
        guard peek() == closeBrace else { throw fail("'}' expected to close a template sequence", at: start) }
        i += 1
        leave()
        return true
    }

    mutating func directive(_ t: inout TemplateState, at start: Int) throws(HCLError) {
        guard let keyword = identifier() else { throw fail("a template directive keyword is expected after '%{'") }
        switch keyword {
        case "if":
            _ = try parseExpression(false)
            t.directives.append((isIf: true, sawElse: false))
        case "else":
            guard let top = t.directives.last, top.isIf, !top.sawElse else {
                throw fail("%{else} without a matching %{if}", at: start)
            }
            t.directives[t.directives.count - 1].sawElse = true
        case "endif":
            guard let top = t.directives.last, top.isIf else { throw fail("%{endif} without a matching %{if}", at: start) }
            t.directives.removeLast()
        case "for":
            try skipSpace(newlines: true)
            guard identifier() != nil else { throw fail("a variable name is required after %{for") }
            try skipSpace(newlines: true)
            if peek() == comma {
                i += 1
                try skipSpace(newlines: true)
                guard identifier() != nil else { throw fail("a variable name is required after ','") }
                try skipSpace(newlines: true)
            }
            guard identifier() == "in" else { throw fail("'in' expected in a %{for} directive") }
            _ = try parseExpression(false)
            t.directives.append((isIf: false, sawElse: false))
        case "endfor":
            guard let top = t.directives.last, !top.isIf else {
                throw fail("%{endfor} without a matching %{for}", at: start)
            }
            t.directives.removeLast()
        default:
            throw fail("unknown template directive '\(keyword.prefix(32))'", at: start)
        }
    }

    func templateValue(_ t: TemplateState, flush: Bool = false) -> JSONValue? {
        guard t.evaluable, !t.nonScalar, t.directives.isEmpty else { return nil }
        let bytes = flush ? HCLValue.flushed(t.bytes) : t.bytes
        return .string(String(decoding: bytes, as: UTF8.self))
    }

    /// `"…"`: escapes, `${}`, `%{}`; no raw newline.
    mutating func parseQuoted() throws(HCLError) -> Expr {
        let start = i
        i += 1
        var t = TemplateState()
        var literalSeen = false
        while true {
            guard let c = peek() else { throw fail("unterminated string", at: start) }
            if c == quote {
                i += 1
                break
            }
            if c == newline || (c == carriageReturn && peek(1) == newline) {
                throw fail("unterminated string (a quoted string cannot span lines)", at: start)
            }
            if c == backslash {
                try escape(&t)
                literalSeen = true
                continue
            }
            let before = t.interpolations
            if try templateSequence(&t, flush: false) {
                if t.interpolations == before && t.evaluable { literalSeen = true }
                continue
            }
            try appendSourceCharacter(to: &t)
            literalSeen = true
        }
        guard t.directives.isEmpty else { throw fail("a template directive is not closed", at: start) }
        var e = Expr(start: start, end: i)
        if t.interpolations == 1 && !literalSeen && t.evaluable {
            e.value = t.loneValue
        } else {
            e.value = templateValue(t)
        }
        e.literalOnly = t.interpolations == 0 && t.evaluable
        return e
    }

    mutating func escape(_ t: inout TemplateState) throws(HCLError) {
        let start = i
        i += 1
        guard let c = peek() else { throw fail("unterminated string", at: start) }
        i += 1
        switch c {
        case UInt8(ascii: "n"): try append(newline, to: &t)
        case UInt8(ascii: "r"): try append(carriageReturn, to: &t)
        case UInt8(ascii: "t"): try append(0x09, to: &t)
        case quote: try append(quote, to: &t)
        case backslash: try append(backslash, to: &t)
        case UInt8(ascii: "u"), UInt8(ascii: "U"):
            let n = c == UInt8(ascii: "u") ? 4 : 8
            var scalar: UInt32 = 0
            for _ in 0..<n {
                guard let h = peek(), let d = hexDigit(h) else { throw fail("invalid \\\(printable(c)) escape", at: start) }
                scalar = scalar << 4 | d
                i += 1
            }
            guard let u = Unicode.Scalar(scalar) else { throw fail("invalid Unicode escape", at: start) }
            for byte in String(Character(u)).utf8 { try append(byte, to: &t) }
        default:
            throw fail("invalid escape sequence '\\\(printable(c))'", at: start)
        }
    }

    func hexDigit(_ c: UInt8) -> UInt32? {
        switch c {
        case 0x30...0x39: return UInt32(c - 0x30)
        case 0x61...0x66: return UInt32(c - 0x61 + 10)
        case 0x41...0x46: return UInt32(c - 0x41 + 10)
        default: return nil
        }
    }

    /// `<<EOT` / `<<-EOT` … `EOT`: lines as written (no escapes), `${}`/`%{}` sequences; the closing
    /// marker alone on its line, indentation allowed. A `<<-` heredoc with interpolations is not a literal.
    mutating func parseHeredoc() throws(HCLError) -> Expr {
        let start = i
        i += 2
        let flush = peek() == UInt8(ascii: "-")
        if flush { i += 1 }
        guard let marker = identifier() else { throw fail("a heredoc marker is expected after '<<'") }
        if peek() == carriageReturn && peek(1) == newline {
            i += 2
        } else if peek() == newline {
            i += 1
        } else {
            throw fail("a newline is expected after the heredoc marker '\(marker.prefix(64))'")
        }
        let markerBytes = Array(marker.utf8)
        var t = TemplateState()
        lines: while true {
            guard !atEnd else { throw fail("unterminated heredoc: no closing '\(marker.prefix(64))'") }
            var j = i
            while j < b.count && (b[j] == 0x20 || b[j] == 0x09) { j += 1 }
            if j + markerBytes.count <= b.count && b[j..<(j + markerBytes.count)].elementsEqual(markerBytes) {
                let after = j + markerBytes.count
                if after == b.count || b[after] == newline || (b[after] == carriageReturn && after + 1 < b.count && b[after + 1] == newline) {
                    i = after
                    break lines
                }
            }
            while true {
                guard let c = peek() else { continue lines }
                if c == newline {
                    try append(c, to: &t)
                    i += 1
                    continue lines
                }
                if try templateSequence(&t, flush: flush) { continue }
                try appendSourceCharacter(to: &t)
            }
        }
        guard t.directives.isEmpty else { throw fail("a template directive is not closed", at: start) }
        return Expr(start: start, end: i, value: templateValue(t, flush: flush))
    }
}
