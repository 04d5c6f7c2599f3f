/// Discovery (`/.well-known/terraform.json`, Terraform's remote service discovery) and `/health`:
/// public, read-only.
public enum ServiceRoute: RouteGroup {
    case discovery
    case health

    public enum Operation: RouteOperation {
        case discovery
        case health

        public var methods: [String] { Methods.read }
        public var needsCaller: Bool { false }
        public var template: String {
            switch self {
            case .discovery: "/.well-known/terraform.json"
            case .health: "/health"
            }
        }
    }

    /// `rest` is the whole path: this area has two roots of its own.
    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<ServiceRoute>? {
        let i = rest.startIndex
        switch rest.count {
        case 1 where rest[i] == "health": return choose(method, .health)
        case 2 where rest[i] == ".well-known" && rest[i + 1] == "terraform.json": return choose(method, .discovery)
        default: return nil
        }
    }

    public var operation: Operation {
        switch self {
        case .discovery: .discovery
        case .health: .health
        }
    }

    public var path: String { operation.template }
}
