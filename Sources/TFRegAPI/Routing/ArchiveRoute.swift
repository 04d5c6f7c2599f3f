import TFRegCore

/// `/v1/archives/NS/NAME/SYS/VER/SHA256.tar.gz`: the signed link a download answers with. Public:
/// Terraform fetches it without a token, and its `expires` + `signature` query authorizes it.
/// `/v1/archives/providers/NS/TYPE/VER/SHA256/FILE`: the same for a provider release's files (zip,
/// `SHA256SUMS`, signature), which a provider download names; six segments, so never a module's link.
/// `/v1/archives/mirror/HOST/NS/TYPE/VER/SHA256/FILE`: the same for a provider mirrored from HOST
/// (`tfreg mirror pull`), which the mirror's `VERSION.json` names; seven segments.
public enum ArchiveRoute: RouteGroup {
    case archive(ModulePath, version: String, file: String)
    case providerFile(ProviderPath, version: String, sha256: String, file: String)
    case mirrorFile(hostname: String, ProviderPath, version: String, sha256: String, file: String)

    public enum Operation: RouteOperation {
        case archive
        case providerFile
        case mirrorFile

        public var methods: [String] { Methods.read }
        public var needsCaller: Bool { false }
        public var template: String {
            switch self {
            case .archive: "/v1/archives/{namespace}/{name}/{system}/{version}/{sha256}.tar.gz"
            case .providerFile: "/v1/archives/providers/{namespace}/{type}/{version}/{sha256}/{file}"
            case .mirrorFile: "/v1/archives/mirror/{hostname}/{namespace}/{type}/{version}/{sha256}/{file}"
            }
        }
    }

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<ArchiveRoute>? {
        let i = rest.startIndex
        switch rest.count {
        case 5: return choose(method, .archive(ModulePath(rest[i...]), version: rest[i + 3], file: rest[i + 4]))
        case 6 where rest[i] == "providers":
            let p = ProviderPath(namespace: rest[i + 1], type: rest[i + 2])
            return choose(method, .providerFile(p, version: rest[i + 3], sha256: rest[i + 4], file: rest[i + 5]))
        case 7 where rest[i] == "mirror":
            let p = ProviderPath(namespace: rest[i + 2], type: rest[i + 3])
            return choose(method, .mirrorFile(hostname: rest[i + 1], p, version: rest[i + 4], sha256: rest[i + 5], file: rest[i + 6]))
        default: return nil
        }
    }

    /// The link for one file of a provider release (good only for the bytes with that digest).
    public static func providerFile(_ provider: ProviderAddress, version: Version, blob: ProviderBlob, file: String) -> ArchiveRoute {
        providerFile(provider, version: version, sha256: blob.sha256, file: file)
    }

    /// The link for one file of a provider release, own or mirrored (`mirrorFile` when it has an origin).
    public static func providerFile(_ provider: ProviderAddress, version: Version, sha256: String, file: String) -> ArchiveRoute {
        if let origin = provider.origin {
            return .mirrorFile(hostname: origin, ProviderPath(provider), version: version.description, sha256: sha256, file: file)
        }
        return .providerFile(ProviderPath(provider), version: version.description, sha256: sha256, file: file)
    }

    /// The link for the archive with this digest (which the link is then only ever good for).
    public static func archive(_ module: ModuleAddress, version: Version, sha256: String) -> ArchiveRoute {
        .archive(ModulePath(module), version: version.description, file: sha256 + ".tar.gz")
    }

    public var operation: Operation {
        switch self {
        case .archive: .archive
        case .providerFile: .providerFile
        case .mirrorFile: .mirrorFile
        }
    }

    public var path: String {
        switch self {
        case .archive(let m, let version, let file): "/v1/archives/\(m.path)/\(RoutePath.segment(version))/\(RoutePath.segment(file))"
        case .providerFile(let p, let version, let sha256, let file):
            "/v1/archives/providers/\(p.path)/\(RoutePath.segment(version))/\(RoutePath.segment(sha256))/\(RoutePath.segment(file))"
        case .mirrorFile(let host, let p, let version, let sha256, let file):
            "/v1/archives/mirror/\(RoutePath.segment(host))/\(p.path)/\(RoutePath.segment(version))/\(RoutePath.segment(sha256))/\(RoutePath.segment(file))"
        }
    }
}
