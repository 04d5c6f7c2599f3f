import TFRegJSON

/// Values of literals as JSON, written the way go-cty's JSON encoding writes them (objects with keys
/// in byte order, numbers in plain decimal without exponent or trailing zeros), so one value has one
/// text whichever syntax it came from.
public enum HCLValue {
    /// Numbers whose decimal point moves further than this, or with more significant digits, are not
    /// evaluated (kept as source text): `1e999999` would otherwise expand to a million digits, and
    /// go-cty rounds beyond 512 bits of mantissa (about 154 digits).
    public static let maximumDigits = 150

    /// The value of the number literal `integer[.fraction][e exponent]`, or nil when it is beyond
    /// `maximumDigits`.
    static func number(integer: ArraySlice<UInt8>, fraction: ArraySlice<UInt8>, exponent: Int) -> JSONValue? {
        var digits = Array(integer) + Array(fraction)
        var point = integer.count + exponent
        var leading = 0
        while leading < digits.count && digits[leading] == 0x30 { leading += 1 }
        digits.removeFirst(leading)
        point -= leading
        while let last = digits.last, last == 0x30 { digits.removeLast() }
        if digits.isEmpty { return .int(0) }
        guard digits.count <= maximumDigits, point <= maximumDigits, point >= -maximumDigits else { return nil }
        let text: [UInt8]
        if point >= digits.count {
            text = digits + [UInt8](repeating: 0x30, count: point - digits.count)
        } else if point <= 0 {
            text = Array("0.".utf8) + [UInt8](repeating: 0x30, count: -point) + digits
        } else {
            text = Array(digits[..<point]) + [UInt8(ascii: ".")] + Array(digits[point...])
        }
        let string = String(decoding: text, as: UTF8.self)
        if let n = Int64(string) { return .int(n) }
        return .number(string)
    }

    /// A number given as JSON text (a `.tf.json` value), in the same form as a native literal.
    static func number(json text: String) -> JSONValue? {
        var bytes = Array(text.utf8)[...]
        var negative = false
        if bytes.first == UInt8(ascii: "-") {
            negative = true
            bytes = bytes.dropFirst()
        }
        var k = bytes.startIndex
        while k < bytes.endIndex && bytes[k] >= 0x30 && bytes[k] <= 0x39 { k += 1 }
        let integer = bytes[bytes.startIndex..<k]
        var fraction = bytes[k..<k]
        if k < bytes.endIndex && bytes[k] == UInt8(ascii: ".") {
            let f = k + 1
            k = f
            while k < bytes.endIndex && bytes[k] >= 0x30 && bytes[k] <= 0x39 { k += 1 }
            fraction = bytes[f..<k]
        }
        var exponent = 0
        if k < bytes.endIndex && (bytes[k] == UInt8(ascii: "e") || bytes[k] == UInt8(ascii: "E")) {
            k += 1
            var sign = 1
            if k < bytes.endIndex && (bytes[k] == UInt8(ascii: "+") || bytes[k] == UInt8(ascii: "-")) {
                sign = bytes[k] == UInt8(ascii: "-") ? -1 : 1
                k += 1
            }
            while k < bytes.endIndex && bytes[k] >= 0x30 && bytes[k] <= 0x39 {
                guard exponent < 1_000_000 else { return nil }
                exponent = exponent * 10 + Int(bytes[k] - 0x30)
                k += 1
            }
            exponent *= sign
        }
        guard k == bytes.endIndex, let v = number(integer: integer, fraction: fraction, exponent: exponent) else { return nil }
        guard negative else { return v }
        switch v {
        case .int(let n): return .int(-n)
        case .number(let t): return .number("-" + t)
        default: return nil
        }
    }

    /// An object key's string (go-cty converts number and bool keys to strings); nil for null and
    /// collections, which are not keys.
    static func keyString(_ v: JSONValue?) -> String? {
        switch v {
        case .string(let s): return s
        case .int(let n): return String(n)
        case .number(let t): return t
        case .bool(let b): return b ? "true" : "false"
        default: return nil
        }
    }

    static func sortedObject(_ fields: [(String, JSONValue)]) -> JSONValue {
        .object(fields.sorted { $0.0.utf8.lexicographicallyPrecedes($1.0.utf8) })
    }

    /// `v` with every object's keys in byte order and numbers in canonical form (for JSON-syntax values).
    public static func canonical(_ v: JSONValue) -> JSONValue {
        switch v {
        case .object(let fields): return sortedObject(fields.map { ($0.0, canonical($0.1)) })
        case .array(let items): return .array(items.map(canonical))
        case .number(let t): return number(json: t) ?? v
        default: return v
        }
    }

    /// A `<<-` heredoc's text: the smallest indentation of its non-blank lines removed from each of
    /// them (blank lines, white space only, are left as they are), as hclsyntax does.
    static func flushed(_ bytes: [UInt8]) -> [UInt8] {
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        for (k, c) in bytes.enumerated() where c == 0x0A {
            lines.append(bytes[start...k])
            start = k + 1
        }
        if start < bytes.count { lines.append(bytes[start...]) }
        func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0B || c == 0x0C || c == 0x0D || c == 0x0A }
        func indentation(_ line: ArraySlice<UInt8>) -> Int? {
            let n = line.prefix { isSpace($0) }.count
            if n == line.count && line.last == 0x0A { return nil }
            return n
        }
        let minimum = lines.compactMap(indentation).min() ?? 0
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for line in lines {
            if indentation(line) == nil {
                out += line
            } else {
                out += line.dropFirst(minimum)
            }
        }
        return out
    }
}
