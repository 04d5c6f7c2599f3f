import TFRegCore

/// `/v1/archives/NS/NAME/SYS/VER/SHA256.tar.gz`: the signed link a download answers with. Public:
/// Terraform fetches it without a token, and its `expires` + `signature` query authorizes it.
public enum ArchiveRoute: RouteGroup {
    case archive(ModulePath, version: String, file: String)

    public enum Operation: RouteOperation {
        case archive

        public var methods: [String] { Methods.read }
        public var needsCaller: Bool { false }
        public var template: String { "/v1/archives/{namespace}/{name}/{system}/{version}/{sha256}.tar.gz" }
    }

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<ArchiveRoute>? {
        guard rest.count == 5 else { return nil }
        let i = rest.startIndex
        return choose(method, .archive(ModulePath(rest[i...]), version: rest[i + 3], file: rest[i + 4]))
    }

    /// The link for the archive with this digest (which the link is then only ever good for).
    public static func archive(_ module: ModuleAddress, version: Version, sha256: String) -> ArchiveRoute {
        .archive(ModulePath(module), version: version.description, file: sha256 + ".tar.gz")
    }

    public var operation: Operation { .archive }

    public var path: String {
        switch self {
        case .archive(let m, let version, let file): "/v1/archives/\(m.path)/\(RoutePath.segment(version))/\(RoutePath.segment(file))"
        }
    }
}
