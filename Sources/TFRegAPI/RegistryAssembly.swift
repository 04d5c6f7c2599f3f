import TFRegCore
import TFRegCrypto
import TFRegSystem

/// The composition root: the one place a registry is put together from its backends and settings —
/// the service, the authenticators (static tokens, then sealed IAM tokens), the token issuer, the
/// archive link signer and the `RegistryAPI` every transport serves. `serve`, `lambda` and the API
/// tests build through here; what they differ in (which store, which storage, where keys come from) is
/// decided before, from flags and environment, by the CLI (`RegistryAssembly+Backends.swift`, the one
/// target that sees every backend). A new component of every registry (an observer, metrics) is wired
/// here once.
public struct RegistryAssembly: Sendable {
    public let service: RegistryService
    public let authenticator: CompositeAuthenticator
    public let tokenIssuer: TokenIssuer?
    public let frontEndTokens: FrontEndAudienceTokens?
    public let signer: ArchiveURLSigner
    public let api: RegistryAPI

    /// - Parameters:
    ///   - staticTokenCacheSeconds: how long a static token lookup is remembered (0: never; a remote
    ///     store's lookups are network calls, so `serve` on DynamoDB and `lambda` remember them 10 s,
    ///     which is how long a revoked token may keep working in the process).
    ///   - tokenIssuer: IAM authentication with a configured audience (`POST /token`, sealed tokens).
    ///   - frontEndTokens: sealed tokens for the domain an IAM-authorizing front end reports, used only
    ///     without `tokenIssuer` (`RegistryAPI.frontEndTokens`).
    ///   - linkKey: the key of signed archive links; they live `configuration.downloadLinkLifetime`.
    ///   - documenter: extracts documentation when versions are stored (nil: none is extracted).
    ///   - metrics: where the pieces report what they measure (`serve --metrics-listen`): canonicalization
    ///     time, the store's and the static-token lookup's cache hits (AWS calls are counted by the
    ///     backends' `AWSClient`, built with the same sink).
    public init(
        store: any MetadataStore,
        storage: any ArchiveStorage,
        canonicalizer: any ArchiveCanonicalizer,
        clock: any WallClock = SystemClock(),
        staticTokenCacheSeconds: Int64 = 0,
        tokenIssuer: TokenIssuer? = nil,
        frontEndTokens: FrontEndAudienceTokens? = nil,
        linkKey: [UInt8],
        configuration: APIConfiguration,
        documenter: (any ModuleDocumenter)? = nil,
        metrics: (any MetricsSink)? = nil
    ) {
        let canonicalizer: any ArchiveCanonicalizer = metrics.map { MeasuredCanonicalizer(canonicalizer, metrics: $0) } ?? canonicalizer
        var service = RegistryService(store: store, storage: storage, canonicalizer: canonicalizer, clock: clock, documenter: documenter)
        // Audit (issue 21): every event also as a JSON line on standard error (journald, CloudWatch Logs).
        service.auditSinks.append(AuditLine(clock: clock))
        // Downloads (issue 19): counted in memory, flushed by serve and lambda (`flushDownloads`).
        service.downloadCounter = DownloadCounter(now: clock.now())
        // Mirrored providers (issue 20): their grant namespace and the upstreams that may be imported.
        service.mirror = configuration.mirror
        self.service = service
        let staticTokens = StaticTokenAuthenticator(store: store, cacheSeconds: staticTokenCacheSeconds, clock: clock)
        if let metrics {
            for counters in ((store as? any CacheReporting)?.cacheCounters ?? []) + staticTokens.cacheCounters { counters.report(to: metrics) }
        }
        var members: [any Authenticator] = [staticTokens]
        if let tokenIssuer { members.append(SealedTokenAuthenticator(tokens: tokenIssuer.tokens)) }
        authenticator = CompositeAuthenticator(members)
        self.tokenIssuer = tokenIssuer
        self.frontEndTokens = tokenIssuer == nil ? frontEndTokens : nil
        signer = ArchiveURLSigner(key: linkKey, lifetime: Int64(configuration.downloadLinkLifetime))
        api = RegistryAPI(
            service: service,
            authenticator: authenticator,
            signer: signer,
            configuration: configuration,
            tokenIssuer: tokenIssuer,
            frontEndTokens: frontEndTokens,
            webSessions: Self.webSessions(linkKey: linkKey, clock: clock, replayGuard: tokenIssuer?.replayGuard)
        )
    }

    /// Browser sessions (web UI): sealed under a key derived from the link key the registry already
    /// keeps (HMAC-SHA-256 with a label of its own), so serve and every Lambda instance agree without a
    /// new key to store; sessions end when the link key is rotated. Login codes are single-use in the
    /// process and, where the registry has one, in the IAM replay guard (shared by Lambda instances).
    static func webSessions(linkKey: [UInt8], clock: any WallClock, replayGuard: (any ReplayGuard)?) -> WebSessions {
        let key = HMACSHA256.authenticate(Array("tfreg web session key v1".utf8), key: linkKey)
        return WebSessions(key: key, clock: clock, replayGuard: replayGuard)
    }
}
