/// `/token`: IAM credentials become a registry token. Public: the exchange authenticates the caller
/// itself (a presigned GetCallerIdentity, or the identity an IAM-authorizing front end verified).
public enum TokenRoute: RouteGroup {
    /// `GET /token` behind an IAM-authorizing front end (the caller is the front end's verified ARN).
    case fromFrontEnd
    /// `POST /token` with a presigned GetCallerIdentity.
    case exchange

    public enum Operation: RouteOperation {
        case fromFrontEnd
        case exchange

        public var methods: [String] {
            switch self {
            case .fromFrontEnd: Methods.read
            case .exchange: Methods.post
            }
        }
        public var needsCaller: Bool { false }
        public var template: String { "/token" }
    }

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<TokenRoute>? {
        rest.isEmpty ? choose(method, .fromFrontEnd, .exchange) : nil
    }

    public var operation: Operation {
        switch self {
        case .fromFrontEnd: .fromFrontEnd
        case .exchange: .exchange
        }
    }

    public var path: String { "/token" }
}
