import Logging
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// The browser's area: pages from the session cookie, browser login and the CLI's code exchange.
/// Every answer carries `webHeaders` (CSP without inline script or style, nosniff, no referrer, no
/// framing); errors become HTML pages in `RegistryAPI.respond` (`RequestTrace.html`), except on
/// `POST /login/code`, which answers JSON like the rest of the API.
extension RegistryAPI {
    /// On every web answer.
    static let webHeaders: [(name: String, value: String)] = [
        ("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "no-referrer"),
        ("X-Frame-Options", "DENY"),
    ]

    func web(
        _ route: WebRoute,
        _ req: APIRequest,
        caller: Principal?,
        logger: Logger,
        trace: inout RequestTrace
    ) async throws(RegistryError)
        -> APIResponse
    {
        guard let sessions = webSessions else { throw .notFound("the web pages are not enabled on this registry") }
        switch route {
        case .stylesheet:
            return APIResponse(
                status: 200,
                headers: Self.webHeaders + [
                    ("Content-Type", "text/css; charset=utf-8"), ("Cache-Control", "public, max-age=3600"), ("ETag", WebStylesheet.etag),
                ],
                body: .bytes(WebStylesheet.bytes)
            )
        case .loginCode:
            guard let caller else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
            let notAfter = try await bearerExpiry(req)
            let (code, expires) = try sessions.issueCode(for: caller.identity, notAfter: notAfter)
            let path = WebRoute.login.path + "?code=" + code
            var fields: [(String, JSONValue)] = [("code", .string(code)), ("path", .string(path)), ("expires_at", .string(rfc3339(expires)))]
            if let base = try? baseURL(req) { fields.append(("url", .string(base + path))) }
            return .json(200, JSONValue.object(fields).serialized(), headers: [("Cache-Control", "no-store")])
        case .login:
            if let code = try queryValue(req, "code") {
                let claims = try await sessions.redeem(code)
                trace.principal = claims.subject
                let (value, expires) = sessions.issueSession(for: claims.subject, notAfter: claims.notAfter)
                return redirect(to: WebRoute.index.path, cookies: [sessionCookie(value, maxAge: expires - sessions.clock.now())])
            }
            return loginForm(sessions, status: 200, message: nil)
        case .loginSubmit:
            return try await loginSubmit(req, sessions, trace: &trace)
        case .logout:
            let form = try await formBody(req)
            if let session = currentSession(req, sessions) {
                guard let csrf = form.first(where: { $0.name == "csrf" })?.value, sessions.checkCSRF(csrf, for: session) else {
                    throw .forbidden("the form is out of date; reload the page and try again")
                }
            }
            return redirect(to: WebRoute.login.path, cookies: [sessionCookie("", maxAge: 0)])
        case .index, .module, .moduleVersion:
            guard let session = currentSession(req, sessions) else {
                let clear = req.header("cookie")?.contains(WebSessions.sessionCookie + "=") == true
                return redirect(to: WebRoute.login.path, cookies: clear ? [sessionCookie("", maxAge: 0)] : [])
            }
            trace.principal = session.subject
            let viewer = WebPages.Viewer(identity: session.subject.value, csrf: sessions.csrfToken(for: session))
            let principal = Principal(identity: session.subject)
            switch route {
            case .module(let m):
                let detail = try await service.moduleDetail(try m.address(), version: nil, caller: principal)
                return page(WebPages.module(.init(viewer: viewer, detail: detail, host: host(req), isLatest: true)))
            case .moduleVersion(let m, let v):
                let module = try m.address()
                let detail = try await service.moduleDetail(module, version: try Version(v), caller: principal)
                return page(WebPages.module(.init(viewer: viewer, detail: detail, host: host(req), isLatest: false)))
            default:
                return try await index(req, viewer: viewer, caller: principal)
            }
        }
    }

    // MARK: Pages

    func index(_ req: APIRequest, viewer: WebPages.Viewer, caller: Principal) async throws(RegistryError) -> APIResponse {
        let text = (try queryValue(req, "q") ?? "").trimmingSpaces()
        let ns = (try queryValue(req, "namespace") ?? "").trimmingSpaces()
        let provider = (try queryValue(req, "provider") ?? "").trimmingSpaces().lowercased()
        var query = ModuleQuery(limit: 50)
        guard text.utf8.count <= 256 else { throw .badRequest("the search text is too long") }
        if !text.isEmpty { query.text = text }
        if !ns.isEmpty { query.namespace = try Namespace(ns) }
        if !provider.isEmpty {
            guard provider.utf8.count <= 64, provider.utf8.allSatisfy(ASCII.isLowerAlnum) else { throw .badRequest("invalid provider filter") }
            query.system = provider
        }
        if let o = try queryValue(req, "offset") {
            guard let n = Int(o), n >= 0, n <= 1_000_000 else { throw .badRequest("offset must be a non-negative integer") }
            query.offset = n
        }
        let result = try await service.list(query, caller: caller)
        func link(_ offset: Int) -> String {
            var q = "offset=\(offset)"
            if !text.isEmpty { q += "&q=" + PercentEncoding.encode(text) }
            if !ns.isEmpty { q += "&namespace=" + PercentEncoding.encode(ns) }
            if !provider.isEmpty { q += "&provider=" + provider }
            return q
        }
        let model = WebPages.IndexModel(
            viewer: viewer,
            query: text,
            namespace: ns,
            provider: provider,
            modules: result.items,
            next: result.nextOffset.map(link),
            previous: result.previousOffset.map(link),
            now: service.clock.now()
        )
        return page(WebPages.index(model))
    }

    func page(_ html: [UInt8], status: Int = 200, cookies: [String] = []) -> APIResponse {
        APIResponse(
            status: status,
            headers: Self.webHeaders + [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
                + cookies.map { ("Set-Cookie", $0) },
            body: .bytes(html)
        )
    }

    func redirect(to path: String, cookies: [String]) -> APIResponse {
        APIResponse(
            status: 303,
            headers: Self.webHeaders + [("Location", path), ("Cache-Control", "no-store")] + cookies.map { ("Set-Cookie", $0) }
        )
    }

    /// An error as a page, with the status `RegistryError+HTTP` gives its code.
    static func webError(_ e: RegistryError) -> APIResponse {
        let status = e.code.httpStatus
        // Internal details stay in the log, as in the JSON errors.
        let message = status >= 500 && e.code != .unavailable ? "The registry could not answer; try again later." : e.message
        var headers = webHeaders + [("Content-Type", "text/html; charset=utf-8"), ("Cache-Control", "no-store")]
        if e.code == .unavailable { headers.append(("Retry-After", "5")) }
        return APIResponse(status: status, headers: headers, body: .bytes(WebPages.error(status: status, message: message, signedIn: status != 401)))
    }

    /// Where the usage snippet's source points: the public URL's host, else the request's.
    func host(_ req: APIRequest) -> String {
        guard let base = try? baseURL(req) else { return "REGISTRY_HOST" }
        return String(base.drop { $0 != "/" }.dropFirst(2))
    }

    // MARK: Login

    func loginForm(_ sessions: WebSessions, status: Int, message: String?) -> APIResponse {
        let nonce = Base64.encode(SecureRandom.bytes(18), urlSafe: true)
        let cookie = "\(WebSessions.loginCookie)=\(nonce); Path=/login; Max-Age=900; HttpOnly; Secure; SameSite=Strict"
        return page(WebPages.login(csrf: nonce, message: message), status: status, cookies: [cookie])
    }

    /// `POST /login`: the form's token (double-submitted against the login cookie) becomes a session.
    func loginSubmit(_ req: APIRequest, _ sessions: WebSessions, trace: inout RequestTrace) async throws(RegistryError) -> APIResponse {
        let form = try await formBody(req)
        guard let expected = cookie(req, WebSessions.loginCookie), let csrf = form.first(where: { $0.name == "csrf" })?.value,
            !expected.isEmpty, constantTimeEquals(Array(expected.utf8), Array(csrf.utf8))
        else {
            return loginForm(sessions, status: 403, message: "The form was out of date; please sign in again.")
        }
        let token = String((form.first { $0.name == "token" }?.value ?? "").trimmingWhitespace())
        let signedIn: (Principal, Int64?)
        do {
            signedIn = try await principal(forToken: token, req)
        } catch  where error.code == .unauthenticated {
            return loginForm(sessions, status: 401, message: "That token is not valid here, or it has expired.")
        }
        trace.principal = signedIn.0.identity
        let (value, expires) = sessions.issueSession(for: signedIn.0.identity, notAfter: signedIn.1)
        return redirect(
            to: WebRoute.index.path,
            cookies: [
                sessionCookie(value, maxAge: expires - sessions.clock.now()),
                "\(WebSessions.loginCookie)=; Path=/login; Max-Age=0; HttpOnly; Secure; SameSite=Strict",
            ]
        )
    }

    /// A token's principal and, for a sealed token, its expiry (a session never outlives it).
    func principal(forToken token: String, _ req: APIRequest) async throws(RegistryError) -> (Principal, Int64?) {
        guard !token.isEmpty, token.utf8.count <= 8192, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw .unauthenticated("invalid or expired token")
        }
        if token.hasPrefix(SealedTokens.prefix) {
            if let tokenIssuer {
                let claims = try await tokenIssuer.tokens.verify(token)
                return (Principal(identity: claims.subject), claims.expiresAt)
            }
            if let frontEndTokens, let host = req.trustedHost {
                let claims = try await frontEndTokens.tokens(for: host).verify(token)
                return (Principal(identity: claims.subject), claims.expiresAt)
            }
        }
        return (try await authenticator.authenticate(token), nil)
    }

    /// The expiry of the bearer token of `POST /login/code` (nil for a static token).
    func bearerExpiry(_ req: APIRequest) async throws(RegistryError) -> Int64? {
        guard let value = req.header("authorization") else { return nil }
        let token = value.drop { $0 == " " }.drop { $0 != " " }.trimmingSpaces()
        return try await principal(forToken: token, req).1
    }

    /// The session the request's cookie names, nil when none or not valid.
    func currentSession(_ req: APIRequest, _ sessions: WebSessions) -> WebSessions.Claims? {
        cookie(req, WebSessions.sessionCookie).flatMap(sessions.session)
    }

    func sessionCookie(_ value: String, maxAge: Int64) -> String {
        "\(WebSessions.sessionCookie)=\(value); Path=/; Max-Age=\(max(maxAge, 0)); HttpOnly; Secure; SameSite=Strict"
    }

    /// A cookie's value from the `Cookie` headers (`a=b; c=d`), at most 8 KiB of them; the first wins.
    func cookie(_ req: APIRequest, _ name: String) -> String? {
        for header in req.headers(named: "cookie") where header.utf8.count <= 8192 {
            for pair in header.split(separator: ";") {
                let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                if kv.count == 2, kv[0].trimmingSpaces() == name { return kv[1].trimmingSpaces() }
            }
        }
        return nil
    }

    /// One query parameter (400 when given twice or the query is malformed).
    func queryValue(_ req: APIRequest, _ name: String) throws(RegistryError) -> String? {
        guard let items = URLParsing.queryItems(req.query) else { throw .badRequest("malformed query string") }
        let v = items.filter { $0.name == name }
        guard v.count <= 1 else { throw .badRequest("parameter '\(name)' given more than once") }
        return v.first?.value
    }

    /// An `application/x-www-form-urlencoded` body of at most 16 KiB.
    func formBody(_ req: APIRequest) async throws(RegistryError) -> [(name: String, value: String)] {
        if let type = req.header("content-type")?.lowercased(), !type.hasPrefix("application/x-www-form-urlencoded") {
            throw RegistryError(.unsupportedMediaType, "send the form as application/x-www-form-urlencoded")
        }
        let bytes = try await req.body.collect(limit: 16 * 1024)
        guard let text = String(validating: bytes, as: UTF8.self), let items = URLParsing.queryItems(text) else {
            throw .badRequest("malformed form")
        }
        return items
    }
}
