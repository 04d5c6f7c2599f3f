import TFRegCore

/// Settings of the HTTP API that do not depend on the transport.
public struct APIConfiguration: Sendable {
    /// The registry's external base URL (`https://registry.example.com`), used in download links.
    /// When nil, links are built from the request's scheme and `Host` header.
    public var publicURL: String?
    /// Largest accepted upload body.
    public var maxUploadBytes: Int64
    /// Largest accepted provider release upload (one tar of every platform's zip; issue 20).
    public var maxProviderUploadBytes: Int64 = defaultMaxProviderUploadBytes
    /// Lifetime of signed archive links and presigned URLs, seconds.
    public var downloadLinkLifetime: Int
    /// tfreg's version, reported in discovery.
    public var version: String
    /// When `GET /token` sits behind an IAM-authorizing front end: the SigV4 service clients sign for
    /// (`execute-api` or `lambda`), advertised in discovery so `tfreg token` needs no flag.
    public var frontEndTokenService: String? = nil
    /// The region clients sign `GET /token` for behind that front end (the function's region): a custom
    /// domain's host name does not say it.
    public var frontEndTokenRegion: String? = nil
    /// Mirrored providers (`tfreg mirror pull`): the namespace whose grants cover them and the upstreams
    /// that may be imported (`--mirror-namespace`, `--mirror-allow`; deny by default).
    public var mirror = MirrorSettings()

    public static let defaultMaxUploadBytes: Int64 = 50 * 1024 * 1024
    /// 1 GiB: a release for a dozen platforms of a large provider (staged on disk, never in memory).
    public static let defaultMaxProviderUploadBytes: Int64 = 1024 * 1024 * 1024

    public init(publicURL: String? = nil, maxUploadBytes: Int64 = defaultMaxUploadBytes, downloadLinkLifetime: Int = 300, version: String) {
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.maxUploadBytes = maxUploadBytes
        self.downloadLinkLifetime = downloadLinkLifetime
        self.version = version
    }
}
