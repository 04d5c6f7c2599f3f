import ArgumentParser
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal
import TFRegSystem

#if canImport(Glibc)
import Glibc
#endif

extension TFReg {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the registry as an HTTPS server (SQLite + local archive directory).",
            discussion: """
                Every option can also be set by the environment variable named in its help; a flag wins over \
                the variable. Without --tls-cert/--tls-key the server speaks plain HTTP, for use behind a TLS \
                proxy: Terraform only talks to registries over HTTPS.
                """
        )

        @Option(help: "Address to listen on (env: TFREG_HOST; default 127.0.0.1).")
        var host: String?

        @Option(help: "Port to listen on; 0 picks a free one (env: TFREG_PORT; default 8443).")
        var port: Int?

        @OptionGroup var store: StoreOptions

        @Option(
            help:
                "Store archives in S3 instead of the data directory: s3://BUCKET or s3://BUCKET/PREFIX (env: TFREG_STORAGE). Downloads are presigned S3 GETs."
        )
        var storage: String?

        @Option(help: "PEM certificate chain for HTTPS (env: TFREG_TLS_CERT).")
        var tlsCert: String?

        @Option(help: "PEM private key for HTTPS (env: TFREG_TLS_KEY).")
        var tlsKey: String?

        @Option(
            help:
                "External base URL that download links are built from, e.g. https://registry.example.com (env: TFREG_PUBLIC_URL; default https://$TFREG_AUDIENCE when that is set, else each request's Host)."
        )
        var publicURL: String?

        @Option(
            help:
                "Most connections open at once: at the cap the longest-idle one is closed, else new clients wait in the listen backlog. Lowered to fit the open-file limit (env: TFREG_MAX_CONNECTIONS; default 1024)."
        )
        var maxConnections: Int?

        @Option(help: "Seconds a keep-alive connection may sit with no request (env: TFREG_IDLE_TIMEOUT; default 60).")
        var idleTimeout: Int?

        @Option(help: "Seconds a client has to finish the TLS handshake (env: TFREG_HANDSHAKE_TIMEOUT; default 10).")
        var handshakeTimeout: Int?

        @Option(help: "Seconds a client has to send a complete request head (env: TFREG_HEADER_TIMEOUT; default 10).")
        var headerTimeout: Int?

        @Option(
            help: "Seconds a request body may stall, with no byte arriving, before the connection is closed (env: TFREG_BODY_TIMEOUT; default 30)."
        )
        var bodyTimeout: Int?

        @Option(help: "Largest accepted module archive in bytes (env: TFREG_MAX_UPLOAD_BYTES; default 52428800 = 50 MiB).")
        var maxUploadBytes: Int64?

        @Option(help: "Lifetime of signed archive download links in seconds (env: TFREG_DOWNLOAD_LINK_TTL; default 300).")
        var downloadLinkTTL: Int?

        @OptionGroup var logging: LoggingOptions

        @Flag(help: "Check the configuration (flags, environment, TLS files, data directory, database) and exit without serving.")
        var checkConfig = false

        func run() async throws {
            let config = try ResolvedServeConfiguration(self)
            if checkConfig {
                try await ConfigCheck.run(config, dataDirectory: store.resolvedDataDirectory)
                return
            }
            LogSetup.bootstrap(format: config.logFormat, level: config.logLevel)
            let logger = Logger(label: "tfreg.serve")
            let (store, storage) = try store.open(storage: config.storage, creating: true)
            if let dynamo = store as? DynamoDBMetadataStore { try await StoreOptions.checkTable(dynamo) }
            // What a killed process left half-written: no upload lives longer than this.
            let stale = FileArchiveStorage.removeStaleStaging(
                in: storage.stagingDirectory,
                olderThan: LocalGarbageCollector.defaultGraceSeconds,
                now: SystemClock().now()
            )
            if !stale.isEmpty {
                logger.notice("removed stale staged uploads", metadata: ["count": "\(stale.count)", "directory": "\(storage.stagingDirectory)"])
            }
            let key = try ArchiveSigningKey.loadOrCreate(dataDirectory: self.store.resolvedDataDirectory)
            let service = RegistryService(store: store, storage: storage, canonicalizer: TarGzCanonicalizer())
            logger.info(
                "backends",
                metadata: [
                    "metadata": "\(self.store.resolvedTable.map { "dynamodb:" + $0 } ?? "sqlite")", "archives": "\(config.storage ?? "local")",
                ]
            )
            // A presigned identity request is exchanged once: remembered in the table when there is one
            // (shared with every other process on it), else in this process.
            let replayGuard: any ReplayGuard =
                (store as? DynamoDBMetadataStore).map { DynamoDBReplayGuard(dynamo: $0.dynamo, table: $0.table) } ?? MemoryReplayGuard()
            let issuer = try IAMSetup.issuer(
                audience: config.audience,
                maxLifetime: config.maxTokenLifetime,
                env: Env.all,
                aws: AWSSetup.client,
                localKeyDirectory: self.store.resolvedDataDirectory,
                replayGuard: replayGuard
            )
            var authenticators: [any Authenticator] = [
                // On DynamoDB every token lookup is a network call: remember hits for 10 s (revocation
                // takes effect within that); SQLite has its own read cache that follows every write.
                StaticTokenAuthenticator(store: store, cacheSeconds: self.store.resolvedTable == nil ? 0 : 10)
            ]
            if let issuer {
                authenticators.append(SealedTokenAuthenticator(tokens: issuer.tokens))
                logger.info(
                    "IAM authentication on",
                    metadata: ["audience": "\(issuer.tokens.audience)", "max_token_seconds": "\(config.maxTokenLifetime)"]
                )
            } else {
                logger.notice("IAM authentication off: set TFREG_AUDIENCE (or --public-url) to this registry's host name to turn it on")
            }
            let api = RegistryAPI(
                service: service,
                authenticator: CompositeAuthenticator(authenticators),
                signer: ArchiveURLSigner(key: key, lifetime: Int64(config.downloadLinkTTL)),
                configuration: APIConfiguration(
                    publicURL: config.publicURL,
                    maxUploadBytes: config.maxUploadBytes,
                    downloadLinkLifetime: config.downloadLinkTTL,
                    version: TFReg.version
                ),
                tokenIssuer: issuer
            )
            var serverConfiguration = config.server
            let (cap, descriptorLimit) = ConnectionLimits.clampToDescriptorLimit(serverConfiguration.limits.maxConnections)
            if let descriptorLimit {
                logger.warning(
                    "--max-connections/TFREG_MAX_CONNECTIONS lowered to fit the open-file limit",
                    metadata: [
                        "requested": "\(serverConfiguration.limits.maxConnections)", "max_connections": "\(cap)",
                        "nofile_limit": "\(descriptorLimit)",
                    ]
                )
            }
            serverConfiguration.limits.maxConnections = cap
            if config.publicURL == nil {
                logger.warning(
                    "neither --public-url/TFREG_PUBLIC_URL nor TFREG_AUDIENCE is set: download links are built from each request's Host header"
                )
            }
            let limits = serverConfiguration.limits
            logger.info(
                "connection limits",
                metadata: [
                    "max_connections": "\(limits.maxConnections)", "idle_timeout_s": "\(limits.idleTimeout.components.seconds)",
                    "handshake_timeout_s": "\(limits.handshakeTimeout.components.seconds)",
                    "header_timeout_s": "\(limits.headerTimeout.components.seconds)",
                    "body_timeout_s": "\(limits.bodyTimeout.components.seconds)",
                ]
            )
            let server = RegistryServer(api: api, configuration: serverConfiguration, logger: logger)
            if !config.server.usesTLS {
                logger.warning("serving plain HTTP: Terraform needs HTTPS, so put a TLS proxy in front or set --tls-cert/--tls-key")
            }
            let scheme = config.server.usesTLS ? "https" : "http"
            let dataDir = self.store.resolvedDataDirectory
            let host = config.server.host
            try await server.run { port in
                logger.info("listening", metadata: ["url": "\(scheme)://\(host):\(port)", "port": "\(port)", "data_dir": "\(dataDir)"])
            }
            logger.info("stopped")
        }
    }
}

/// `serve` settings after flags, environment and defaults are combined and checked.
struct ResolvedServeConfiguration {
    var server: ServerConfiguration
    var publicURL: String?
    var maxUploadBytes: Int64
    var downloadLinkTTL: Int
    var storage: String?
    var table: String?
    /// The registry's own host name (with a port when not 443) that IAM identity requests must be signed for.
    var audience: String?
    var maxTokenLifetime: Int64
    var logLevel: Logger.Level
    var logFormat: String

    init(_ s: TFReg.Serve) throws {
        (logLevel, logFormat) = try s.logging.resolved()
        table = try s.store.resolvedTable.map(AWSSetup.validTable)
        storage = s.storage ?? Env.value("TFREG_STORAGE")
        if let storage {
            do { _ = try S3ArchiveStorage.parse(storage) } catch { throw ValidationError(error.message) }
        }
        let host = s.host ?? Env.value("TFREG_HOST") ?? "127.0.0.1"
        let port =
            try s.port ?? Env.value("TFREG_PORT").map { v in
                guard let p = Int(v) else { throw ValidationError("TFREG_PORT must be a number, got '\(v)'") }
                return p
            } ?? 8443
        guard (0...65535).contains(port) else { throw ValidationError("--port/TFREG_PORT must be between 0 and 65535") }
        let cert = s.tlsCert ?? Env.value("TFREG_TLS_CERT")
        let key = s.tlsKey ?? Env.value("TFREG_TLS_KEY")
        guard (cert == nil) == (key == nil) else {
            throw ValidationError("HTTPS needs both a certificate (--tls-cert or TFREG_TLS_CERT) and a key (--tls-key or TFREG_TLS_KEY)")
        }
        for path in [cert, key].compactMap({ $0 }) where !FileSystem.exists(path) {
            throw ValidationError("TLS file not found: \(path)")
        }
        let d = ConnectionLimits.defaults
        let limits = ConnectionLimits(
            maxConnections: try Self.integer(
                s.maxConnections,
                flag: "--max-connections",
                env: "TFREG_MAX_CONNECTIONS",
                range: 1...1_000_000,
                default: d.maxConnections
            ),
            handshakeTimeout: .seconds(
                try Self.integer(s.handshakeTimeout, flag: "--handshake-timeout", env: "TFREG_HANDSHAKE_TIMEOUT", range: 1...300, default: 10)
            ),
            headerTimeout: .seconds(
                try Self.integer(s.headerTimeout, flag: "--header-timeout", env: "TFREG_HEADER_TIMEOUT", range: 1...300, default: 10)
            ),
            bodyTimeout: .seconds(try Self.integer(s.bodyTimeout, flag: "--body-timeout", env: "TFREG_BODY_TIMEOUT", range: 1...3600, default: 30)),
            idleTimeout: .seconds(try Self.integer(s.idleTimeout, flag: "--idle-timeout", env: "TFREG_IDLE_TIMEOUT", range: 1...3600, default: 60))
        )
        server = ServerConfiguration(host: host, port: port, tlsCertificatePath: cert, tlsKeyPath: key, limits: limits)
        publicURL = s.publicURL ?? Env.value("TFREG_PUBLIC_URL")
        if let url = publicURL {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains("?"), !url.contains("#"),
                URLParsing.isValidHost(String(url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""))
            else { throw ValidationError("--public-url/TFREG_PUBLIC_URL must look like https://registry.example.com, got '\(url)'") }
        }
        maxUploadBytes =
            try s.maxUploadBytes ?? Env.value("TFREG_MAX_UPLOAD_BYTES").map { v in
                guard let n = Int64(v) else { throw ValidationError("TFREG_MAX_UPLOAD_BYTES must be a number, got '\(v)'") }
                return n
            } ?? APIConfiguration.defaultMaxUploadBytes
        guard maxUploadBytes > 0 else { throw ValidationError("--max-upload-bytes/TFREG_MAX_UPLOAD_BYTES must be positive") }
        downloadLinkTTL =
            try s.downloadLinkTTL ?? Env.value("TFREG_DOWNLOAD_LINK_TTL").map { v in
                guard let n = Int(v) else { throw ValidationError("TFREG_DOWNLOAD_LINK_TTL must be a number, got '\(v)'") }
                return n
            } ?? 300
        guard (10...3600).contains(downloadLinkTTL) else {
            throw ValidationError("--download-link-ttl/TFREG_DOWNLOAD_LINK_TTL must be 10...3600 seconds")
        }
        audience =
            (Env.value("TFREG_AUDIENCE")
            ?? publicURL.map { url in
                String(url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? "")
            })?.lowercased()
        if let a = audience, !URLParsing.isValidHost(a) { throw ValidationError("TFREG_AUDIENCE must be the registry's host name, got '\(a)'") }
        // Links are never built from a client's Host when the registry knows its own name.
        if publicURL == nil, let a = audience { publicURL = "https://" + a }
        maxTokenLifetime = try IAMSetup.maxLifetime(Env.all)
    }

    /// A whole number from the flag, else the environment variable, else the default, within `range`;
    /// errors name both the flag and the variable.
    static func integer(_ flag: Int?, flag name: String, env: String, range: ClosedRange<Int>, default value: Int) throws -> Int {
        let n: Int
        if let flag {
            n = flag
        } else if let v = Env.value(env) {
            guard let parsed = Int(v) else { throw ValidationError("\(name)/\(env) must be a whole number, got '\(v.prefix(40))'") }
            n = parsed
        } else {
            return value
        }
        guard range.contains(n) else {
            throw ValidationError("\(name)/\(env) must be \(range.lowerBound)...\(range.upperBound), got \(n)")
        }
        return n
    }
}
