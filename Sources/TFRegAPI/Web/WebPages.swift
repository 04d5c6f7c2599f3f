import TFRegCore
import TFRegSystem

/// The browser's pages: pure functions from a view model to HTML through `HTMLWriter` (so nothing
/// reaches the output unescaped), with no inline script or style (the CSP forbids both) and one
/// stylesheet, `/static/tfreg.css`.
public enum WebPages {
    /// Who is looking, for the header (nil on the login page).
    public struct Viewer: Sendable {
        public var identity: String
        /// The session's form token, in the logout form.
        public var csrf: String
        public init(identity: String, csrf: String) {
            self.identity = identity
            self.csrf = csrf
        }
    }

    // MARK: Layout

    static func page(_ title: String, viewer: Viewer?, _ main: (inout HTMLWriter) -> Void) -> [UInt8] {
        var w = HTMLWriter()
        w.doctype()
        w.open("html", [("lang", "en")])
        w.element("head") { h in
            h.open("meta", [("charset", "utf-8")])
            h.open("meta", [("name", "viewport"), ("content", "width=device-width, initial-scale=1")])
            h.open("meta", [("name", "color-scheme"), ("content", "light dark")])
            h.element("title", text: title.isEmpty ? "tfreg" : "\(title) · tfreg")
            h.open("link", [("rel", "stylesheet"), ("href", WebRoute.stylesheet.path)])
        }
        w.element("body") { b in
            b.element("header", [("class", "site")]) { hd in
                hd.link(SafeURL(internal: WebRoute.index.path), [("class", "brand")], text: "tfreg")
                if let viewer {
                    hd.element("nav", [("aria-label", "Account")]) { nav in
                        nav.element("span", [("class", "who")], text: viewer.identity)
                        nav.element("form", [("method", "post"), ("action", WebRoute.logout.path), ("class", "inline")]) { f in
                            f.open("input", [("type", "hidden"), ("name", "csrf"), ("value", viewer.csrf)])
                            f.element("button", [("type", "submit")], text: "Sign out")
                        }
                    }
                }
            }
            b.element("main", [("id", "main")], main)
        }
        w.close("html")
        return w.bytes
    }

    // MARK: Index

    public struct IndexModel: Sendable {
        public var viewer: Viewer
        public var query: String
        public var namespace: String
        public var provider: String
        public var modules: [ModuleSummary]
        /// The query string of the next and previous pages, nil when there is none.
        public var next: String?
        public var previous: String?
        /// The time the "updated" column is relative to.
        public var now: Int64
        public init(
            viewer: Viewer,
            query: String = "",
            namespace: String = "",
            provider: String = "",
            modules: [ModuleSummary],
            next: String? = nil,
            previous: String? = nil,
            now: Int64
        ) {
            self.viewer = viewer
            self.query = query
            self.namespace = namespace
            self.provider = provider
            self.modules = modules
            self.next = next
            self.previous = previous
            self.now = now
        }
    }

    public static func index(_ m: IndexModel) -> [UInt8] {
        page("Modules", viewer: m.viewer) { w in
            w.element("h1", text: "Modules")
            w.element("form", [("method", "get"), ("action", WebRoute.index.path), ("class", "search"), ("role", "search")]) { f in
                field(&f, id: "q", label: "Search", type: "search", value: m.query, placeholder: "name, description or README")
                field(&f, id: "namespace", label: "Namespace", type: "text", value: m.namespace, placeholder: "any")
                field(&f, id: "provider", label: "Provider", type: "text", value: m.provider, placeholder: "any")
                f.element("button", [("type", "submit")], text: "Search")
            }
            if m.modules.isEmpty {
                w.element("p", [("class", "empty")], text: "No modules you may read match.")
                return
            }
            w.element("div", [("class", "table-wrap")]) { d in
                d.element("table", [("class", "modules")]) { t in
                    t.element("thead") { th in
                        th.element("tr") { tr in
                            for h in ["Module", "Description", "Latest", "Downloads", "Updated"] {
                                tr.element("th", [("scope", "col")], text: h)
                            }
                        }
                    }
                    t.element("tbody") { tb in
                        for s in m.modules {
                            tb.element("tr") { tr in
                                tr.element("td") { td in
                                    td.link(SafeURL(internal: WebRoute.page(of: s.module).path), text: s.module.description)
                                }
                                tr.element("td", [("data-label", "Description")], text: s.description)
                                tr.element("td", [("data-label", "Latest")]) { td in
                                    td.text(s.latest.description)
                                    if s.latestDeprecated { td.element("span", [("class", "badge deprecated")], text: "deprecated") }
                                }
                                tr.element("td", [("class", "num"), ("data-label", "Downloads")], text: "\(s.downloads)")
                                tr.element("td", [("data-label", "Updated")], text: date(s.updatedAt))
                            }
                        }
                    }
                }
            }
            if m.next != nil || m.previous != nil {
                w.element("nav", [("class", "pager"), ("aria-label", "Pages")]) { n in
                    if let p = m.previous { n.link(SafeURL(internal: "/?" + p), [("rel", "prev")], text: "← Previous") }
                    if let x = m.next { n.link(SafeURL(internal: "/?" + x), [("rel", "next")], text: "Next →") }
                }
            }
        }
    }

    static func field(_ f: inout HTMLWriter, id: String, label: String, type: String, value: String, placeholder: String) {
        f.element("div", [("class", "field")]) { d in
            d.element("label", [("for", id)], text: label)
            d.open("input", [("type", type), ("id", id), ("name", id), ("value", value), ("placeholder", placeholder), ("maxlength", "200")])
        }
    }

    // MARK: Module

    public struct ModuleModel: Sendable {
        public var viewer: Viewer
        public var detail: ModuleDetail
        /// `registry.example.com` (the usage snippet's source).
        public var host: String
        /// Whether the page is the latest version's (`/modules/NS/NAME/SYS`).
        public var isLatest: Bool
        public init(viewer: Viewer, detail: ModuleDetail, host: String, isLatest: Bool) {
            self.viewer = viewer
            self.detail = detail
            self.host = host
            self.isLatest = isLatest
        }
    }

    /// The usage snippet: `module "NAME" { source = "HOST/NS/NAME/SYS"  version = "~> X.Y" }` with
    /// the required inputs as placeholders. Names that are not HCL identifiers are quoted out.
    public static func usage(_ d: ModuleDetail, host: String) -> String {
        let r = d.record
        let v = r.version
        let constraint = v.isPrerelease ? "= \(v)" : "~> \(v.major).\(v.minor)"
        let label = hclIdentifier(r.module.name) ? r.module.name : "this"
        var lines = ["module \"\(label)\" {", "  source  = \"\(host)/\(r.module)\"", "  version = \"\(constraint)\""]
        let required = (d.docs?.root.inputs ?? []).filter(\.required).filter { hclIdentifier($0.name) }
        if !required.isEmpty { lines.append("") }
        let width = required.map(\.name.count).max() ?? 0
        for i in required {
            let pad = String(repeating: " ", count: width - i.name.count)
            lines.append("  \(i.name)\(pad) = null # \(i.type.map { "required, " + $0.split(separator: "\n").joined(separator: " ") } ?? "required")")
        }
        lines.append("}")
        return lines.joined(separator: "\n")
    }

    /// `[A-Za-z_][A-Za-z0-9_-]*`, at most 64 bytes: what may stand unquoted as a label or argument name.
    static func hclIdentifier(_ s: String) -> Bool {
        guard let f = s.utf8.first, ASCII.isAlpha(f) || f == UInt8(ascii: "_"), s.utf8.count <= 64 else { return false }
        return s.utf8.allSatisfy { ASCII.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }
    }

    public static func module(_ m: ModuleModel) -> [UInt8] {
        let d = m.detail
        let r = d.record
        return page("\(r.module) \(r.version)", viewer: m.viewer) { w in
            w.element("nav", [("aria-label", "Breadcrumb"), ("class", "crumbs")]) { n in
                n.link(SafeURL(internal: WebRoute.index.path), text: "Modules")
                n.text(" / \(r.module.namespace.value) /")
            }
            w.element("h1") { h in
                h.text("\(r.module.name)/\(r.module.system)")
                h.element("span", [("class", "version")], text: " " + r.version.description)
            }
            if !d.description.isEmpty { w.element("p", [("class", "lead")], text: d.description) }
            if let dep = r.deprecation {
                w.element("div", [("class", "deprecation"), ("role", "note")]) { b in
                    b.element("strong", text: "Deprecated: ")
                    b.text(dep.reason)
                    if let rep = dep.replacement {
                        b.text(" Use instead: ")
                        b.element("code", text: rep)
                    }
                }
            }
            w.element("dl", [("class", "facts")]) { dl in
                fact(&dl, "Published", date(r.publishedAt) + (r.publishedBy.map { " by \($0)" } ?? ""))
                fact(&dl, "Downloads", "\(d.downloads)")
                fact(&dl, "SHA-256", r.sha256)
                if let s = d.source, let url = SafeURL(untrusted: s), s.hasPrefix("http") {
                    dl.element("dt", text: "Source")
                    dl.element("dd") { $0.link(url, [("rel", "noreferrer")], text: s) }
                }
                if let rv = d.docs?.root.requiredVersion { fact(&dl, "Terraform", rv) }
            }
            w.element("section", [("aria-labelledby", "usage")]) { s in
                s.element("h2", [("id", "usage")], text: "Usage")
                s.element("pre", [("class", "usage")]) { $0.element("code", text: usage(d, host: m.host)) }
            }
            versionPicker(&w, d, isLatest: m.isLatest)
            guard let docs = d.docs else {
                w.element("p", [("class", "note")], text: "No documentation extracted for this version.")
                return
            }
            part(&w, docs.root, title: nil)
            if !docs.submodules.isEmpty {
                w.element("section", [("aria-labelledby", "submodules")]) { s in
                    s.element("h2", [("id", "submodules")], text: "Submodules")
                    for p in docs.submodules { part(&s, p, title: p.path) }
                }
            }
            if !docs.examples.isEmpty {
                w.element("section", [("aria-labelledby", "examples")]) { s in
                    s.element("h2", [("id", "examples")], text: "Examples")
                    for p in docs.examples { part(&s, p, title: p.path) }
                }
            }
        }
    }

    static func fact(_ dl: inout HTMLWriter, _ term: String, _ value: String) {
        dl.element("dt", text: term)
        dl.element("dd", text: value)
    }

    static func versionPicker(_ w: inout HTMLWriter, _ d: ModuleDetail, isLatest: Bool) {
        w.element("nav", [("aria-labelledby", "versions"), ("class", "versions")]) { n in
            n.element("h2", [("id", "versions")], text: "Versions")
            n.element("ul") { ul in
                for v in d.versions.prefix(100) {
                    ul.element("li") { li in
                        let label = v.version.description + (v.deprecation != nil ? " (deprecated)" : "")
                        if v.version == d.record.version {
                            li.element("span", [("aria-current", "page"), ("class", "current")], text: label)
                        } else {
                            li.link(SafeURL(internal: WebRoute.page(of: v.module, version: v.version).path), text: label)
                        }
                    }
                }
            }
            if d.versions.count > 100 { n.element("p", [("class", "note")], text: "\(d.versions.count - 100) older versions are not listed.") }
        }
    }

    /// One directory's documentation: README, inputs, outputs, dependencies, providers, resources.
    static func part(_ w: inout HTMLWriter, _ p: ModuleDocs.Part, title: String?) {
        // Headings: h2 for the root's sections, h3/h4 inside a submodule or example.
        let anchor = title.map { "p-" + $0.map { $0.isLetter || $0.isNumber ? String($0) : "-" }.joined() } ?? "root"
        w.element("section", [("class", "part"), ("aria-label", title ?? "Root module")]) { s in
            if let title { s.element("h3", [("id", anchor)], text: title) }
            for problem in p.problems.prefix(20) { s.element("p", [("class", "problem")], text: problem) }
            if let readme = p.readme {
                s.element("article", [("class", "readme"), ("aria-label", "README")]) { Markdown.render(readme, into: &$0) }
            }
            section(&s, "Inputs", anchor, nested: title != nil, empty: p.inputs.isEmpty) { t in
                table(&t, ["Name", "Type", "Default", "Required", "Description"]) { tb in
                    for i in p.inputs {
                        tb.element("tr") { tr in
                            tr.element("td") { $0.element("code", [("class", "input-name")], text: i.name) }
                            tr.element("td") { td in if let ty = i.type { td.element("code", text: ty) } }
                            tr.element("td") { td in
                                if let def = i.defaultJSON { td.element("code", text: def) }
                            }
                            tr.element("td", text: i.required ? "yes" : "no")
                            tr.element("td") { td in
                                td.text(i.description ?? "")
                                if i.sensitive { td.element("span", [("class", "badge")], text: "sensitive") }
                            }
                        }
                    }
                }
            }
            section(&s, "Outputs", anchor, nested: title != nil, empty: p.outputs.isEmpty) { t in
                table(&t, ["Name", "Description"]) { tb in
                    for o in p.outputs {
                        tb.element("tr") { tr in
                            tr.element("td") { $0.element("code", text: o.name) }
                            tr.element("td") { td in
                                td.text(o.description ?? "")
                                if o.sensitive { td.element("span", [("class", "badge")], text: "sensitive") }
                            }
                        }
                    }
                }
            }
            section(&s, "Dependencies", anchor, nested: title != nil, empty: p.dependencies.isEmpty) { t in
                table(&t, ["Name", "Source", "Version"]) { tb in
                    for dep in p.dependencies {
                        tb.element("tr") { tr in
                            tr.element("td") { $0.element("code", text: dep.name) }
                            tr.element("td") { $0.element("code", text: dep.source) }
                            tr.element("td", text: dep.version ?? "")
                        }
                    }
                }
            }
            section(&s, "Providers", anchor, nested: title != nil, empty: p.providerDependencies.isEmpty) { t in
                table(&t, ["Name", "Source", "Version"]) { tb in
                    for pr in p.providerDependencies {
                        tb.element("tr") { tr in
                            tr.element("td") { $0.element("code", text: pr.name) }
                            tr.element("td", text: pr.source)
                            tr.element("td", text: pr.version ?? "")
                        }
                    }
                }
            }
            section(&s, "Resources", anchor, nested: title != nil, empty: p.resources.isEmpty) { t in
                t.element("ul", [("class", "resources")]) { ul in
                    for r in p.resources.prefix(2000) { ul.element("li") { $0.element("code", text: "\(r.type).\(r.name)") } }
                }
            }
        }
    }

    static func section(
        _ w: inout HTMLWriter,
        _ title: String,
        _ anchor: String,
        nested: Bool,
        empty: Bool,
        _ body: (inout HTMLWriter) -> Void
    ) {
        let id = "\(anchor)-\(title.lowercased())"
        w.element("section", [("aria-labelledby", id)]) { s in
            if nested { s.element("h4", [("id", id)], text: title) } else { s.element("h2", [("id", id)], text: title) }
            if empty { s.element("p", [("class", "none")], text: "None.") } else { body(&s) }
        }
    }

    static func table(_ w: inout HTMLWriter, _ headers: [String], _ rows: (inout HTMLWriter) -> Void) {
        w.element("div", [("class", "table-wrap")]) { d in
            d.element("table") { t in
                t.element("thead") { th in th.element("tr") { tr in for h in headers { tr.element("th", [("scope", "col")], text: h) } } }
                t.element("tbody", [], rows)
            }
        }
    }

    // MARK: Login and errors

    public static func login(csrf: String, message: String? = nil) -> [UInt8] {
        page("Sign in", viewer: nil) { w in
            w.element("h1", text: "Sign in")
            if let message { w.element("p", [("class", "problem"), ("role", "alert")], text: message) }
            w.element("p") { p in
                p.text("Run ")
                p.element("code", text: "tfreg browse")
                p.text(" to sign in with your AWS identity, or paste a registry token:")
            }
            w.element("form", [("method", "post"), ("action", WebRoute.login.path), ("class", "login")]) { f in
                f.open("input", [("type", "hidden"), ("name", "csrf"), ("value", csrf)])
                f.element("div", [("class", "field")]) { d in
                    d.element("label", [("for", "token")], text: "Token")
                    d.open(
                        "input",
                        [
                            ("type", "password"), ("id", "token"), ("name", "token"), ("autocomplete", "off"), ("required", "required"),
                            ("maxlength", "8192"),
                        ]
                    )
                }
                f.element("button", [("type", "submit")], text: "Sign in")
            }
        }
    }

    public static func error(status: Int, message: String, signedIn: Bool) -> [UInt8] {
        page(reason(status), viewer: nil) { w in
            w.element("h1", text: "\(status) \(reason(status))")
            w.element("p", text: message)
            w.element("p") { p in
                if status == 401 || !signedIn {
                    p.link(SafeURL(internal: WebRoute.login.path), text: "Sign in")
                } else {
                    p.link(SafeURL(internal: WebRoute.index.path), text: "All modules")
                }
            }
        }
    }

    static func reason(_ status: Int) -> String {
        switch status {
        case 400: "Bad request"
        case 401: "Sign in required"
        case 403: "Forbidden"
        case 404: "Not found"
        case 405: "Method not allowed"
        case 429: "Too many requests"
        case 503: "Unavailable"
        default: status >= 500 ? "Server error" : "Error"
        }
    }

    /// `2026-12-06` (UTC).
    static func date(_ unix: Int64) -> String { String(rfc3339(unix).prefix(10)) }
}
