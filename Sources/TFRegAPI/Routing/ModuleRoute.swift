import TFRegCore

/// `/v1/modules/…`: Terraform's module registry protocol (list, search, versions, download) and
/// tfreg's publishing routes (upload, create, deprecate, delete). Every operation needs a caller.
public enum ModuleRoute: RouteGroup {
    /// `GET /v1/modules`
    case list
    /// `GET /v1/modules/NS`
    case listNamespace(String)
    /// `GET /v1/modules/search?q=…`
    case search
    /// `GET /v1/modules/NS/NAME/SYS`: the latest version's details.
    case module(ModulePath)
    /// `GET …/NS/NAME/SYS/versions`
    case versions(ModulePath)
    /// `GET …/NS/NAME/SYS/download`: a redirect to the latest version's download.
    case latestDownload(ModulePath)
    /// `GET …/NS/NAME/SYS/VER`
    case version(ModulePath, String)
    /// `DELETE …/NS/NAME/SYS/VER`
    case deleteVersion(ModulePath, String)
    /// `GET …/NS/NAME/SYS/VER/download`
    case download(ModulePath, String)
    /// `POST`/`PUT …/NS/NAME/SYS/VER/upload` with the archive as the body.
    case upload(ModulePath, String)
    /// `POST …/NS/NAME/SYS/VER/create`: registers an archive the caller put in S3.
    case create(ModulePath, String)
    /// `POST …/NS/NAME/SYS/VER/deprecate`
    case deprecate(ModulePath, String)
    /// `DELETE …/NS/NAME/SYS/VER/deprecate`
    case undeprecate(ModulePath, String)

    public enum Operation: RouteOperation {
        case list
        case listNamespace
        case search
        case module
        case versions
        case latestDownload
        case version
        case deleteVersion
        case download
        case upload
        case create
        case deprecate
        case undeprecate

        public var methods: [String] {
            switch self {
            case .list, .listNamespace, .search, .module, .versions, .latestDownload, .version, .download: Methods.read
            case .deleteVersion, .undeprecate: Methods.delete
            case .upload: Methods.upload
            case .create, .deprecate: Methods.post
            }
        }

        public var needsCaller: Bool { true }

        public var template: String {
            switch self {
            case .list: "/v1/modules"
            case .listNamespace: "/v1/modules/{namespace}"
            case .search: "/v1/modules/search"
            case .module: "/v1/modules/{namespace}/{name}/{system}"
            case .versions: "/v1/modules/{namespace}/{name}/{system}/versions"
            case .latestDownload: "/v1/modules/{namespace}/{name}/{system}/download"
            case .version, .deleteVersion: "/v1/modules/{namespace}/{name}/{system}/{version}"
            case .download: "/v1/modules/{namespace}/{name}/{system}/{version}/download"
            case .upload: "/v1/modules/{namespace}/{name}/{system}/{version}/upload"
            case .create: "/v1/modules/{namespace}/{name}/{system}/{version}/create"
            case .deprecate, .undeprecate: "/v1/modules/{namespace}/{name}/{system}/{version}/deprecate"
            }
        }
    }

    /// The `modules.v1` base discovery names; every path here is below it.
    public static let basePath = "/v1/modules/"

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<ModuleRoute>? {
        let i = rest.startIndex
        switch rest.count {
        case 0: return choose(method, .list)
        case 1: return rest[i] == "search" ? choose(method, .search) : choose(method, .listNamespace(rest[i]))
        case 2: return nil
        default: break
        }
        let m = ModulePath(rest)
        switch rest.count {
        case 3: return choose(method, .module(m))
        case 4 where rest[i + 3] == "versions": return choose(method, .versions(m))
        case 4 where rest[i + 3] == "download": return choose(method, .latestDownload(m))
        case 4: return choose(method, .version(m, rest[i + 3]), .deleteVersion(m, rest[i + 3]))
        case 5:
            let v = rest[i + 3]
            switch rest[i + 4] {
            case "download": return choose(method, .download(m, v))
            case "upload": return choose(method, .upload(m, v))
            case "create": return choose(method, .create(m, v))
            case "deprecate": return choose(method, .deprecate(m, v), .undeprecate(m, v))
            default: return nil
            }
        default: return nil
        }
    }

    public var operation: Operation {
        switch self {
        case .list: .list
        case .listNamespace: .listNamespace
        case .search: .search
        case .module: .module
        case .versions: .versions
        case .latestDownload: .latestDownload
        case .version: .version
        case .deleteVersion: .deleteVersion
        case .download: .download
        case .upload: .upload
        case .create: .create
        case .deprecate: .deprecate
        case .undeprecate: .undeprecate
        }
    }

    /// The path below `basePath` (no leading `/`): what a client joins to the `modules.v1` URL that
    /// discovery gave it (Terraform's module registry protocol resolves paths against that URL).
    public var relativePath: String {
        switch self {
        case .list: ""
        case .listNamespace(let ns): RoutePath.segment(ns)
        case .search: "search"
        case .module(let m): m.path
        case .versions(let m): m.path + "/versions"
        case .latestDownload(let m): m.path + "/download"
        case .version(let m, let v), .deleteVersion(let m, let v): m.path + "/" + RoutePath.segment(v)
        case .download(let m, let v): m.path + "/" + RoutePath.segment(v) + "/download"
        case .upload(let m, let v): m.path + "/" + RoutePath.segment(v) + "/upload"
        case .create(let m, let v): m.path + "/" + RoutePath.segment(v) + "/create"
        case .deprecate(let m, let v), .undeprecate(let m, let v): m.path + "/" + RoutePath.segment(v) + "/deprecate"
        }
    }

    public var path: String {
        let relative = relativePath
        return relative.isEmpty ? "/v1/modules" : Self.basePath + relative
    }
}

/// The raw path segments of a module address (namespace, name, system), not yet checked against
/// their grammar: `address()` does that, after authentication.
public struct ModulePath: Hashable, Sendable {
    public let namespace: String
    public let name: String
    public let system: String

    public init(namespace: String, name: String, system: String) {
        self.namespace = namespace
        self.name = name
        self.system = system
    }

    /// A validated address's segments (to write a path).
    public init(_ module: ModuleAddress) {
        self.init(namespace: module.namespace.value, name: module.name, system: module.system)
    }

    /// The first three of `segments`.
    init(_ segments: ArraySlice<String>) {
        let i = segments.startIndex
        self.init(namespace: segments[i], name: segments[i + 1], system: segments[i + 2])
    }

    /// The address, each part against its grammar (400 otherwise).
    public func address() throws(RegistryError) -> ModuleAddress {
        try ModuleAddress(namespace: namespace, name: name, system: system)
    }

    /// `NS/NAME/SYS`, each segment as `RoutePath` writes it.
    var path: String {
        "\(RoutePath.segment(namespace))/\(RoutePath.segment(name))/\(RoutePath.segment(system))"
    }
}

extension ModuleRoute {
    // The routes of one module or version, from validated values (the labels keep them apart from the
    // cases, which take raw segments).
    public static func versions(of module: ModuleAddress) -> ModuleRoute { .versions(ModulePath(module)) }
    public static func version(_ module: ModuleAddress, version: Version) -> ModuleRoute { .version(ModulePath(module), version.description) }
    public static func deleteVersion(_ module: ModuleAddress, version: Version) -> ModuleRoute {
        .deleteVersion(ModulePath(module), version.description)
    }
    public static func download(_ module: ModuleAddress, version: Version) -> ModuleRoute { .download(ModulePath(module), version.description) }
    public static func upload(_ module: ModuleAddress, version: Version) -> ModuleRoute { .upload(ModulePath(module), version.description) }
    public static func create(_ module: ModuleAddress, version: Version) -> ModuleRoute { .create(ModulePath(module), version.description) }
    public static func deprecate(_ module: ModuleAddress, version: Version) -> ModuleRoute {
        .deprecate(ModulePath(module), version.description)
    }
    public static func undeprecate(_ module: ModuleAddress, version: Version) -> ModuleRoute {
        .undeprecate(ModulePath(module), version.description)
    }
}
