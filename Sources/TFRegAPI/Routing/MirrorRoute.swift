import TFRegCore

/// `/v1/mirror/…`: Terraform's provider network mirror protocol for this registry's own providers
/// (`provider_installation { network_mirror { url = "https://HOST/v1/mirror/" } }`). Every operation
/// needs a caller (Terraform sends the host's credentials with these JSON requests); the archives they
/// name are signed links, fetched without credentials.
public enum MirrorRoute: RouteGroup {
    /// `GET /v1/mirror/HOSTNAME/NS/TYPE/index.json`: the versions.
    case index(hostname: String, ProviderPath)
    /// `GET /v1/mirror/HOSTNAME/NS/TYPE/VERSION.json`: one version's archives with their hashes.
    case version(hostname: String, ProviderPath, version: String)
    /// `POST`/`PUT /v1/mirror/HOSTNAME/NS/TYPE/VERSION/upload`: a release pulled from HOSTNAME (`tfreg
    /// mirror pull`) as one tar, with the upstream's signing key; verified again and stored write-once.
    case upload(hostname: String, ProviderPath, version: String)

    public enum Operation: RouteOperation {
        case index
        case version
        case upload

        public var methods: [String] {
            switch self {
            case .index, .version: Methods.read
            case .upload: Methods.upload
            }
        }
        public var needsCaller: Bool { true }

        public var template: String {
            switch self {
            case .index: "/v1/mirror/{hostname}/{namespace}/{type}/index.json"
            case .version: "/v1/mirror/{hostname}/{namespace}/{type}/{version}.json"
            case .upload: "/v1/mirror/{hostname}/{namespace}/{type}/{version}/upload"
            }
        }
    }

    /// The base URL's path users configure as `network_mirror { url }` (Terraform joins to it).
    public static let basePath = "/v1/mirror/"

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<MirrorRoute>? {
        let i = rest.startIndex
        if rest.count == 5, rest[i + 4] == "upload" {
            let path = ProviderPath(namespace: rest[i + 1], type: rest[i + 2])
            return choose(method, .upload(hostname: rest[i], path, version: rest[i + 3]))
        }
        guard rest.count == 4 else { return nil }
        let (host, path, last) = (rest[i], ProviderPath(namespace: rest[i + 1], type: rest[i + 2]), rest[i + 3])
        if last == "index.json" { return choose(method, .index(hostname: host, path)) }
        guard last.hasSuffix(".json"), last.utf8.count > 5 else { return nil }
        return choose(method, .version(hostname: host, path, version: String(last.dropLast(5))))
    }

    public var operation: Operation {
        switch self {
        case .index: .index
        case .version: .version
        case .upload: .upload
        }
    }

    public var path: String {
        switch self {
        case .index(let host, let p): Self.basePath + RoutePath.segment(host) + "/" + p.path + "/index.json"
        case .version(let host, let p, let v): Self.basePath + RoutePath.segment(host) + "/" + p.path + "/" + RoutePath.segment(v + ".json")
        case .upload(let host, let p, let v): Self.basePath + RoutePath.segment(host) + "/" + p.path + "/" + RoutePath.segment(v) + "/upload"
        }
    }

    /// The import route for a mirrored provider's version (from validated values).
    public static func upload(_ provider: ProviderAddress, version: Version) -> MirrorRoute {
        .upload(hostname: provider.origin ?? "", ProviderPath(provider), version: version.description)
    }
}
