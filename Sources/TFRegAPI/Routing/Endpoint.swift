/// One row of the README's API table, recognised from the path's segments alone (nothing validated
/// yet beyond the shape): the router is data. `Endpoint.parse` is pure and unit-tested; `methods` gives
/// 405 + `Allow`; `needsCaller` says whether the route authenticates a bearer token first.
///
/// The order every request goes through (`RegistryAPI.route`), documented in the README:
/// 1. the path's shape → 404 for an unknown endpoint;
/// 2. the method → 405 with `Allow`;
/// 3. authentication (routes with `needsCaller`) → 401 without or with an invalid token;
/// 4. the path's parameters against their grammar (namespace, name, version…) → 400;
/// 5. authorization in the service → 403 (deny by default);
/// 6. only then the body (→ 400/413/415) and the state (→ 404/409).
/// So a caller without credentials learns nothing but "authenticate", whatever it sends.
public enum Endpoint: Equatable, Sendable {
    /// Raw path segments of a module address: namespace, name, system.
    public struct ModulePath: Equatable, Sendable {
        public let namespace: String, name: String, system: String
    }

    case discovery
    case health
    case token
    case modules(namespace: String?)
    case search
    case module(ModulePath)
    case versions(ModulePath)
    case latestDownload(ModulePath)
    case version(ModulePath, String)
    case download(ModulePath, String)
    case upload(ModulePath, String)
    case create(ModulePath, String)
    case deprecate(ModulePath, String)
    case archive(ModulePath, version: String, file: String)
    case grants(namespace: String)
    case grant(namespace: String, identity: String)

    /// Methods the endpoint answers (HEAD is allowed wherever GET is).
    public var methods: [String] {
        switch self {
        case .discovery, .health, .modules, .search, .module, .versions, .latestDownload, .download, .archive: ["GET", "HEAD"]
        case .token: ["GET", "HEAD", "POST"]
        case .version: ["GET", "HEAD", "DELETE"]
        case .upload: ["POST", "PUT"]
        case .create: ["POST"]
        case .deprecate: ["POST", "DELETE"]
        case .grants: ["GET", "HEAD", "PUT"]
        case .grant: ["DELETE"]
        }
    }

    /// Whether a bearer token is required (before anything else about the request is looked at).
    /// Discovery and health are public; `/token` is where credentials are exchanged; an archive
    /// link authorizes itself with its signature.
    public var needsCaller: Bool {
        switch self {
        case .discovery, .health, .token, .archive: false
        default: true
        }
    }

    /// Recognises an endpoint from already split and percent-decoded segments; nil → 404.
    public static func parse(_ seg: [String]) -> Endpoint? {
        switch seg.count {
        case 1 where seg[0] == "token": return .token
        case 1 where seg[0] == "health": return .health
        case 2 where seg == [".well-known", "terraform.json"]: return .discovery
        default: break
        }
        guard seg.count >= 2, seg[0] == "v1" else { return nil }
        let rest = Array(seg.dropFirst(2))
        switch seg[1] {
        case "grants":
            guard (1...8).contains(rest.count) else { return nil }
            if rest.count == 1 { return .grants(namespace: rest[0]) }
            // An IAM identity contains '/': the rest of the path is the identity as written.
            return .grant(namespace: rest[0], identity: rest.dropFirst().joined(separator: "/"))
        case "archives":
            guard rest.count == 5 else { return nil }
            return .archive(ModulePath(namespace: rest[0], name: rest[1], system: rest[2]), version: rest[3], file: rest[4])
        case "modules":
            break
        default:
            return nil
        }
        switch rest.count {
        case 0: return .modules(namespace: nil)
        case 1: return rest[0] == "search" ? .search : .modules(namespace: rest[0])
        case 2: return nil
        default: break
        }
        let m = ModulePath(namespace: rest[0], name: rest[1], system: rest[2])
        switch rest.count {
        case 3: return .module(m)
        case 4 where rest[3] == "versions": return .versions(m)
        case 4 where rest[3] == "download": return .latestDownload(m)
        case 4: return .version(m, rest[3])
        case 5 where rest[4] == "download": return .download(m, rest[3])
        case 5 where rest[4] == "upload": return .upload(m, rest[3])
        case 5 where rest[4] == "create": return .create(m, rest[3])
        case 5 where rest[4] == "deprecate": return .deprecate(m, rest[3])
        default: return nil
        }
    }
}
