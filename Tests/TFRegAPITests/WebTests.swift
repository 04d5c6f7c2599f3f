import Logging
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegTesting
import Testing

/// What the browser may run from tfreg's HTML: every tag in the output is one tfreg writes (an
/// allowlist), with allowlisted attributes, and every `href` is http(s), a path, or a fragment. Since
/// `HTMLWriter` escapes `<` in all text, every raw `<` in the output is a tag tfreg wrote: a scan of the
/// tags is a scan of everything a browser would treat as markup.
enum Inert {
    static let tags: Set<String> = [
        "html", "head", "meta", "title", "link", "body", "header", "nav", "main", "span", "form", "input", "button", "h1", "h2",
        "h3", "h4", "h5", "h6", "p", "div", "table", "thead", "tbody", "tr", "th", "td", "a", "code", "pre", "dl", "dt", "dd",
        "section", "ul", "ol", "li", "strong", "em", "blockquote", "hr", "br", "article", "label",
    ]
    static let attributes: Set<String> = [
        "lang", "charset", "name", "content", "rel", "href", "class", "aria-label", "method", "action", "type", "value", "id",
        "for", "placeholder", "data-label", "maxlength", "role", "scope", "aria-labelledby", "aria-current", "autocomplete", "required",
    ]

    /// Problems found in `html` (empty when inert).
    static func problems(_ html: String) -> [String] {
        var out: [String] = []
        let u = Array(html.utf8)
        var i = 0
        if html.hasPrefix("<!doctype html>") { i = 15 }
        while i < u.count {
            guard u[i] == UInt8(ascii: "<") else {
                i += 1
                continue
            }
            guard let end = u[i...].firstIndex(of: UInt8(ascii: ">")) else {
                out.append("unclosed tag at \(i)")
                break
            }
            var tag = String(decoding: u[(i + 1)..<end], as: UTF8.self)
            if tag.hasPrefix("/") { tag.removeFirst() }
            let name = String(tag.prefix { $0 != " " })
            if !tags.contains(name) { out.append("tag <\(name)>") }
            // Attributes: name="value" pairs; values never contain a raw quote (escaped).
            var rest = tag.dropFirst(name.count)
            while let eq = rest.firstIndex(of: "=") {
                let attr = rest[..<eq].trimmingCharacters()
                if !attributes.contains(attr) { out.append("attribute \(attr) on <\(name)>") }
                let afterEq = rest[rest.index(after: eq)...]
                guard afterEq.first == "\"", let close = afterEq.dropFirst().firstIndex(of: "\"") else {
                    out.append("unquoted attribute \(attr)")
                    break
                }
                let value = String(afterEq[afterEq.index(after: afterEq.startIndex)..<close])
                if attr == "href" {
                    let v = value.lowercased()
                    let ok =
                        v.hasPrefix("http://") || v.hasPrefix("https://") || v.hasPrefix("#") || (v.hasPrefix("/") && !v.hasPrefix("//"))
                        || !(v.prefix { $0 != "/" && $0 != "?" && $0 != "#" }.contains(":"))
                    if !ok || v.contains("\\") || v.hasPrefix("//") { out.append("href \(value)") }
                }
                rest = afterEq[afterEq.index(after: close)...]
            }
            i = end + 1
        }
        return out
    }
}

extension Substring {
    fileprivate func trimmingCharacters() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}

/// Hostile text: in READMEs, names, descriptions, deprecation reasons. Each must render inert.
let xssCorpus: [String] = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)><circle/></svg>",
    "<svg><script>alert(1)</script></svg>",
    "<iframe src=\"javascript:alert(1)\"></iframe>",
    "<a href=\"javascript:alert(1)\">x</a>",
    "\"><script>alert(1)</script>",
    "' onmouseover='alert(1)",
    "\" onfocus=\"alert(1)\" autofocus=\"",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "&#60;script&#62;alert(1)&#60;/script&#62;",
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    "[click](java\tscript:alert(1))",
    "[click]( javascript:alert(1))",
    "[click](<javascript:alert(1)>)",
    "[click](javascript&#58;alert(1))",
    "[click](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[click](vbscript:msgbox(1))",
    "[click](//evil.example/)",
    "[click](/\\evil.example/)",
    "[click](https://ok.example/\" onclick=\"alert(1))",
    "[x](https://ok.example/ \"title\" onclick=alert(1))",
    "![alt](https://evil.example/track.png)",
    "![<img src=x onerror=alert(1)>](javascript:alert(1))",
    "![x](data:image/svg+xml,<svg onload=alert(1)>)",
    "<https://ok.example/\"><script>alert(1)</script>>",
    "<javascript:alert(1)>",
    "```html\n<script>alert(1)</script>\n```",
    "```\"><script>alert(1)</script>\nx\n```",
    "`<script>alert(1)</script>`",
    "**<b onclick=alert(1)>bold</b>**",
    "| a | <img src=x onerror=alert(1)> |\n|---|---|\n| <script>x</script> | [y](javascript:z) |",
    "> <style>body{display:none}</style>",
    "- <math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    "<!-- <script>alert(1)</script> -->",
    "<base href=\"https://evil.example/\">",
    "<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\">",
    "<form action=https://evil.example/><input name=token></form>",
    "\u{0}<script>\u{0}alert(1)</script>",
    "[a](https://ok.example/)[b](javascript:alert(1))",
    "[[nested](javascript:alert(1))](https://ok.example/)",
]

@Suite struct MarkdownTests {
    func html(_ s: String) -> String { Markdown.render(s).string }

    @Test func theXSSCorpusRendersInert() {
        for input in xssCorpus {
            let out = html(input)
            #expect(Inert.problems(out).isEmpty, "\(input) → \(out): \(Inert.problems(out))")
            #expect(!out.lowercased().contains("<script") && !out.lowercased().contains("<img") && !out.lowercased().contains("<svg"), "\(out)")
        }
    }

    @Test func unsafeLinkTargetsBecomeText() {
        #expect(html("[click](javascript:alert(1))") == "<p>click</p>")
        #expect(html("[click](//evil.example/)") == "<p>click</p>")
        #expect(html("[click](data:text/html,x)") == "<p>click</p>")
        #expect(
            html("[docs](https://example.com/a?b=1&c=2)")
                == "<p><a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow noreferrer\">docs</a></p>"
        )
        #expect(html("[up](../README.md)").contains("href=\"../README.md\""))
        #expect(html("[top](#usage)").contains("href=\"#usage\""))
    }

    @Test func imagesAreNeverFetched() {
        let out = html("![diagram](https://cdn.example/d.png) ![bad](javascript:x)")
        #expect(!out.contains("<img"))
        #expect(out.contains("<a href=\"https://cdn.example/d.png\" class=\"image-link\" rel=\"nofollow noreferrer\">diagram</a>"))
        #expect(out.contains(" bad"))
    }

    @Test func rawHTMLIsText() {
        #expect(html("<b>x</b> & <i>") == "<p>&lt;b&gt;x&lt;/b&gt; &amp; &lt;i&gt;</p>")
        #expect(html("&lt;x&gt;") == "<p>&amp;lt;x&amp;gt;</p>")
    }

    @Test func theCommonMarkSubset() {
        #expect(
            html("# Title\n\nSome *em*, **strong**, `code` and _em_.")
                == "<h3>Title</h3><p>Some <em>em</em>, <strong>strong</strong>, <code>code</code> and <em>em</em>.</p>"
        )
        #expect(html("Title\n=====\nSub\n---") == "<h3>Title</h3><h4>Sub</h4>")
        #expect(html("- a\n- b\n  - c\n- d") == "<ul><li>a</li><li>b<ul><li>c</li></ul></li><li>d</li></ul>")
        #expect(html("1. one\n2. two") == "<ol><li>one</li><li>two</li></ol>")
        #expect(html("```hcl\nmodule \"x\" {}\n```") == "<pre><code class=\"language-hcl\">module &quot;x&quot; {}</code></pre>")
        #expect(html("    indented\n    code") == "<pre><code>indented\ncode</code></pre>")
        #expect(html("> quote\n> more") == "<blockquote><p>quote\nmore</p></blockquote>")
        #expect(html("a\n\n---\n\nb") == "<p>a</p><hr><p>b</p>")
        #expect(html("snake_case_name stays") == "<p>snake_case_name stays</p>")
        #expect(html("\\*not em\\*") == "<p>*not em*</p>")
        #expect(html("<https://example.com>") == "<p><a href=\"https://example.com\" rel=\"nofollow noreferrer\">https://example.com</a></p>")
        let table = html("| Name | Type |\n|------|:----:|\n| `a` | string |")
        #expect(
            table
                == "<div class=\"table-wrap\"><table><thead><tr><th scope=\"col\">Name</th><th scope=\"col\">Type</th></tr></thead><tbody><tr><td><code>a</code></td><td>string</td></tr></tbody></table></div>"
        )
    }

    @Test func theFirstParagraphIsPlainText() {
        #expect(Markdown.firstParagraph("# VPC\n\nCreates a VPC\nwith subnets.\n\nMore.") == "Creates a VPC with subnets.")
    }

    /// Hostile shapes finish quickly and stay bounded: unclosed delimiters, deep nesting, huge input.
    @Test func hostileShapesAreBounded() {
        let clock = ContinuousClock()
        let inputs = [
            String(repeating: "*a ", count: 50_000),
            String(repeating: "[", count: 100_000) + String(repeating: "](", count: 10_000),
            String(repeating: "`", count: 60_000) + "x",
            String(repeating: ">", count: 20_000) + " deep",
            (0..<2000).map { String(repeating: " ", count: $0 % 60) + "- item" }.joined(separator: "\n"),
            String(repeating: "**a ", count: 30_000),
            String(repeating: "_", count: 100_000),
            String(repeating: "<", count: 200_000),
            String(repeating: "![a](", count: 40_000),
            String(repeating: "x", count: 2_000_000),
            String(repeating: "| a ", count: 5000) + "\n|" + String(repeating: "-|", count: 5000) + "\n" + String(repeating: "| b ", count: 5000),
        ]
        for input in inputs {
            let started = clock.now
            let out = html(input)
            let took = clock.now - started
            #expect(took < .seconds(5), "\(input.prefix(20))…: \(took)")
            #expect(out.utf8.count < 8 * Markdown.maximumBytes, "\(input.prefix(20))…: \(out.utf8.count) bytes")
            #expect(Inert.problems(out).isEmpty)
        }
        // Nesting stops at maximumDepth.
        let deep = html(String(repeating: ">", count: 50) + " x")
        #expect(deep.components("<blockquote>") == Markdown.maximumDepth)
    }

    @Test func safeURLRules() {
        for good in ["https://a.example/x", "http://a.example", "#frag", "/path", "docs/x.md", "../up", "?q=1", "HTTPS://A.EXAMPLE/"] {
            #expect(SafeURL(untrusted: good) != nil, "\(good)")
        }
        for bad in [
            "javascript:x", "JAVASCRIPT:x", "data:x", "vbscript:x", "file:///etc/passwd", "//evil", "/\\evil", "java\tscript:x", " https://x",
            "https:",
            "http:///x", "mailto:a@b", "", String(repeating: "a", count: 3000),
        ] {
            #expect(SafeURL(untrusted: bad) == nil, "\(bad)")
        }
    }
}

extension String {
    func components(_ s: String) -> Int { split(separator: s, omittingEmptySubsequences: false).count - 1 }
}

@Suite struct WebPageTests {
    static let viewer = WebPages.Viewer(identity: "token:<script>alert(1)</script>#abc", csrf: "\"><script>")

    static func detail(hostile h: String) throws -> ModuleDetail {
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let record = ModuleVersionRecord(
            module: module,
            version: try Version("1.2.0"),
            location: ArchiveLocation(key: "k"),
            sha256: String(repeating: "a", count: 64),
            size: 1,
            publishedAt: 1_800_000_000,
            publishedBy: h,
            deprecation: Deprecation(reason: h, replacement: h, at: 1, by: h)
        )
        let input = ModuleDocs.Input(name: h, type: h, description: h, defaultJSON: h, required: true, sensitive: true)
        let part = ModuleDocs.Part(
            path: "",
            readme: h,
            inputs: [input, .init(name: "cidr_block", type: "string", description: "The VPC's CIDR", required: true)],
            outputs: [.init(name: h, description: h)],
            dependencies: [.init(name: h, source: h, version: h)],
            providerDependencies: [.init(name: h, namespace: h, source: h, version: h)],
            resources: [.init(type: h, name: h)],
            requiredVersion: h,
            problems: [h]
        )
        let sub = ModuleDocs.Part(path: "modules/" + h, readme: h, inputs: [input])
        return ModuleDetail(
            record: record,
            versions: [record],
            description: h,
            source: "javascript:alert(1)",
            downloads: 3,
            docs: ModuleDocs(root: part, submodules: [sub], examples: [sub])
        )
    }

    @Test func everyPageRendersTheCorpusInert() throws {
        for h in xssCorpus {
            let d = try Self.detail(hostile: h)
            let module = String(decoding: WebPages.module(.init(viewer: Self.viewer, detail: d, host: h, isLatest: true)), as: UTF8.self)
            #expect(Inert.problems(module).isEmpty, "\(h): \(Inert.problems(module))")
            let summary = ModuleSummary(
                module: d.record.module,
                latest: d.record.version,
                latestPublishedAt: 0,
                latestPublishedBy: h,
                latestDeprecated: true,
                versionCount: 1,
                updatedAt: 0,
                description: h
            )
            let index = String(
                decoding: WebPages.index(
                    .init(viewer: Self.viewer, query: h, namespace: h, provider: h, modules: [summary], next: "offset=50", now: 0)
                ),
                as: UTF8.self
            )
            #expect(Inert.problems(index).isEmpty, "\(h): \(Inert.problems(index))")
            let login = String(decoding: WebPages.login(csrf: h, message: h), as: UTF8.self)
            #expect(Inert.problems(login).isEmpty)
            let error = String(decoding: WebPages.error(status: 404, message: h, signedIn: true), as: UTF8.self)
            #expect(Inert.problems(error).isEmpty)
        }
    }

    @Test func theModulePageShowsItsParts() throws {
        var d = try Self.detail(hostile: "x")
        d.docs?.root.readme = "# VPC\n\nThe **network**."
        let page = String(
            decoding: WebPages.module(.init(viewer: Self.viewer, detail: d, host: "registry.example.com", isLatest: true)),
            as: UTF8.self
        )
        for section in ["Usage", "Versions", "Inputs", "Outputs", "Dependencies", "Providers", "Resources", "Submodules", "Examples"] {
            #expect(page.contains(">\(section)</h2>") || page.contains(">\(section)</h4>"), "\(section)")
        }
        #expect(page.contains("<h3>VPC</h3><p>The <strong>network</strong>.</p>"))
        #expect(page.contains("Deprecated: "))
        #expect(!page.contains("href=\"javascript"))
        // The usage snippet: the required inputs that are identifiers, as placeholders.
        #expect(WebPages.usage(d, host: "registry.example.com").contains("source  = \"registry.example.com/acme/vpc/aws\""))
        #expect(WebPages.usage(d, host: "registry.example.com").contains("version = \"~> 1.2\""))
        #expect(WebPages.usage(d, host: "registry.example.com").contains("cidr_block = null # required, string"))
        d.docs = nil
        let bare = String(decoding: WebPages.module(.init(viewer: Self.viewer, detail: d, host: "h", isLatest: true)), as: UTF8.self)
        #expect(bare.contains("No documentation extracted for this version."))
    }
}

@Suite struct WebSessionTests {
    let clock = TestClock()
    var sessions: WebSessions { WebSessions(key: [UInt8](repeating: 9, count: 32), maxLifetime: 3600, clock: clock) }

    @Test func aSessionLivesNoLongerThanItsTokenOrTheMaximum() throws {
        let id = try Identity("arn:aws:iam::123456789012:role/dev")
        let s = sessions
        let (value, expires) = s.issueSession(for: id, notAfter: clock.now() + 100)
        #expect(expires == clock.now() + 100)
        #expect(s.session(value)?.subject == id)
        clock.advance(100)
        #expect(s.session(value) == nil)
        #expect(s.issueSession(for: id, notAfter: nil).expiresAt == clock.now() + 3600)
    }

    @Test func codesAreSingleUseShortLivedAndNotSessions() async throws {
        let id = try Identity("arn:aws:iam::123456789012:role/dev")
        let s = sessions
        let (code, expires) = try s.issueCode(for: id, notAfter: clock.now() + 500)
        #expect(expires == clock.now() + 60)
        #expect(s.session(code) == nil)
        let claims = try await s.redeem(code)
        #expect(claims.subject == id && claims.notAfter == clock.now() + 500)
        await #expect(throws: RegistryError.self) { try await s.redeem(code) }
        let (late, _) = try s.issueCode(for: id, notAfter: nil)
        clock.advance(61)
        await #expect(throws: RegistryError.self) { try await s.redeem(late) }
        let (value, _) = s.issueSession(for: id, notAfter: nil)
        await #expect(throws: RegistryError.self) { try await s.redeem(value) }
        // Another key opens nothing; a flipped byte opens nothing.
        let other = WebSessions(key: [UInt8](repeating: 8, count: 32), clock: clock)
        #expect(other.session(value) == nil)
        var bytes = Array(value.utf8)
        bytes[10] = bytes[10] == UInt8(ascii: "A") ? UInt8(ascii: "B") : UInt8(ascii: "A")
        #expect(s.session(String(decoding: bytes, as: UTF8.self)) == nil)
    }

    @Test func theFormTokenIsTheSessions() throws {
        let s = sessions
        let a = try #require(s.session(s.issueSession(for: try Identity("token:a#1"), notAfter: nil).value))
        let b = try #require(s.session(s.issueSession(for: try Identity("token:a#1"), notAfter: nil).value))
        #expect(s.checkCSRF(s.csrfToken(for: a), for: a))
        #expect(!s.checkCSRF(s.csrfToken(for: b), for: a))
        #expect(!s.checkCSRF("", for: a))
    }
}

/// The web area through the router, as a browser drives it.
@Suite struct WebFlowTests {
    static func cookie(_ r: APIResponse, _ name: String) -> String? {
        for (n, v) in r.headers where n.lowercased() == "set-cookie" && v.hasPrefix(name + "=") {
            return String(v.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    static func form(_ pairs: [(String, String)]) -> [UInt8] {
        Array(pairs.map { "\($0.0)=\(PercentEncoding.encode($0.1))" }.joined(separator: "&").utf8)
    }

    /// Signs in with the form and returns the session cookie.
    static func signIn(_ h: APIHarness, token: String) async throws -> String {
        let page = await h.send("GET", "/login")
        let nonce = try #require(cookie(page, WebSessions.loginCookie))
        #expect(page.text.contains("value=\"\(nonce)\""))
        let r = await h.send(
            "POST",
            "/login",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Cookie", "\(WebSessions.loginCookie)=\(nonce)")],
            body: form([("csrf", nonce), ("token", token)])
        )
        #expect(r.status == 303 && r.header("location") == "/", "\(r.status) \(r.text)")
        let setCookie = try #require(r.headers.first { $0.name == "Set-Cookie" && $0.value.hasPrefix(WebSessions.sessionCookie) }?.value)
        #expect(
            setCookie.contains("; HttpOnly") && setCookie.contains("; Secure") && setCookie.contains("; SameSite=Strict")
                && setCookie.contains("Path=/")
        )
        return try #require(cookie(r, WebSessions.sessionCookie))
    }

    func session(_ value: String) -> [(name: String, value: String)] { [("Cookie", "\(WebSessions.sessionCookie)=\(value)")] }

    @Test func everyPageCarriesTheSecurityHeaders() async throws {
        let h = try APIHarness()
        for target in ["/", "/login", "/static/tfreg.css", "/modules/acme/vpc/aws", "/modules/x"] {
            let r = await h.send("GET", target)
            #expect(r.header("content-security-policy")?.hasPrefix("default-src 'self'; frame-ancestors 'none'") == true, "\(target)")
            #expect(r.header("x-content-type-options") == "nosniff" && r.header("referrer-policy") == "no-referrer", "\(target)")
        }
        // Signed out: pages send the browser to the form.
        #expect(await h.send("GET", "/").header("location") == "/login")
        // The JSON API keeps its errors; a page's error is HTML.
        #expect(await h.send("GET", "/v1/modules").text.hasPrefix("{\"errors\":"))
        #expect(await h.send("DELETE", "/").header("content-type")?.hasPrefix("text/html") == true)
        #expect(await h.send("POST", "/login/code").header("content-type") == "application/json")
    }

    @Test func aPastedTokenSignsInAndThePagesShowWhatItMayRead() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true), in: ["acme", "other"])
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        #expect(try await h.publish("1.1.0", token: rw).status == 201)
        #expect(try await h.publish("1.0.0", token: rw, module: "other/secret/aws").status == 201)
        let reader = try await h.token("reader", Permissions(download: true), in: ["acme"])
        let value = try await Self.signIn(h, token: reader)

        let index = await h.send("GET", "/", headers: session(value))
        #expect(index.status == 200 && index.header("content-type") == "text/html; charset=utf-8")
        #expect(index.text.contains("acme/vpc/aws") && index.text.contains("1.1.0"))
        #expect(index.text.contains("placeholder=\"name, description or README\""), "the search box says what search matches")
        #expect(!index.text.contains("secret"), "a namespace without download is not listed")
        #expect(await h.send("GET", "/?q=vpc", headers: session(value)).text.contains("acme/vpc/aws"))
        #expect(!(await h.send("GET", "/?q=nothing-like-it", headers: session(value)).text.contains("acme/vpc/aws")))
        #expect(await h.send("GET", "/?namespace=other", headers: session(value)).status == 403)
        #expect(await h.send("GET", "/?namespace=..", headers: session(value)).status == 400)

        let page = await h.send("GET", "/modules/acme/vpc/aws", headers: session(value))
        #expect(page.status == 200 && page.text.contains("1.1.0") && page.text.contains("href=\"/modules/acme/vpc/aws/1.0.0\""))
        #expect(page.text.contains("No documentation extracted for this version."))
        #expect(page.text.contains("source  = &quot;registry.test:8443/acme/vpc/aws&quot;"))
        let old = await h.send("GET", "/modules/acme/vpc/aws/1.0.0", headers: session(value))
        #expect(old.status == 200 && old.text.contains("aria-current=\"page\" class=\"current\">1.0.0<"))
        // Same answers as the API for what the session may not read.
        let forbidden = await h.send("GET", "/modules/other/secret/aws", headers: session(value))
        let api = await h.send("GET", "/v1/modules/other/secret/aws/versions", token: reader)
        #expect(forbidden.status == api.status && forbidden.status == 403 && forbidden.header("content-type")?.hasPrefix("text/html") == true)
        #expect(!forbidden.text.contains("1.0.0"))
        #expect(await h.send("GET", "/modules/acme/nothing/aws", headers: session(value)).status == 404)
        #expect(await h.send("GET", "/modules/acme/vpc/aws/9.9.9", headers: session(value)).status == 404)
        #expect(await h.send("GET", "/modules/acme/vpc/aws/not-a-version", headers: session(value)).status == 400)
        // A forged or foreign cookie is no session.
        #expect(await h.send("GET", "/", headers: session("tfs_AAAA")).header("location") == "/login")
    }

    @Test func theLoginFormNeedsItsFormTokenAndAValidToken() async throws {
        let h = try APIHarness()
        let reader = try await h.token("reader", Permissions(download: true), in: ["acme"])
        let page = await h.send("GET", "/login")
        let nonce = try #require(Self.cookie(page, WebSessions.loginCookie))
        let formType = ("Content-Type", "application/x-www-form-urlencoded")
        // No login cookie (a cross-site post), or a different value: refused.
        var r = await h.send("POST", "/login", headers: [formType], body: Self.form([("csrf", nonce), ("token", reader)]))
        #expect(r.status == 403 && Self.cookie(r, WebSessions.sessionCookie) == nil)
        r = await h.send(
            "POST",
            "/login",
            headers: [formType, ("Cookie", "\(WebSessions.loginCookie)=\(nonce)")],
            body: Self.form([("csrf", "x" + nonce), ("token", reader)])
        )
        #expect(r.status == 403 && Self.cookie(r, WebSessions.sessionCookie) == nil)
        r = await h.send(
            "POST",
            "/login",
            headers: [formType, ("Cookie", "\(WebSessions.loginCookie)=\(nonce)")],
            body: Self.form([("csrf", nonce), ("token", "tfr_" + String(repeating: "A", count: 43))])
        )
        #expect(r.status == 401 && r.text.contains("not valid") && Self.cookie(r, WebSessions.sessionCookie) == nil)
        r = await h.send("POST", "/login", headers: [("Content-Type", "text/plain"), ("Cookie", "\(WebSessions.loginCookie)=\(nonce)")], body: [])
        #expect(r.status == 415)
        r = await h.send(
            "POST",
            "/login",
            headers: [formType, ("Cookie", "\(WebSessions.loginCookie)=\(nonce)")],
            body: [UInt8](repeating: 97, count: 20_000)
        )
        #expect(r.status == 413)
    }

    @Test func logoutNeedsTheSessionsFormToken() async throws {
        let h = try APIHarness()
        let reader = try await h.token("reader", Permissions(download: true), in: ["acme"])
        let value = try await Self.signIn(h, token: reader)
        let index = await h.send("GET", "/", headers: session(value))
        let csrf = try #require(index.text.split(separator: "name=\"csrf\" value=\"").dropFirst().first?.prefix { $0 != "\"" })
        let formType = ("Content-Type", "application/x-www-form-urlencoded")
        var r = await h.send("POST", "/logout", headers: [formType] + session(value), body: Self.form([("csrf", "nope")]))
        #expect(r.status == 403)
        r = await h.send("POST", "/logout", headers: [formType] + session(value), body: Self.form([("csrf", String(csrf))]))
        #expect(r.status == 303 && r.header("location") == "/login")
        #expect(
            r.headers.contains { $0.name == "Set-Cookie" && $0.value.hasPrefix("\(WebSessions.sessionCookie)=;") && $0.value.contains("Max-Age=0") }
        )
    }

    @Test func aCodeFromTheCLISignsInOnce() async throws {
        let h = try APIHarness()
        let reader = try await h.token("reader", Permissions(download: true), in: ["acme"])
        #expect(await h.send("POST", "/login/code").status == 401)
        let r = await h.send("POST", "/login/code", token: reader)
        #expect(r.status == 200 && r.header("cache-control") == "no-store", "\(r.text)")
        let json = try JSONParser.parse(r.bodyBytes)
        let path = try #require(json["path"]?.stringValue)
        #expect(json["url"]?.stringValue == "https://registry.test:8443" + path)
        let login = await h.send("GET", path)
        #expect(login.status == 303 && login.header("location") == "/")
        let value = try #require(Self.cookie(login, WebSessions.sessionCookie))
        #expect(await h.send("GET", "/", headers: session(value)).status == 200)
        // Replayed: refused, as a page.
        let again = await h.send("GET", path)
        #expect(
            again.status == 401 && again.header("content-type")?.hasPrefix("text/html") == true
                && Self.cookie(again, WebSessions.sessionCookie) == nil
        )
        // Expired after 60 s.
        let late = try JSONParser.parse(await h.send("POST", "/login/code", token: reader).bodyBytes)["path"]?.stringValue ?? ""
        h.clock.advance(61)
        #expect(await h.send("GET", late).status == 401)
    }
}
