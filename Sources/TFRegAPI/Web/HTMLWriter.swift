/// The one way HTML is written: element and attribute names are `StaticString`s (written in this
/// source, never taken from input), and every value — text or attribute — passes through `escape`,
/// so untrusted text (module names, descriptions, README text, deprecation reasons) cannot open a tag,
/// close an attribute or start an entity. Links take a `SafeURL`, which only a checked string becomes.
/// Pages are pure functions from a view model to this writer's bytes, the way `JSONValue` serializes.
public struct HTMLWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 4096) { bytes.reserveCapacity(capacity) }

    /// The markup as a string (tests).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// `<!doctype html>`.
    mutating func doctype() { raw("<!doctype html>\n") }

    /// Text content, escaped.
    public mutating func text(_ s: some StringProtocol) { Self.escape(s, into: &bytes) }

    /// `<tag a="v"…>`: names from the source, values escaped.
    mutating func open(_ tag: StaticString, _ attributes: [(StaticString, String)] = []) {
        raw("<")
        raw(tag)
        for (name, value) in attributes {
            raw(" ")
            raw(name)
            raw("=\"")
            Self.escape(value, into: &bytes)
            raw("\"")
        }
        raw(">")
    }

    /// `</tag>`.
    mutating func close(_ tag: StaticString) {
        raw("</")
        raw(tag)
        raw(">")
    }

    /// `<tag …>text</tag>`.
    mutating func element(_ tag: StaticString, _ attributes: [(StaticString, String)] = [], text: some StringProtocol) {
        open(tag, attributes)
        self.text(text)
        close(tag)
    }

    /// `<tag …>` + whatever `body` writes + `</tag>`.
    mutating func element(_ tag: StaticString, _ attributes: [(StaticString, String)] = [], _ body: (inout HTMLWriter) -> Void) {
        open(tag, attributes)
        body(&self)
        close(tag)
    }

    /// `<a href="…" …>text</a>` to a checked URL.
    mutating func link(_ url: SafeURL, _ attributes: [(StaticString, String)] = [], text: some StringProtocol) {
        open("a", [("href", url.value)] + attributes)
        self.text(text)
        close("a")
    }

    /// `<a href="…">` + body + `</a>`.
    mutating func link(_ url: SafeURL, _ body: (inout HTMLWriter) -> Void) {
        open("a", [("href", url.value)])
        body(&self)
        close("a")
    }

    private mutating func raw(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }

    /// Escapes for text and for double-quoted attribute values alike (`&`, `<`, `>`, `"`, `'`); NUL
    /// and other C0 controls except tab and newlines become U+FFFD (HTML parsers treat them as
    /// errors).
    static func escape(_ s: some StringProtocol, into out: inout [UInt8]) {
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "&"): out += Array("&amp;".utf8)
            case UInt8(ascii: "<"): out += Array("&lt;".utf8)
            case UInt8(ascii: ">"): out += Array("&gt;".utf8)
            case UInt8(ascii: "\""): out += Array("&quot;".utf8)
            case UInt8(ascii: "'"): out += Array("&#39;".utf8)
            case 0x09, 0x0a, 0x0d: out.append(b)
            case 0x00...0x1f, 0x7f: out += [0xef, 0xbf, 0xbd]
            default: out.append(b)
            }
        }
    }

    /// `escape` as a string.
    public static func escaped(_ s: some StringProtocol) -> String {
        var out: [UInt8] = []
        escape(s, into: &out)
        return String(decoding: out, as: UTF8.self)
    }
}

/// A link target that may be written into `href`: the registry's own paths (built from routes), or a
/// URL from untrusted text that passed `SafeURL(untrusted:)`.
public struct SafeURL: Sendable, Hashable {
    public let value: String

    /// A path this registry wrote itself (a route's `path`, with a query it escaped).
    init(internal path: String) { value = path }

    /// Accepts `http:`/`https:` URLs, `#fragment`s, and relative references (a path, `./`, `../`,
    /// `?query`): nothing with another scheme (`javascript:`, `data:`, `vbscript:`, `file:` — compared
    /// after the browser's own leniencies), nothing protocol-relative (`//host`, which loads from
    /// elsewhere), no backslash (browsers read `/\host` as `//host`), no space or control character
    /// (browsers strip tabs and newlines inside schemes: `java\tscript:`). At most 2048 bytes.
    public init?(untrusted s: some StringProtocol) {
        let u = Array(s.utf8)
        guard !u.isEmpty, u.count <= 2048 else { return nil }
        for b in u where b <= 0x20 || b == 0x7f || b == UInt8(ascii: "\\") { return nil }
        let lower = String(decoding: u.prefix(8).map { ($0 >= 65 && $0 <= 90) ? $0 + 32 : $0 }, as: UTF8.self)
        if lower.hasPrefix("http://") || lower.hasPrefix("https://") {
            // A host must follow: `http:///x` and `https:` alone are not links.
            let rest = u.dropFirst(lower.hasPrefix("http://") ? 7 : 8)
            guard let first = rest.first, first != UInt8(ascii: "/") else { return nil }
            value = String(decoding: u, as: UTF8.self)
            return
        }
        if u.count >= 2 && u[0] == UInt8(ascii: "/") && u[1] == UInt8(ascii: "/") { return nil }
        // A relative reference: no `:` before the first `/`, `?` or `#` (else it has a scheme).
        for b in u {
            if b == UInt8(ascii: "/") || b == UInt8(ascii: "?") || b == UInt8(ascii: "#") { break }
            if b == UInt8(ascii: ":") { return nil }
        }
        value = String(decoding: u, as: UTF8.self)
    }
}
