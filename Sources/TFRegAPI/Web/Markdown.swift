/// README Markdown → HTML through `HTMLWriter`: a CommonMark subset — ATX and setext headings,
/// paragraphs, emphasis and strong emphasis, code spans, fenced and indented code, bullet and ordered
/// lists, block quotes, thematic breaks, pipe tables, links and autolinks, backslash escapes.
///
/// Hand-written because nothing on the machine's list fits: Ink and swift-markdown import full
/// Foundation (ICU data, ~35 MB in the Lambda zip), and swift-markdown also passes raw HTML through.
///
/// The README is untrusted. Raw HTML is text (escaped, never passed through); a link's target must be
/// a `SafeURL` (http, https, relative or `#fragment`), else the link is its text; an image is never
/// fetched: it becomes a link to its target labelled with its alt text (or the alt text alone). Work
/// is bounded: the input is cut at `maximumBytes`, block nesting (quotes, lists) at `maximumDepth`
/// (deeper lines are plain text), inline nesting likewise, and a search for a closing delimiter that
/// fails is not repeated, so the time is linear in the input times the depth.
public enum Markdown {
    public static let maximumBytes = 256 * 1024
    public static let maximumDepth = 8

    /// The HTML of `source` (its first `maximumBytes` bytes, cut at a line end).
    public static func render(_ source: String) -> HTMLWriter {
        var html = HTMLWriter(capacity: min(source.utf8.count * 2, 1 << 20))
        render(source, into: &html)
        return html
    }

    public static func render(_ source: String, into html: inout HTMLWriter) {
        var text = Substring(source)
        var truncated = false
        if source.utf8.count > maximumBytes {
            let cut = source.utf8.index(source.utf8.startIndex, offsetBy: maximumBytes)
            text = Substring(source[..<(source[..<cut].lastIndex(of: "\n") ?? cut)])
            truncated = true
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> Substring in
            let l = line.hasSuffix("\r") ? line.dropLast() : line
            return Substring(l.replacing("\t", with: "    "))
        }
        var renderer = BlockRenderer()
        renderer.blocks(lines[...], depth: 0, into: &html)
        if truncated { html.element("p", [("class", "note")], text: "(the rest of this README is longer than tfreg shows)") }
    }

    /// The first paragraph as plain text (markers removed), for listings.
    public static func firstParagraph(_ source: String, limit: Int = 300) -> String {
        var out: [Substring] = []
        for line in source.prefix(16 * 1024).split(separator: "\n", omittingEmptySubsequences: false) {
            let t = line.mdTrimmed
            if t.isEmpty || t.hasPrefix("#") || t.hasPrefix("```") || t.hasPrefix("<") || t.hasPrefix("[!") || t.hasPrefix("|") {
                if !out.isEmpty { break } else { continue }
            }
            out.append(t)
        }
        return String(out.joined(separator: " ").prefix(limit))
    }
}

private struct BlockRenderer {
    /// Inside a tight list item: paragraphs are written without `<p>`.
    var tight = false

    /// Renders a run of lines as blocks.
    mutating func blocks(_ lines: ArraySlice<Substring>, depth: Int, into html: inout HTMLWriter) {
        var i = lines.startIndex
        while i < lines.endIndex {
            let line = lines[i]
            let trimmed = line.mdTrimmed
            let indent = Self.indent(line)
            if trimmed.isEmpty {
                i += 1
                continue
            }
            // Fenced code.
            if indent < 4, let fence = Self.fence(trimmed) {
                var body: [Substring] = []
                var j = i + 1
                while j < lines.endIndex {
                    let t = lines[j].mdTrimmed
                    if t.hasPrefix(fence.marker), t.allSatisfy({ $0 == fence.marker.first! }) { break }
                    body.append(Self.dropIndent(lines[j], upTo: indent))
                    j += 1
                }
                var attrs: [(StaticString, String)] = []
                if !fence.info.isEmpty { attrs.append(("class", "language-" + fence.info)) }
                html.open("pre")
                html.open("code", attrs)
                html.text(body.joined(separator: "\n"))
                html.close("code")
                html.close("pre")
                i = min(j + 1, lines.endIndex)
                continue
            }
            // Indented code.
            if indent >= 4 {
                var body: [Substring] = []
                var j = i
                while j < lines.endIndex, Self.indent(lines[j]) >= 4 || lines[j].mdTrimmed.isEmpty {
                    body.append(Self.dropIndent(lines[j], upTo: 4))
                    j += 1
                }
                while body.last?.mdTrimmed.isEmpty == true { body.removeLast() }
                html.element("pre") { $0.element("code", text: body.joined(separator: "\n")) }
                i = j
                continue
            }
            // ATX heading.
            if let h = Self.atxHeading(trimmed) {
                heading(h.0, h.1, depth: depth, into: &html)
                i += 1
                continue
            }
            // Thematic break.
            if Self.isThematicBreak(trimmed) {
                html.open("hr")
                i += 1
                continue
            }
            // Block quote.
            if trimmed.hasPrefix(">") {
                var inner: [Substring] = []
                var j = i
                while j < lines.endIndex {
                    let t = lines[j].mdTrimmed
                    guard t.hasPrefix(">") else { break }
                    var rest = t.dropFirst()
                    if rest.hasPrefix(" ") { rest = rest.dropFirst() }
                    inner.append(rest)
                    j += 1
                }
                if depth < Markdown.maximumDepth {
                    html.element("blockquote") { blocks(inner[...], depth: depth + 1, into: &$0) }
                } else {
                    paragraph(inner, depth: depth, into: &html)
                }
                i = j
                continue
            }
            // Lists.
            if let first = Self.listMarker(line) {
                i = list(lines, from: i, ordered: first.ordered, depth: depth, into: &html)
                continue
            }
            // Table: a header row, then a delimiter row.
            if trimmed.contains("|"), i + 1 < lines.endIndex, Self.isTableDelimiter(lines[i + 1]) {
                var j = i + 2
                var rows: [Substring] = []
                while j < lines.endIndex, lines[j].contains("|"), !lines[j].mdTrimmed.isEmpty {
                    rows.append(lines[j])
                    j += 1
                }
                table(header: line, rows: rows, depth: depth, into: &html)
                i = j
                continue
            }
            // Paragraph (with a setext underline, a heading).
            var para: [Substring] = [trimmed]
            var j = i + 1
            var setext = 0
            while j < lines.endIndex {
                let t = lines[j].mdTrimmed
                if t.isEmpty { break }
                if !t.isEmpty && t.allSatisfy({ $0 == "=" }) {
                    setext = 1
                    j += 1
                    break
                }
                if !t.isEmpty && t.allSatisfy({ $0 == "-" }) && t.count >= 2 {
                    setext = 2
                    j += 1
                    break
                }
                if Self.indent(lines[j]) < 4,
                    Self.fence(t) != nil || Self.atxHeading(t) != nil || t.hasPrefix(">") || Self.isThematicBreak(t)
                        || Self.listMarker(lines[j]) != nil
                {
                    break
                }
                para.append(t)
                j += 1
            }
            if setext > 0 {
                heading(setext, para.joined(separator: " ")[...], depth: depth, into: &html)
            } else {
                paragraph(para, depth: depth, into: &html)
            }
            i = j
        }
    }

    func heading(_ level: Int, _ content: Substring, depth: Int, into html: inout HTMLWriter) {
        // README headings sit under the page's own h1/h2: they start at h3.
        let body: (inout HTMLWriter) -> Void = { Inline.render(content, depth: depth, into: &$0) }
        switch level {
        case 1: html.element("h3", [], body)
        case 2: html.element("h4", [], body)
        case 3: html.element("h5", [], body)
        default: html.element("h6", [], body)
        }
    }

    func paragraph(_ lines: [Substring], depth: Int, into html: inout HTMLWriter) {
        if tight {
            Inline.render(lines.joined(separator: "\n")[...], depth: depth, into: &html)
        } else {
            html.element("p") { Inline.render(lines.joined(separator: "\n")[...], depth: depth, into: &$0) }
        }
    }

    /// One list from `start`: items begin with the same kind of marker; a line indented at least to
    /// the item's content (or a blank line followed by one) continues the item.
    mutating func list(_ lines: ArraySlice<Substring>, from start: Int, ordered: Bool, depth: Int, into html: inout HTMLWriter) -> Int {
        var items: [[Substring]] = []
        var i = start
        var contentIndent = 0
        while i < lines.endIndex {
            let line = lines[i]
            if let m = Self.listMarker(line), m.ordered == ordered, Self.indent(line) < contentIndent || items.isEmpty || Self.indent(line) < 2 {
                contentIndent = m.contentIndent
                items.append([m.rest])
                i += 1
                continue
            }
            if line.mdTrimmed.isEmpty {
                // A blank line continues the list only if the next line is indented or another item.
                let next = i + 1
                if next < lines.endIndex, Self.indent(lines[next]) >= max(contentIndent, 1) || Self.listMarker(lines[next])?.ordered == ordered {
                    items[items.count - 1].append("")
                    i += 1
                    continue
                }
                break
            }
            if Self.indent(line) >= contentIndent && contentIndent > 0 {
                items[items.count - 1].append(Self.dropIndent(line, upTo: contentIndent))
                i += 1
                continue
            }
            // A lazy continuation of the item's paragraph.
            if Self.listMarker(line) == nil, let last = items.last?.last, !last.mdTrimmed.isEmpty,
                Self.atxHeading(line.mdTrimmed) == nil, Self.fence(line.mdTrimmed) == nil
            {
                items[items.count - 1].append(line.mdTrimmed)
                i += 1
                continue
            }
            break
        }
        let render: (inout HTMLWriter) -> Void = { w in
            for item in items {
                w.element("li") { li in
                    if depth >= Markdown.maximumDepth {
                        Inline.render(item.joined(separator: "\n")[...], depth: depth, into: &li)
                    } else {
                        var inner = BlockRenderer()
                        inner.tight = !item.contains { $0.mdTrimmed.isEmpty }
                        inner.blocks(item[...], depth: depth + 1, into: &li)
                    }
                }
            }
        }
        if ordered { html.element("ol", [], render) } else { html.element("ul", [], render) }
        return i
    }

    func table(header: Substring, rows: [Substring], depth: Int, into html: inout HTMLWriter) {
        let head = Self.cells(header)
        html.element("div", [("class", "table-wrap")]) { w in
            w.element("table") { t in
                t.element("thead") { th in
                    th.element("tr") { tr in
                        for c in head { tr.element("th", [("scope", "col")]) { Inline.render(c, depth: depth, into: &$0) } }
                    }
                }
                t.element("tbody") { tb in
                    for row in rows.prefix(1000) {
                        tb.element("tr") { tr in
                            let cells = Self.cells(row)
                            for k in 0..<head.count {
                                tr.element("td") { if k < cells.count { Inline.render(cells[k], depth: depth, into: &$0) } }
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Line classification

    static func indent(_ line: Substring) -> Int { line.prefix { $0 == " " }.count }

    static func dropIndent(_ line: Substring, upTo n: Int) -> Substring {
        var l = line
        var k = 0
        while k < n, l.first == " " {
            l = l.dropFirst()
            k += 1
        }
        return l
    }

    static func fence(_ t: Substring) -> (marker: String, info: String)? {
        for m in ["```", "~~~"] where t.hasPrefix(m) {
            let run = t.prefix { $0 == m.first! }
            let info = t.dropFirst(run.count).mdTrimmed
            if m == "```" && info.contains("`") { return nil }
            // The info string's first word names the language (a class name: letters, digits, -_+.).
            let word = info.prefix { $0.isLetter || $0.isNumber || "-_+.".contains($0) }
            return (String(run), String(word.prefix(32)))
        }
        return nil
    }

    static func atxHeading(_ t: Substring) -> (Int, Substring)? {
        let hashes = t.prefix { $0 == "#" }.count
        guard (1...6).contains(hashes) else { return nil }
        let rest = t.dropFirst(hashes)
        guard rest.isEmpty || rest.first == " " else { return nil }
        var content = rest.mdTrimmed
        // An optional closing run of #.
        let trailing = content.reversed().prefix { $0 == "#" }.count
        if trailing > 0 {
            let before = content.dropLast(trailing)
            if before.isEmpty || before.last == " " { content = before.mdTrimmed }
        }
        return (hashes, content)
    }

    static func isThematicBreak(_ t: Substring) -> Bool {
        guard let c = t.first, "-*_".contains(c) else { return false }
        let marks = t.filter { $0 != " " }
        return marks.count >= 3 && marks.allSatisfy { $0 == c }
    }

    /// `- `, `* `, `+ `, `1. `, `1) ` (up to 3 spaces of indent): ordered or not, the item's text,
    /// and the column its content starts at.
    static func listMarker(_ line: Substring) -> (ordered: Bool, rest: Substring, contentIndent: Int)? {
        let ind = indent(line)
        guard ind < 4 else { return nil }
        let t = line.dropFirst(ind)
        if let c = t.first, "-*+".contains(c) {
            let after = t.dropFirst()
            guard after.isEmpty || after.first == " " else { return nil }
            if isThematicBreak(t) { return nil }
            return (false, after.mdTrimmed, ind + 2)
        }
        let digits = t.prefix { $0.isASCII && $0.isNumber }
        guard (1...9).contains(digits.count) else { return nil }
        let after = t.dropFirst(digits.count)
        guard let d = after.first, d == "." || d == ")" else { return nil }
        let rest = after.dropFirst()
        guard rest.isEmpty || rest.first == " " else { return nil }
        return (true, rest.mdTrimmed, ind + digits.count + 2)
    }

    static func isTableDelimiter(_ line: Substring) -> Bool {
        let t = line.mdTrimmed
        guard t.contains("-"), t.contains("|") || t.contains(":") else { return false }
        return t.allSatisfy { "|-: ".contains($0) }
    }

    /// The cells of a table row (`| a | b |`); `\|` stays in a cell. At most 64.
    static func cells(_ row: Substring) -> [Substring] {
        var t = row.mdTrimmed
        if t.hasPrefix("|") { t = t.dropFirst() }
        if t.hasSuffix("|") && !t.hasSuffix("\\|") { t = t.dropLast() }
        var out: [Substring] = []
        var start = t.startIndex
        var i = t.startIndex
        while i < t.endIndex {
            if t[i] == "\\" {
                i = t.index(after: i)
                if i < t.endIndex { i = t.index(after: i) }
                continue
            }
            if t[i] == "|" {
                out.append(t[start..<i].mdTrimmed)
                start = t.index(after: i)
            }
            i = t.index(after: i)
        }
        out.append(t[start...].mdTrimmed)
        return Array(out.prefix(64))
    }
}

/// Inline Markdown: code spans, emphasis, links, images (as links), autolinks, escapes, line breaks.
enum Inline {
    static func render(_ text: Substring, depth: Int, into html: inout HTMLWriter) {
        var state = State(chars: Array(text))
        state.run(0, state.chars.count, depth: depth, into: &html)
    }

    struct State {
        let chars: [Character]
        /// What earlier searches found, per delimiter and range end: a failure from `from` means none
        /// at or after `from`; a success from `from` at `found` means none in `from..<found`. A later
        /// search from a later position reuses both, so no stretch of text is rescanned for one
        /// delimiter (no quadratic work on `[[[[…` or `****…`).
        var failedFrom: [String: Int] = [:]
        var foundFrom: [String: (from: Int, found: Int)] = [:]

        init(chars: [Character]) { self.chars = chars }

        /// The first position ≥ from (before `end`) where `delimiter` starts (not right at `from`, and
        /// not after a space when `notAfterSpace`), or nil.
        mutating func find(_ delimiter: [Character], from: Int, end: Int, notAfterSpace: Bool = false) -> Int? {
            let key = String(delimiter) + (notAfterSpace ? "|s@" : "@") + String(end)
            if let failed = failedFrom[key], failed <= from { return nil }
            if let hit = foundFrom[key], hit.from <= from, from < hit.found { return hit.found }
            var i = from
            while i + delimiter.count <= end {
                if chars[i] == "\\" {
                    i += 2
                    continue
                }
                if chars[i] == delimiter[0] && chars[i..<i + delimiter.count].elementsEqual(delimiter) {
                    if !notAfterSpace || (i > from && !chars[i - 1].isWhitespace) {
                        foundFrom[key] = (from, i)
                        return i
                    }
                }
                i += 1
            }
            failedFrom[key] = from
            return nil
        }

        mutating func run(_ start: Int, _ end: Int, depth: Int, into html: inout HTMLWriter) {
            var textStart = start
            var i = start
            func flush(_ upTo: Int, _ html: inout HTMLWriter) {
                if textStart < upTo { html.text(String(chars[textStart..<upTo])) }
            }
            while i < end {
                let c = chars[i]
                switch c {
                case "\\" where i + 1 < end && chars[i + 1].isASCII && (chars[i + 1].isPunctuation || chars[i + 1].isSymbol):
                    flush(i, &html)
                    html.text(String(chars[i + 1]))
                    i += 2
                    textStart = i
                    continue
                case "\n":
                    flush(i, &html)
                    // Two trailing spaces or a backslash before the newline: a hard break.
                    if i >= 2 && chars[i - 1] == " " && chars[i - 2] == " " { html.open("br") }
                    html.text("\n")
                    i += 1
                    textStart = i
                    continue
                case "`":
                    let run = countRun("`", at: i, end: end)
                    let delim = [Character](repeating: "`", count: run)
                    if let close = findCodeClose(delim, from: i + run, end: end) {
                        flush(i, &html)
                        var code = String(chars[(i + run)..<close]).replacing("\n", with: " ")
                        if code.count >= 2 && code.hasPrefix(" ") && code.hasSuffix(" ") && !code.allSatisfy({ $0 == " " }) {
                            code = String(code.dropFirst().dropLast())
                        }
                        html.element("code", text: code)
                        i = close + run
                        textStart = i
                    } else {
                        i += run
                    }
                    continue
                case "*", "_":
                    let n = min(countRun(c, at: i, end: end), 2)
                    let delim = [Character](repeating: c, count: n)
                    let leftOK = i + n < end && !chars[i + n].isWhitespace
                    let intraword = c == "_" && i > start && (chars[i - 1].isLetter || chars[i - 1].isNumber)
                    if leftOK, !intraword, depth < Markdown.maximumDepth, let close = find(delim, from: i + n + 1, end: end, notAfterSpace: true) {
                        flush(i, &html)
                        let tag: StaticString = n == 2 ? "strong" : "em"
                        html.open(tag)
                        run(i + n, close, depth: depth + 1, into: &html)
                        html.close(tag)
                        i = close + n
                        textStart = i
                    } else {
                        i += n
                    }
                    continue
                case "!" where i + 1 < end && chars[i + 1] == "[":
                    if case let (label, target, next)? = linkParts(at: i + 1, end: end) {
                        flush(i, &html)
                        let alt = String(chars[label])
                        // Images are never fetched from anywhere: a link to the target, labelled with the alt text.
                        if let url = target.flatMap { SafeURL(untrusted: $0) } {
                            html.link(url, [("class", "image-link"), ("rel", "nofollow noreferrer")], text: alt.isEmpty ? "image" : alt)
                        } else {
                            html.text(alt)
                        }
                        i = next
                        textStart = i
                    } else {
                        i += 1
                    }
                    continue
                case "[":
                    if case let (label, target, next)? = linkParts(at: i, end: end) {
                        flush(i, &html)
                        if let url = target.flatMap { SafeURL(untrusted: $0) }, depth < Markdown.maximumDepth {
                            html.open("a", [("href", url.value), ("rel", "nofollow noreferrer")])
                            run(label.lowerBound, label.upperBound, depth: depth + 1, into: &html)
                            html.close("a")
                        } else {
                            // An unsafe target: the link's text only.
                            html.text(String(chars[label]))
                        }
                        i = next
                        textStart = i
                    } else {
                        i += 1
                    }
                    continue
                case "<":
                    // An autolink <https://…>; anything else (raw HTML) is text.
                    if let close = find([">"], from: i + 1, end: end), close - i <= 2048 {
                        let inner = String(chars[(i + 1)..<close])
                        let lower = inner.lowercased()
                        if lower.hasPrefix("http://") || lower.hasPrefix("https://"), let url = SafeURL(untrusted: inner) {
                            flush(i, &html)
                            html.link(url, [("rel", "nofollow noreferrer")], text: inner)
                            i = close + 1
                            textStart = i
                            continue
                        }
                    }
                    i += 1
                    continue
                default:
                    i += 1
                }
            }
            flush(end, &html)
        }

        func countRun(_ c: Character, at i: Int, end: Int) -> Int {
            var n = 0
            while i + n < end && chars[i + n] == c { n += 1 }
            return n
        }

        /// A closing backtick run of exactly the opening's length.
        mutating func findCodeClose(_ delim: [Character], from: Int, end: Int) -> Int? {
            var j = from
            while let k = find(delim, from: j, end: end) {
                // Backslashes do not escape inside code spans, but `find` skips them: good enough for a
                // README, and still linear.
                let runLength = countRun("`", at: k, end: end)
                if runLength == delim.count { return k }
                j = k + runLength
            }
            return nil
        }

        /// `[label](target "title")` at `i` (the `[`): the label's range, the target (nil when empty),
        /// and the position after `)`.
        mutating func linkParts(at i: Int, end: Int) -> (Range<Int>, String?, Int)? {
            guard let close = find(["]"], from: i + 1, end: end), close + 1 < end, chars[close + 1] == "(" else { return nil }
            // The destination ends at the `)` that balances its parentheses (`(a(b))`), within 2048
            // characters and 32 tries; each `)` is found through `find`, so nothing is rescanned.
            let open = close + 2
            var search = open
            var balanced: Int?
            for _ in 0..<32 {
                guard let q = find([")"], from: search, end: end), q - open <= 2048 else { break }
                var depth = 0
                for c in chars[open..<q] {
                    if c == "(" { depth += 1 } else if c == ")" { depth -= 1 }
                }
                if depth == 0 {
                    balanced = q
                    break
                }
                search = q + 1
            }
            guard let paren = balanced else { return nil }
            var target = Substring(String(chars[(close + 2)..<paren])).mdTrimmed
            // A title after the URL is dropped; <…> around the URL is removed.
            if let space = target.firstIndex(of: " ") { target = target[..<space] }
            if target.hasPrefix("<") && target.hasSuffix(">") && target.count >= 2 { target = target.dropFirst().dropLast() }
            return ((i + 1)..<close, target.isEmpty ? nil : String(target), paren + 1)
        }
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs, as a slice.
    fileprivate var mdTrimmed: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" { s = s.dropLast() }
        return s
    }
}
