import TFRegCore

/// `/v1/grants/…`: the grants API. Every operation needs a caller.
public enum GrantRoute: RouteGroup {
    /// `GET /v1/grants/NS`
    case list(namespace: String)
    /// `PUT /v1/grants/NS` with `{"identity", "permissions"}`.
    case put(namespace: String)
    /// `DELETE /v1/grants/NS/IDENTITY`: the identity as written, `/` included
    /// (`/v1/grants/acme/arn:aws:iam::123456789012:role/ci`); `%2F` is never a separator.
    case delete(namespace: String, identity: String)

    public enum Operation: RouteOperation {
        case list
        case put
        case delete

        public var methods: [String] {
            switch self {
            case .list: Methods.read
            case .put: Methods.put
            case .delete: Methods.delete
            }
        }

        public var needsCaller: Bool { true }

        public var template: String {
            switch self {
            case .list, .put: "/v1/grants/{namespace}"
            case .delete: "/v1/grants/{namespace}/{identity}"
            }
        }
    }

    /// The base discovery names for the grants API.
    public static let basePath = "/v1/grants/"

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<GrantRoute>? {
        // An IAM identity contains '/': the rest of the path is the identity as written.
        guard (1...8).contains(rest.count), let ns = rest.first else { return nil }
        if rest.count == 1 { return choose(method, .list(namespace: ns), .put(namespace: ns)) }
        return choose(method, .delete(namespace: ns, identity: rest.dropFirst().joined(separator: "/")))
    }

    /// The route of one grant, from validated values.
    public static func delete(_ identity: Identity, in namespace: Namespace) -> GrantRoute {
        .delete(namespace: namespace.value, identity: identity.value)
    }

    public var operation: Operation {
        switch self {
        case .list: .list
        case .put: .put
        case .delete: .delete
        }
    }

    public var path: String {
        switch self {
        case .list(let ns), .put(let ns): Self.basePath + RoutePath.segment(ns)
        case .delete(let ns, let identity): Self.basePath + RoutePath.segment(ns) + "/" + RoutePath.segment(identity, keepSlash: true)
        }
    }
}
