import Logging
import TFRegCore
import TFRegJSON

extension RegistryAPI {
    /// `/v1/grants/…`, after authentication. `GET` and `DELETE` go straight to the service; `PUT`
    /// reads its body (`{"identity", "permissions": {…}}`) only once the caller may write grants here.
    func grants(_ route: GrantRoute, _ req: APIRequest, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        switch route {
        case .list(let ns):
            let list = try await service.grants(in: try Namespace(ns), caller: caller)
            return .json(200, JSONValue.object([("grants", .array(list.map(\.jsonValue)))]).serialized())
        case .put(let ns):
            return try await putGrant(req, namespace: try Namespace(ns), caller: caller, logger: Self.withRequestID(logger, req))
        case .delete(let ns, let identity):
            let namespace = try Namespace(ns)
            try await service.deleteGrant(for: try Identity(identity), in: namespace, caller: caller, logger: Self.withRequestID(logger, req))
            return APIResponse(status: 204)
        }
    }

    func putGrant(_ req: APIRequest, namespace: Namespace, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .createGrant, in: namespace)
        let json = try await jsonObjectBody(req, limit: 16 * 1024, allowed: ["identity", "permissions"])
        guard let id = json["identity"]?.stringValue, case .object(let fields)? = json["permissions"] else {
            throw .badRequest("identity (a string) and permissions (an object) are required")
        }
        let grant = Grant(namespace: namespace, identity: try Identity(id), permissions: try Permissions(json: .object(fields)))
        try await service.putGrant(grant, caller: caller, logger: logger)
        return .json(200, grant.jsonValue.serialized())
    }
}
