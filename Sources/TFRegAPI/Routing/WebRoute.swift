import TFRegCore

/// The browser's pages (`/`, `/modules/…`), browser login (`/login`, `/logout`), the CLI's code
/// exchange (`POST /login/code`) and the stylesheet. HTML, authenticated by the session cookie in the
/// handlers (the router authenticates a bearer token only for `POST /login/code`); errors are HTML
/// pages except on `POST /login/code`, which answers JSON like the rest of the API.
public enum WebRoute: RouteGroup {
    /// `GET /`: modules the session may read, with search and filters.
    case index
    /// `GET /modules/NS/NAME/SYS`: the latest version's page.
    case module(ModulePath)
    /// `GET /modules/NS/NAME/SYS/VER`
    case moduleVersion(ModulePath, String)
    /// `GET /login` (the form for a pasted token) and `GET /login?code=…` (a code from `tfreg browse`).
    case login
    /// `POST /login`: the form.
    case loginSubmit
    /// `POST /login/code` with a bearer token: a one-time code (JSON).
    case loginCode
    /// `POST /logout`
    case logout
    /// `GET /static/tfreg.css`
    case stylesheet

    public enum Operation: RouteOperation {
        case index
        case module
        case moduleVersion
        case login
        case loginSubmit
        case loginCode
        case logout
        case stylesheet

        public var methods: [String] {
            switch self {
            case .index, .module, .moduleVersion, .login, .stylesheet: Methods.read
            case .loginSubmit, .loginCode, .logout: Methods.post
            }
        }

        /// Only the code exchange takes a bearer token; the pages read the session cookie themselves.
        public var needsCaller: Bool { self == .loginCode }

        public var template: String {
            switch self {
            case .index: "/"
            case .module: "/modules/{namespace}/{name}/{system}"
            case .moduleVersion: "/modules/{namespace}/{name}/{system}/{version}"
            case .login, .loginSubmit: "/login"
            case .loginCode: "/login/code"
            case .logout: "/logout"
            case .stylesheet: "/static/tfreg.css"
            }
        }
    }

    /// `rest` is the whole path's segments (the web area has no prefix).
    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<WebRoute>? {
        let i = rest.startIndex
        guard let first = rest.first else { return choose(method, .index) }
        switch (first, rest.count) {
        case ("modules", 4): return choose(method, .module(ModulePath(rest.dropFirst())))
        case ("modules", 5): return choose(method, .moduleVersion(ModulePath(rest.dropFirst()), rest[i + 4]))
        case ("login", 1): return choose(method, .login, .loginSubmit)
        case ("login", 2) where rest[i + 1] == "code": return choose(method, .loginCode)
        case ("logout", 1): return choose(method, .logout)
        case ("static", 2) where rest[i + 1] == "tfreg.css": return choose(method, .stylesheet)
        default: return nil
        }
    }

    public var operation: Operation {
        switch self {
        case .index: .index
        case .module: .module
        case .moduleVersion: .moduleVersion
        case .login: .login
        case .loginSubmit: .loginSubmit
        case .loginCode: .loginCode
        case .logout: .logout
        case .stylesheet: .stylesheet
        }
    }

    public var path: String {
        switch self {
        case .index: "/"
        case .module(let m): "/modules/\(m.path)"
        case .moduleVersion(let m, let v): "/modules/\(m.path)/\(RoutePath.segment(v))"
        case .login, .loginSubmit: "/login"
        case .loginCode: "/login/code"
        case .logout: "/logout"
        case .stylesheet: "/static/tfreg.css"
        }
    }

    /// A module's page (the latest version) from a validated address.
    public static func page(of module: ModuleAddress) -> WebRoute { .module(ModulePath(module)) }
    /// One version's page.
    public static func page(of module: ModuleAddress, version: Version) -> WebRoute {
        .moduleVersion(ModulePath(module), version.description)
    }
}
