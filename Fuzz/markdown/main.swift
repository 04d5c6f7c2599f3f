import FuzzSupport
import TFRegAPI
import TFRegCore
import TFRegSystem

/// README Markdown (`Markdown.render`), link targets (`SafeURL`) and session cookie values
/// (`WebSessions.session`): everything the web pages read from uploaders and browsers.
/// Properties: never traps; every tag in the output is one the renderer writes (`<` in text is always
/// escaped), every `href` is http(s), a path or a fragment, and there is no `<img`, `<script` or event
/// attribute; the output stays within 8 × the input bound; no input opens as a session.
let sessions = WebSessions(key: [UInt8](repeating: 3, count: 32), clock: FixedClock())
let tags: Set<String> = [
    "h3", "h4", "h5", "h6", "p", "div", "table", "thead", "tbody", "tr", "th", "td", "a", "code", "pre", "ul", "ol", "li",
    "strong", "em", "blockquote", "hr", "br",
]

struct FixedClock: WallClock {
    func now() -> Int64 { 1_800_000_000 }
}

fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let html = Markdown.render(text).string
    guard html.utf8.count <= 8 * Markdown.maximumBytes + 64 else { fatalError("output of \(html.utf8.count) bytes") }
    // Scanned by Unicode scalar, as a browser's tokenizer reads: a combining mark after `>` makes one
    // Character of `>` and the mark, which a Character search would not find.
    var rest = html.unicodeScalars[...]
    while let lt = rest.firstIndex(of: "<") {
        guard let gt = rest[lt...].firstIndex(of: ">") else { fatalError("unclosed tag in \(html.debugDescription)") }
        var tag = Substring(String(String.UnicodeScalarView(rest[rest.index(after: lt)..<gt])))
        if tag.hasPrefix("/") { tag = tag.dropFirst() }
        let name = String(tag.prefix { $0 != " " })
        guard tags.contains(name) else { fatalError("tag <\(name)> in \(html.debugDescription)") }
        if let h = tag.firstRange(of: "href=\"") {
            let value = tag[h.upperBound...].prefix { $0 != "\"" }
            guard SafeURL(untrusted: value) != nil else { fatalError("href \(value.debugDescription)") }
        }
        let attributes = tag.split(separator: " ").dropFirst().map { $0.prefix { $0 != "=" } }
        for a in attributes where !["href", "class", "rel", "scope"].contains(String(a)) && !a.isEmpty {
            guard !a.hasPrefix("on") else { fatalError("attribute \(a) in \(html.debugDescription)") }
        }
        rest = rest[rest.index(after: gt)...]
    }
    if let url = SafeURL(untrusted: text) {
        let lower = url.value.lowercased()
        guard !lower.hasPrefix("javascript:"), !lower.hasPrefix("data:"), !lower.hasPrefix("//"), !lower.contains("\\") else {
            fatalError("SafeURL accepted \(text.debugDescription)")
        }
    }
    guard sessions.session(text) == nil else { fatalError("\(text.debugDescription) opened as a session") }
}
