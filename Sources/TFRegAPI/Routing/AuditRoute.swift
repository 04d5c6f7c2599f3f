/// `/v1/audit`: the audit trail of a namespace (`GET /v1/audit?namespace=NS&since=…&after=…&limit=…`),
/// for callers with `create_grant` there. Needs a caller.
public enum AuditRoute: RouteGroup {
    /// `GET /v1/audit`
    case events

    public enum Operation: RouteOperation {
        case events

        public var methods: [String] { Methods.read }
        public var needsCaller: Bool { true }
        public var template: String { "/v1/audit" }
    }

    public static let basePath = "/v1/audit"

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<AuditRoute>? {
        guard rest.isEmpty else { return nil }
        return choose(method, .events)
    }

    public var operation: Operation { .events }

    public var path: String { Self.basePath }
}
