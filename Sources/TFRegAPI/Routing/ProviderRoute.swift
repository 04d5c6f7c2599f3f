import TFRegCore

/// `/v1/providers/…`: Terraform's provider registry protocol (versions, download) and tfreg's routes for
/// provider releases (upload) and a namespace's signing keys. Every operation needs a caller; the files
/// a download names are fetched without one, through signed links (`ArchiveRoute.providerFile`).
public enum ProviderRoute: RouteGroup {
    /// `GET /v1/providers/NS/TYPE/versions`
    case versions(ProviderPath)
    /// `GET /v1/providers/NS/TYPE/VERSION/download/OS/ARCH`
    case download(ProviderPath, version: String, os: String, arch: String)
    /// `POST`/`PUT /v1/providers/NS/TYPE/VERSION/upload`: the release's files as one uncompressed tar.
    case upload(ProviderPath, version: String)
    /// `POST /v1/providers/NS/TYPE/VERSION/create` with `{"bucket", "key", "expected_checksum"}`: the
    /// same tar, put in S3 by the caller first (releases larger than a Lambda request can carry).
    case create(ProviderPath, version: String)
    /// `DELETE /v1/providers/NS/TYPE/VERSION`: deletes a version (its number stays reserved).
    case deleteVersion(ProviderPath, version: String)
    /// `POST …/VERSION/deprecate` with `{"reason", "replacement"?}`.
    case deprecate(ProviderPath, version: String)
    /// `DELETE …/VERSION/deprecate`
    case undeprecate(ProviderPath, version: String)
    /// `GET /v1/providers/NS/keys`: the namespace's signing keys.
    case keys(namespace: String)
    /// `POST /v1/providers/NS/keys` with an ASCII-armored public key as the body.
    case addKey(namespace: String)
    /// `DELETE /v1/providers/NS/keys/FINGERPRINT`
    case removeKey(namespace: String, fingerprint: String)

    public enum Operation: RouteOperation {
        case versions
        case download
        case upload
        case create
        case deleteVersion
        case deprecate
        case undeprecate
        case keys
        case addKey
        case removeKey

        public var methods: [String] {
            switch self {
            case .versions, .download, .keys: Methods.read
            case .upload: Methods.upload
            case .addKey, .deprecate, .create: Methods.post
            case .removeKey, .deleteVersion, .undeprecate: Methods.delete
            }
        }

        public var needsCaller: Bool { true }

        public var template: String {
            switch self {
            case .versions: "/v1/providers/{namespace}/{type}/versions"
            case .download: "/v1/providers/{namespace}/{type}/{version}/download/{os}/{arch}"
            case .upload: "/v1/providers/{namespace}/{type}/{version}/upload"
            case .create: "/v1/providers/{namespace}/{type}/{version}/create"
            case .deleteVersion: "/v1/providers/{namespace}/{type}/{version}"
            case .deprecate, .undeprecate: "/v1/providers/{namespace}/{type}/{version}/deprecate"
            case .keys, .addKey: "/v1/providers/{namespace}/keys"
            case .removeKey: "/v1/providers/{namespace}/keys/{fingerprint}"
            }
        }
    }

    /// The `providers.v1` base discovery names (clients join the paths below to it).
    public static let basePath = "/v1/providers/"

    public static func parse(rest: ArraySlice<String>, method: String) -> RouteMatch<ProviderRoute>? {
        let i = rest.startIndex
        switch rest.count {
        case 2 where rest[i + 1] == "keys":
            return choose(method, .keys(namespace: rest[i]), .addKey(namespace: rest[i]))
        case 3 where rest[i + 2] == "versions":
            return choose(method, .versions(ProviderPath(namespace: rest[i], type: rest[i + 1])))
        // `NS/keys/X` is a key when X is not a version (a version has dots, a fingerprint never): so a
        // provider whose type is `keys` can still have a version deleted.
        case 3 where rest[i + 1] == "keys" && !rest[i + 2].contains("."):
            return choose(method, .removeKey(namespace: rest[i], fingerprint: rest[i + 2]))
        case 3:
            return choose(method, .deleteVersion(ProviderPath(namespace: rest[i], type: rest[i + 1]), version: rest[i + 2]))
        case 4 where rest[i + 3] == "upload":
            return choose(method, .upload(ProviderPath(namespace: rest[i], type: rest[i + 1]), version: rest[i + 2]))
        case 4 where rest[i + 3] == "create":
            return choose(method, .create(ProviderPath(namespace: rest[i], type: rest[i + 1]), version: rest[i + 2]))
        case 4 where rest[i + 3] == "deprecate":
            let p = ProviderPath(namespace: rest[i], type: rest[i + 1])
            return choose(method, .deprecate(p, version: rest[i + 2]), .undeprecate(p, version: rest[i + 2]))
        case 6 where rest[i + 3] == "download":
            let p = ProviderPath(namespace: rest[i], type: rest[i + 1])
            return choose(method, .download(p, version: rest[i + 2], os: rest[i + 4], arch: rest[i + 5]))
        default:
            return nil
        }
    }

    public var operation: Operation {
        switch self {
        case .versions: .versions
        case .download: .download
        case .upload: .upload
        case .create: .create
        case .deleteVersion: .deleteVersion
        case .deprecate: .deprecate
        case .undeprecate: .undeprecate
        case .keys: .keys
        case .addKey: .addKey
        case .removeKey: .removeKey
        }
    }

    public var path: String {
        switch self {
        case .versions(let p): Self.basePath + p.path + "/versions"
        case .download(let p, let v, let os, let arch):
            Self.basePath + p.path + "/\(RoutePath.segment(v))/download/\(RoutePath.segment(os))/\(RoutePath.segment(arch))"
        case .upload(let p, let v): Self.basePath + p.path + "/\(RoutePath.segment(v))/upload"
        case .create(let p, let v): Self.basePath + p.path + "/\(RoutePath.segment(v))/create"
        case .deleteVersion(let p, let v): Self.basePath + p.path + "/\(RoutePath.segment(v))"
        case .deprecate(let p, let v), .undeprecate(let p, let v): Self.basePath + p.path + "/\(RoutePath.segment(v))/deprecate"
        case .keys(let ns), .addKey(let ns): Self.basePath + RoutePath.segment(ns) + "/keys"
        case .removeKey(let ns, let fpr): Self.basePath + RoutePath.segment(ns) + "/keys/" + RoutePath.segment(fpr)
        }
    }

    // From validated values.
    public static func versions(of provider: ProviderAddress) -> ProviderRoute { .versions(ProviderPath(provider)) }
    public static func download(_ provider: ProviderAddress, version: Version, platform: ProviderPlatform) -> ProviderRoute {
        .download(ProviderPath(provider), version: version.description, os: platform.os, arch: platform.arch)
    }
    public static func upload(_ provider: ProviderAddress, version: Version) -> ProviderRoute {
        .upload(ProviderPath(provider), version: version.description)
    }
    public static func create(_ provider: ProviderAddress, version: Version) -> ProviderRoute {
        .create(ProviderPath(provider), version: version.description)
    }
}

/// The raw segments of a provider address (namespace, type), checked against their grammar by
/// `address()` after authentication.
public struct ProviderPath: Hashable, Sendable {
    public let namespace: String
    public let type: String

    public init(namespace: String, type: String) {
        self.namespace = namespace
        self.type = type
    }

    public init(_ provider: ProviderAddress) { self.init(namespace: provider.namespace.value, type: provider.type) }

    public func address() throws(RegistryError) -> ProviderAddress { try ProviderAddress(namespace: namespace, type: type) }

    var path: String { "\(RoutePath.segment(namespace))/\(RoutePath.segment(type))" }
}
