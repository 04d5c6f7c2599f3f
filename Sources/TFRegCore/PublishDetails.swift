import TFRegSystem

/// What a publisher may say about a version besides its bytes (`tfreg publish --description
/// --source`, the upload route's `description` and `source` query parameters, `create`'s body), each
/// validated before it reaches a store.
public struct PublishDetails: Sendable, Hashable {
    /// Overrides the README's first paragraph.
    public var description: String?
    /// An http(s) URL of the source repository.
    public var source: String?

    public static let maximumDescriptionLength = 1024
    public static let maximumSourceLength = 2048

    public init(description: String? = nil, source: String? = nil) {
        self.description = description
        self.source = source
    }

    /// Checked: a description of at most `maximumDescriptionLength` bytes without control, invisible
    /// or bidi-control characters (it is shown in listings, as deprecation reasons are); a source that
    /// is an absolute http(s) URL with a host, of printable ASCII without spaces, quotes or angle
    /// brackets (it becomes a link). Empty values are nil.
    public func validated() throws(RegistryError) -> PublishDetails {
        var out = PublishDetails()
        if let d = description.map({ Substring($0).trimmingWhitespace() }), !d.isEmpty {
            guard d.utf8.count <= Self.maximumDescriptionLength, !VisibleText.hasHiddenCharacters(String(d)) else {
                throw .badRequest(
                    "the description must be at most \(Self.maximumDescriptionLength) bytes without control, invisible or bidirectional-control characters"
                )
            }
            out.description = String(d)
        }
        if let s = source, !s.isEmpty {
            guard Self.isHTTPURL(s) else {
                throw .badRequest("the source must be an http:// or https:// URL of at most \(Self.maximumSourceLength) printable characters")
            }
            out.source = s
        }
        return out
    }

    /// `http://HOST…` or `https://HOST…`, printable ASCII only, no space, quote, backslash or angle
    /// bracket, a non-empty host without userinfo.
    public static func isHTTPURL(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count <= maximumSourceLength, bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7f && !"\"'<>\\`{}|^".utf8.contains($0) }) else {
            return false
        }
        let lower = s.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") {
            rest = s.dropFirst(8)
        } else if lower.hasPrefix("http://") {
            rest = s.dropFirst(7)
        } else {
            return false
        }
        let authority = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        return !authority.isEmpty && !authority.contains("@") && authority.first != ":"
    }
}

extension ModuleDocs {
    /// The first paragraph of a README as plain text: headings, badges/images, HTML blocks, code
    /// fences, tables and block quotes before it are skipped; Markdown emphasis, code spans and links
    /// are reduced to their text; whitespace collapsed; at most `PublishDetails.maximumDescriptionLength`
    /// bytes (cut at a character); hidden characters dropped. nil when nothing is left.
    public static func description(fromReadme readme: String) -> String? {
        var paragraph: [Substring] = []
        var inFence = false
        var inHTMLComment = false
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false).prefix(400) {
            let t = line.trimmingWhitespace()
            if inHTMLComment {
                if t.contains("-->") { inHTMLComment = false }
                continue
            }
            if t.hasPrefix("```") || t.hasPrefix("~~~") {
                if !paragraph.isEmpty { break }
                inFence.toggle()
                continue
            }
            if inFence { continue }
            if t.isEmpty {
                if paragraph.isEmpty { continue }
                break
            }
            if paragraph.isEmpty {
                if t.hasPrefix("<!--") {
                    if !t.contains("-->") { inHTMLComment = true }
                    continue
                }
                // Headings, setext underlines, HTML, badges and images, tables, quotes, rules, lists.
                if t.hasPrefix("#") || t.hasPrefix("<") || t.hasPrefix("![") || t.hasPrefix("[![") || t.hasPrefix("|") || t.hasPrefix(">")
                    || t.allSatisfy({ "=-*_ ".contains($0) }) || t.hasPrefix("- ") || t.hasPrefix("* ")
                {
                    continue
                }
            } else if t.allSatisfy({ "=-".contains($0) }) {
                // The paragraph was a setext heading: start again.
                paragraph = []
                continue
            }
            paragraph.append(t)
        }
        let text = plainText(paragraph.joined(separator: " "))
        return text.isEmpty ? nil : text
    }

    /// Markdown inline syntax reduced to its text: `[text](url)` → text, images dropped, `*`, `_`,
    /// `` ` `` and `~~` removed, spaces collapsed, hidden characters dropped, bounded.
    static func plainText(_ markdown: String) -> String {
        var out = ""
        var chars = Array(markdown.unicodeScalars)
        chars = chars.filter { !VisibleText.isControl($0) && !VisibleText.isInvisible($0) }
        var i = 0
        var lastWasSpace = true
        func emit(_ c: Unicode.Scalar) {
            if c == " " || c == "\t" {
                if !lastWasSpace { out.unicodeScalars.append(" ") }
                lastWasSpace = true
            } else {
                out.unicodeScalars.append(c)
                lastWasSpace = false
            }
        }
        while i < chars.count, out.utf8.count < PublishDetails.maximumDescriptionLength {
            let c = chars[i]
            if c == "!" && i + 1 < chars.count && chars[i + 1] == "[" {
                // An image: skip `![alt](url)` whole.
                if let close = chars[(i + 2)...].firstIndex(of: "]"), close + 1 < chars.count, chars[close + 1] == "(",
                    let end = chars[(close + 2)...].firstIndex(of: ")")
                {
                    i = end + 1
                    continue
                }
            }
            if c == "[", let close = chars[(i + 1)...].firstIndex(of: "]") {
                // A link: keep its text, drop `(url)` or `[ref]`.
                for t in chars[(i + 1)..<close] where !"*_`".unicodeScalars.contains(t) { emit(t) }
                var next = close + 1
                if next < chars.count, chars[next] == "(", let end = chars[(next + 1)...].firstIndex(of: ")") {
                    next = end + 1
                } else if next < chars.count, chars[next] == "[", let end = chars[(next + 1)...].firstIndex(of: "]") {
                    next = end + 1
                }
                i = next
                continue
            }
            if "*_`".unicodeScalars.contains(c) || (c == "~" && i + 1 < chars.count && chars[i + 1] == "~") {
                i += c == "~" ? 2 : 1
                continue
            }
            emit(c)
            i += 1
        }
        while out.utf8.count > PublishDetails.maximumDescriptionLength { out.removeLast() }
        return String(Substring(out).trimmingWhitespace())
    }
}
