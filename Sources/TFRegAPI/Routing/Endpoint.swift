/// Every request's route: an area of the API, then one operation in it. Recognised from the path's
/// segments and the method alone (nothing validated yet beyond the shape): the router is data.
/// `Endpoint.parse` is pure and unit-tested; an operation's `methods` give 405 + `Allow`, its
/// `template` names it in logs and metrics, and its `path` is the one writer of that URL path
/// (discovery, `Location`, signed links, `next_url`, the CLI).
///
/// The order every request goes through (`RegistryAPI.route`), documented in the README:
/// 1. the path's shape → 404 for an unknown endpoint;
/// 2. the method → 405 with `Allow` (the methods of every operation at that path);
/// 3. authentication (areas whose operations have `needsCaller`) → 401 without or with an invalid token;
/// 4. the path's parameters against their grammar (namespace, name, version…) → 400;
/// 5. authorization in the service → 403 (deny by default);
/// 6. only then the body (→ 400/413/415) and the state (→ 404/409).
/// So a caller without credentials learns nothing but "authenticate", whatever it sends.
///
/// A new area is a case here and a `RouteGroup` in its own file; a new operation is a case of its
/// area and of the area's `Operation` (neither compiles without methods, a template and a handler).
public enum Endpoint: Hashable, Sendable {
    /// Discovery and health: public.
    case service(ServiceRoute)
    /// `/token`: where credentials are exchanged (public; the exchange authenticates itself).
    case token(TokenRoute)
    /// `/v1/modules/…`: the module registry protocol and tfreg's publishing routes.
    case modules(ModuleRoute)
    /// `/v1/archives/…`: signed archive links (public; the link's signature authorizes it).
    case archives(ArchiveRoute)
    /// `/v1/grants/…`: the grants API.
    case grants(GrantRoute)
    /// `/`, `/modules/…`, `/login`, `/logout`, `/static/…`: the browser's pages (HTML).
    case web(WebRoute)
    /// `/v1/audit`: the audit trail (issue 21).
    case audit(AuditRoute)
    /// `/v1/providers/…`: the provider registry protocol, provider uploads and signing keys (issue 20).
    case providers(ProviderRoute)
    /// `/v1/mirror/…`: the provider network mirror protocol for this registry's own providers (issue 20).
    case mirror(MirrorRoute)

    /// The route a request asks for: nil → 404, `.methodNotAllowed` → 405. `method` is uppercase.
    public static func parse(_ seg: [String], method: String) -> RouteMatch<Endpoint>? {
        guard let first = seg.first else { return WebRoute.parse(rest: seg[...], method: method)?.map(Endpoint.web) }
        switch first {
        case "modules", "login", "logout", "static":
            return WebRoute.parse(rest: seg[...], method: method)?.map(Endpoint.web)
        case "token":
            return TokenRoute.parse(rest: seg.dropFirst(), method: method)?.map(Endpoint.token)
        case "health", ".well-known":
            return ServiceRoute.parse(rest: seg[...], method: method)?.map(Endpoint.service)
        case "v1":
            guard seg.count >= 2 else { return nil }
            let rest = seg.dropFirst(2)
            if seg[1] == "audit" { return AuditRoute.parse(rest: rest, method: method)?.map(Endpoint.audit) }
            switch seg[1] {
            case "modules": return ModuleRoute.parse(rest: rest, method: method)?.map(Endpoint.modules)
            case "archives": return ArchiveRoute.parse(rest: rest, method: method)?.map(Endpoint.archives)
            case "grants": return GrantRoute.parse(rest: rest, method: method)?.map(Endpoint.grants)
            case "providers": return ProviderRoute.parse(rest: rest, method: method)?.map(Endpoint.providers)
            case "mirror": return MirrorRoute.parse(rest: rest, method: method)?.map(Endpoint.mirror)
            default: return nil
            }
        default:
            return nil
        }
    }

    /// The methods this operation answers (HEAD wherever GET).
    public var methods: [String] {
        switch self {
        case .service(let r): r.operation.methods
        case .token(let r): r.operation.methods
        case .modules(let r): r.operation.methods
        case .archives(let r): r.operation.methods
        case .grants(let r): r.operation.methods
        case .web(let r): r.operation.methods
        case .audit(let r): r.operation.methods
        case .providers(let r): r.operation.methods
        case .mirror(let r): r.operation.methods
        }
    }

    /// Whether a bearer token is required before anything else about the request is looked at.
    public var needsCaller: Bool {
        switch self {
        case .service(let r): r.operation.needsCaller
        case .token(let r): r.operation.needsCaller
        case .modules(let r): r.operation.needsCaller
        case .archives(let r): r.operation.needsCaller
        case .grants(let r): r.operation.needsCaller
        case .web(let r): r.operation.needsCaller
        case .audit(let r): r.operation.needsCaller
        case .providers(let r): r.operation.needsCaller
        case .mirror(let r): r.operation.needsCaller
        }
    }

    /// The route's template (`/v1/modules/{namespace}/{name}/{system}/versions`): what logs and
    /// metrics name a request by, never its raw path.
    public var template: String {
        switch self {
        case .service(let r): r.operation.template
        case .token(let r): r.operation.template
        case .modules(let r): r.operation.template
        case .archives(let r): r.operation.template
        case .grants(let r): r.operation.template
        case .web(let r): r.operation.template
        case .audit(let r): r.operation.template
        case .providers(let r): r.operation.template
        case .mirror(let r): r.operation.template
        }
    }

    /// The absolute path of this route with its parameters (the reverse of `parse`).
    public var path: String {
        switch self {
        case .service(let r): r.path
        case .token(let r): r.path
        case .modules(let r): r.path
        case .archives(let r): r.path
        case .grants(let r): r.path
        case .web(let r): r.path
        case .audit(let r): r.path
        case .providers(let r): r.path
        case .mirror(let r): r.path
        }
    }
}

/// What `parse` found at a path that exists.
public enum RouteMatch<Route: Hashable & Sendable>: Hashable, Sendable {
    /// The one operation at this path for this method.
    case route(Route)
    /// The path is a route, but not with this method: `allow` lists the methods it has (for 405 +
    /// `Allow`) and `template` names it.
    case methodNotAllowed(allow: [String], template: String)

    func map<Other>(_ transform: (Route) -> Other) -> RouteMatch<Other> {
        switch self {
        case .route(let r): .route(transform(r))
        case .methodNotAllowed(let allow, let template): .methodNotAllowed(allow: allow, template: template)
        }
    }
}

/// One area of the API: its operations, recognised from the segments after the area's prefix.
public protocol RouteGroup: Hashable, Sendable {
    associatedtype Operation: RouteOperation
    /// The operation at `rest` (the segments after the area's prefix) for `method` (uppercase):
    /// nil when the path is none of the area's (404).
    static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<Self>?
    /// Which operation this is (its methods, template, authentication).
    var operation: Operation { get }
    /// The absolute path with this route's parameters, each segment percent-encoded where it must be.
    var path: String { get }
}

/// One operation's fixed facts: written once per operation, exhaustively.
public protocol RouteOperation: CaseIterable, Hashable, Sendable {
    /// The methods it answers, in `Allow` order (HEAD wherever GET).
    var methods: [String] { get }
    /// Whether the router authenticates the caller first (401), before the parameters are checked.
    var needsCaller: Bool { get }
    /// Its template, `{parameter}` for each parameter.
    var template: String { get }
}

extension RouteGroup {
    /// The one of `operations` (all at one path, in `Allow` order) that answers `method`, else 405
    /// with their methods together.
    static func choose(_ method: String, _ operations: Self...) -> RouteMatch<Self> {
        for op in operations where op.operation.methods.contains(method) { return .route(op) }
        var allow: [String] = []
        for op in operations { allow += op.operation.methods.filter { !allow.contains($0) } }
        return .methodNotAllowed(allow: allow, template: operations[0].operation.template)
    }
}

/// Methods lists, shared (no array is built per request).
enum Methods {
    static let read = ["GET", "HEAD"]
    static let post = ["POST"]
    static let put = ["PUT"]
    static let delete = ["DELETE"]
    static let upload = ["POST", "PUT"]
}
