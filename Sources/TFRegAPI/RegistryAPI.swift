import Logging
import TFRegCore
import TFRegSystem

/// The registry's HTTP API as a function from request to response, shared by every transport.
/// It never throws: every failure becomes `{"errors": [...]}` with a 4xx/5xx status here.
///
/// The router is here; the handlers live by area (`RegistryAPI+Modules.swift`, `+Publishing`,
/// `+Grants`, `+Token`, `+Archives`, `+Service`, `+Providers`) and the JSON they answer with in `Responses/`.
public struct RegistryAPI: Sendable {
    public let service: RegistryService
    public let authenticator: any Authenticator
    public let signer: ArchiveURLSigner
    public let configuration: APIConfiguration
    /// IAM authentication (`POST /token`), when configured.
    public let tokenIssuer: TokenIssuer?
    /// IAM tokens without a configured audience (a Lambda function set up as the replaced tool was):
    /// `GET /token` behind an IAM-authorizing front end seals for the domain the front end reports, and
    /// `tfi_` tokens are checked against the domain of the request they arrive on. Used only when
    /// `tokenIssuer` is nil; `POST /token` is then refused (it needs `TFREG_AUDIENCE`).
    public let frontEndTokens: FrontEndAudienceTokens?
    /// Told about every finished request, in order (`RequestObserver`). Each transport adds its
    /// access log line (`adding(_:)`); metrics and audit come here too.
    public let observers: [any RequestObserver]
    /// Browser sessions and login codes (`WebRoute`); nil: the web pages answer 404.
    public let webSessions: WebSessions?

    public init(
        service: RegistryService,
        authenticator: any Authenticator,
        signer: ArchiveURLSigner,
        configuration: APIConfiguration,
        tokenIssuer: TokenIssuer? = nil,
        frontEndTokens: FrontEndAudienceTokens? = nil,
        observers: [any RequestObserver] = [],
        webSessions: WebSessions? = nil
    ) {
        self.service = service
        self.authenticator = authenticator
        self.signer = signer
        self.configuration = configuration
        self.tokenIssuer = tokenIssuer
        self.frontEndTokens = tokenIssuer == nil ? frontEndTokens : nil
        self.observers = observers
        self.webSessions = webSessions
    }

    /// The same API, also reporting to `observer` (after the ones it has).
    public func adding(_ observer: any RequestObserver) -> RegistryAPI {
        RegistryAPI(
            service: service,
            authenticator: authenticator,
            signer: signer,
            configuration: configuration,
            tokenIssuer: tokenIssuer,
            frontEndTokens: frontEndTokens,
            observers: observers + [observer],
            webSessions: webSessions
        )
    }

    public func respond(to request: APIRequest, logger: Logger) async -> APIResponse {
        let started = ContinuousClock.now
        // The request's audit context: every audit event a use case records during it names it.
        let context = AuditContext(requestID: request.requestID, sourceIP: request.sourceAddress, userAgent: request.header("user-agent"))
        let (response, trace) = await AuditContext.$current.withValue(context) {
            var trace = RequestTrace()
            let response = await self.answer(request, logger: logger, trace: &trace)
            return (response, trace)
        }
        if !observers.isEmpty {
            let observation = RequestObservation(
                route: trace.route,
                method: request.method,
                path: request.path,
                status: response.status,
                duration: ContinuousClock.now - started,
                principal: trace.principal,
                requestID: request.requestID
            )
            for observer in observers { observer.requestFinished(observation, logger: logger) }
        }
        if response.status == 401 || response.status == 403, !Methods.read.contains(request.method.uppercased()) {
            await AuditContext.$current.withValue(context) {
                await service.recordRefusal(
                    principal: trace.principal,
                    method: request.method,
                    route: trace.route,
                    path: request.path,
                    status: response.status,
                    namespace: Self.namespace(ofPath: request.path),
                    logger: logger
                )
            }
        }
        return response
    }

    /// The namespace a refused write was aimed at, when its path names a valid one
    /// (`/v1/modules/NS/…`, `/v1/grants/NS…`, `/v1/providers/NS/…`): where its audit event is kept.
    static func namespace(ofPath path: String) -> Namespace? {
        guard let seg = URLParsing.segments(of: path), seg.count >= 3, seg[0] == "v1", ["modules", "grants", "providers"].contains(seg[1]) else {
            return nil
        }
        return try? Namespace(seg[2])
    }

    /// The response to one request: routed, every error turned into its status here.
    private func answer(_ request: APIRequest, logger: Logger, trace: inout RequestTrace) async -> APIResponse {
        let response: APIResponse
        do {
            response = try await route(request, logger: logger, trace: &trace)
        } catch {
            switch error.code {
            case .internalError, .unavailable, .upstreamMismatch, .misconfigured:
                logger.error(
                    "request failed",
                    metadata: ["request_id": "\(request.requestID)", "method": "\(request.method)", "path": "\(request.path)", "error": "\(error)"]
                )
            default:
                logger.debug(
                    "request rejected",
                    metadata: ["request_id": "\(request.requestID)", "status": "\(error.code.httpStatus)", "error": "\(error.message)"]
                )
            }
            response = trace.html ? Self.webError(error) : .error(error)
        }
        return response
    }

    // MARK: Routing

    /// What the router learnt about a request, for its observation.
    struct RequestTrace {
        var route = RequestObservation.unmatched
        var principal: Identity?
        /// A browser's page: errors are HTML (`webError`), not `{"errors": […]}`.
        var html = false
    }

    /// Dispatches in the order documented on `Endpoint`: shape (404), method (405), authentication
    /// (401), then the area's handler: parameters (400), authorization (403), body, state.
    private func route(_ req: APIRequest, logger: Logger, trace: inout RequestTrace) async throws(RegistryError) -> APIResponse {
        guard let seg = URLParsing.segments(of: req.path) else {
            throw .badRequest("malformed request path")
        }
        let method = req.method.uppercased()
        guard let match = Endpoint.parse(seg, method: method) else {
            // Under the browser's prefixes a wrong path is a page too.
            trace.html = seg.first.map { ["modules", "login", "logout", "static"].contains($0) } ?? false
            throw .notFound("no such endpoint")
        }
        let endpoint: Endpoint
        switch match {
        case .route(let e):
            endpoint = e
        case .methodNotAllowed(let allow, let template):
            trace.route = template
            let isPage = WebRoute.Operation.allCases.contains { $0.template == template && $0 != .loginCode }
            var response = (isPage ? Self.webError : APIResponse.error)(
                RegistryError(
                    .methodNotAllowed,
                    "method \(req.method.prefix(16)) is not allowed here; use \(allow.filter { $0 != "HEAD" }.joined(separator: ", "))"
                )
            )
            response.headers.append(("Allow", allow.joined(separator: ", ")))
            return response
        }
        trace.route = endpoint.template
        // Authentication comes before anything else about the request is judged, and the route's own
        // `needsCaller` decides it (deny by default: an operation that says it needs a caller is
        // authenticated whatever its area's case below does). The areas whose handlers act for a caller
        // get a `Principal`, never an optional.
        let authenticated: Principal? = endpoint.needsCaller ? try await requireCaller(req, trace: &trace) : nil
        switch endpoint {
        case .service(let route):
            return service(route, req)
        case .token(let route):
            return try await token(route, req, logger: logger, trace: &trace)
        case .archives(let route):
            return try await archive(route, req, headOnly: method == "HEAD")
        case .modules(let route):
            let caller = if let authenticated { authenticated } else { try await requireCaller(req, trace: &trace) }
            return try await modules(route, req, caller: caller, logger: logger)
        case .grants(let route):
            let caller = if let authenticated { authenticated } else { try await requireCaller(req, trace: &trace) }
            return try await grants(route, req, caller: caller, logger: logger)
        case .web(let route):
            trace.html = route.operation != .loginCode
            return try await web(route, req, caller: authenticated, logger: logger, trace: &trace)
        case .audit(let route):
            let caller = if let authenticated { authenticated } else { try await requireCaller(req, trace: &trace) }
            return try await audit(route, req, caller: caller)
        case .providers(let route):
            let caller = if let authenticated { authenticated } else { try await requireCaller(req, trace: &trace) }
            return try await providers(route, req, caller: caller, logger: logger)
        case .mirror(let route):
            let caller = if let authenticated { authenticated } else { try await requireCaller(req, trace: &trace) }
            return try await mirror(route, req, caller: caller, logger: logger)
        }
    }

    /// Writes are rare: their log lines carry the request id (reads skip the metadata copy).
    static func withRequestID(_ logger: Logger, _ req: APIRequest) -> Logger {
        var l = logger
        l[metadataKey: "request_id"] = "\(req.requestID)"
        return l
    }

    // MARK: Authentication

    /// The caller of a route that needs one: 401 without a token, with a malformed header or an
    /// unknown token.
    func requireCaller(_ req: APIRequest, trace: inout RequestTrace) async throws(RegistryError) -> Principal {
        guard let caller = try await authenticate(req) else {
            throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'")
        }
        trace.principal = caller.identity
        return caller
    }

    /// Reads `Authorization: Bearer TOKEN`. No header → nil; a malformed header or unknown token →
    /// 401 at once.
    func authenticate(_ req: APIRequest) async throws(RegistryError) -> Principal? {
        let values = req.headers(named: "authorization")
        guard let value = values.first else { return nil }
        guard values.count == 1 else { throw .unauthenticated("send exactly one Authorization header") }
        // `Bearer` (any case), one or more spaces, the token; on UTF-8 code units (a Character split and
        // lowercasing cost more than the rest of a cached static-token check).
        let utf8 = value.utf8.drop { $0 == UInt8(ascii: " ") }
        let scheme = utf8.prefix { $0 != UInt8(ascii: " ") }
        let rest = utf8[scheme.endIndex...].drop { $0 == UInt8(ascii: " ") }
        guard !rest.isEmpty, HeaderName.equal(String(Substring(scheme)), "bearer") else {
            throw .unauthenticated("the Authorization header must be 'Bearer TOKEN'")
        }
        var token = Substring(rest).trimmingSpaces()
        guard !token.isEmpty, token.utf8.count <= 8192, token.withUTF8({ $0.allSatisfy { $0 > 0x20 && $0 < 0x7f } }) else {
            throw .unauthenticated("invalid or expired token")
        }
        if let frontEndTokens, token.hasPrefix(SealedTokens.prefix), let host = req.trustedHost {
            return Principal(identity: try await frontEndTokens.tokens(for: host).verify(token).subject)
        }
        return try await authenticator.authenticate(token)
    }

    // MARK: Links

    /// `https://host[:port]` for links: the configured public URL, else the domain an IAM-authorizing
    /// front end reports (`trustedHost`), else (`serve` only) the request's Host header. A Lambda
    /// event's Host header is never used: a caller can send any.
    func baseURL(_ req: APIRequest) throws(RegistryError) -> String {
        if let url = configuration.publicURL { return url }
        if let host = req.trustedHost { return "https://\(host)" }
        guard req.linksMayUseHostHeader else {
            throw .misconfigured(
                "download links",
                explanation:
                    "no public URL is configured and the front end reports no domain (an ALB event): set TFREG_AUDIENCE to the registry's host name"
            )
        }
        guard let host = req.header("host"), URLParsing.isValidHost(host) else {
            throw .badRequest("missing or invalid Host header")
        }
        return "\(req.scheme)://\(host)"
    }
}
