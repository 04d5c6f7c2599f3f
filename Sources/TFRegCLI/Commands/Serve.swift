import ArgumentParser
import Glibc
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

extension TFReg {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run the registry as an HTTPS server (metadata in SQLite or DynamoDB, archives in the data directory or S3).",
            discussion: """
                Every option can also be set by the environment variable named in its help; a flag wins over \
                the variable. Without --tls-cert/--tls-key the server speaks plain HTTP, for use behind a TLS \
                proxy: Terraform only talks to registries over HTTPS.

                Examples:
                  tfreg serve --data-dir /var/lib/tfreg --tls-cert cert.pem --tls-key key.pem
                  tfreg serve --table registry --storage s3://my-registry-archives --public-url https://registry.example.com
                  tfreg serve --check-config --table registry --storage s3://my-registry-archives
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

        @Option(
            help:
                "Answer GET /metrics (Prometheus text format) on this HOST:PORT, a plain-HTTP listener of its own; off by default (env: TFREG_METRICS_LISTEN)."
        )
        var metricsListen: String?

        @Option(
            help:
                "The namespace whose grants cover providers mirrored from other registries: download to read them through /v1/mirror/HOST/…, upload to import them with tfreg mirror pull (env: TFREG_MIRROR_NAMESPACE; default mirror)."
        )
        var mirrorNamespace: String?

        @Option(
            help:
                "An upstream that tfreg mirror pull may import from: HOST or HOST/NAMESPACE, repeatable or comma-separated; none allowed by default (env: TFREG_MIRROR_ALLOW)."
        )
        var mirrorAllow: [String] = []

        @OptionGroup var logging: LoggingOptions

        @Flag(help: "Check the configuration (flags, environment, TLS files, data directory, database) and exit without serving.")
        var checkConfig = false

        func run() async throws {
            let config = try ResolvedServeConfiguration(self)
            if checkConfig {
                try await ConfigCheck.run(config, dataDirectory: store.resolvedDataDirectory)
                return
            }
            // Before anything else: a bad certificate or key is named with what is wrong with it.
            do { _ = try config.server.validateTLS() } catch { throw CLIError.configuration("\(error)") }
            LogSetup.bootstrap(format: config.logFormat, level: config.logLevel)
            let logger = Logger(label: "tfreg.serve")
            // Made before the backends so their AWS calls and caches are counted too.
            let metrics = config.server.metricsListen == nil ? nil : MetricsRegistry()
            let assembly = try await RegistryAssembly.serve(config, store: store, logger: logger, metrics: metrics)
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
            let server = RegistryServer(api: assembly.api, configuration: serverConfiguration, logger: logger, metrics: metrics)
            if !config.server.usesTLS {
                logger.warning("serving plain HTTP: Terraform needs HTTPS, so put a TLS proxy in front or set --tls-cert/--tls-key")
            }
            let scheme = config.server.usesTLS ? "https" : "http"
            let dataDir = self.store.resolvedDataDirectory
            // Download counts (issue 19): flushed every 30 s while serving, and once more after it stops.
            let service = assembly.service
            let flusher = Task {
                let every = Duration.seconds(service.downloadCounter?.interval ?? DownloadCounter.defaultInterval)
                // A cancelled sleep ends the loop: the final flush below then runs alone.
                while (try? await Task.sleep(for: every)) != nil {
                    await service.flushDownloads(ifDue: false, logger: logger)
                }
            }
            defer { flusher.cancel() }
            let host = config.server.host
            let metricsHost = config.server.metricsListen?.host ?? ""
            do {
                try await server.run(
                    onListening: { port in
                        logger.info("listening", metadata: ["url": "\(scheme)://\(host):\(port)", "port": "\(port)", "data_dir": "\(dataDir)"])
                    },
                    onMetricsListening: { port in
                        logger.info(
                            "metrics listening",
                            metadata: ["metrics_url": "http://\(metricsHost):\(port)/metrics", "metrics_port": "\(port)"]
                        )
                    }
                )
            } catch {
                // NIO's "bind(descriptor:ptr:bytes:): Address already in use (errno: 98)" says what, not what to do.
                let text = "\(error)"
                if text.contains("errno: 98") || text.contains("Address already in use") {
                    throw CLIError.unavailable(
                        "port \(config.server.port) on \(host) is in use (another tfreg serve?): stop it, or pass another --port (TFREG_PORT)"
                    )
                }
                if text.contains("errno: 13") || text.contains("Permission denied") {
                    throw CLIError.denied(
                        "may not listen on \(host):\(config.server.port) (ports below 1024 need privileges): pass --port (TFREG_PORT)"
                    )
                }
                throw error
            }
            flusher.cancel()
            await flusher.value  // a flush in progress finishes before the last one takes what is left
            await service.flushDownloads(ifDue: false, logger: logger)
            logger.info("stopped")
        }
    }
}

/// `serve` settings after flags, environment and defaults are combined and checked.
struct ResolvedServeConfiguration {
    /// `HOST:PORT` or `[IPV6]:PORT`; nil when it is neither.
    static func hostAndPort(_ text: String) -> (host: String, port: Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty, host.utf8.count <= 253, host.utf8.allSatisfy({ ASCII.isAlnum($0) || $0 == 0x2e || $0 == 0x2d || $0 == 0x3a }) else {
            return nil
        }
        return (host, port)
    }

    var server: ServerConfiguration
    var publicURL: String?
    var maxUploadBytes: Int64
    var downloadLinkTTL: Int
    var storage: String?
    var table: String?
    /// The registry's own host name (with a port when not 443) that IAM identity requests must be signed for.
    var audience: String?
    var maxTokenLifetime: Int64
    var mirror: MirrorSettings
    var logLevel: Logger.Level
    var logFormat: String

    init(_ s: TFReg.Serve) throws {
        (logLevel, logFormat) = try s.logging.resolved()
        table = try s.store.resolvedTable.map(AWSSetup.validTable)
        let storageSetting = Setting("--storage", env: "TFREG_STORAGE")
        let storageText = storageSetting.text(s.storage)
        storage = storageText?.value
        if let (storage, source) = storageText {
            do { _ = try S3ArchiveStorage.parse(storage) } catch {
                throw storageSetting.error("\(storageSetting.label): \(error.message)", source: source)
            }
        }
        let host = Setting("--host", env: "TFREG_HOST").text(s.host)?.value ?? "127.0.0.1"
        let port = try Setting("--port", env: "TFREG_PORT").integer(s.port, default: 8443, range: 0...65535)
        let cert = Setting("--tls-cert", env: "TFREG_TLS_CERT").text(s.tlsCert)?.value
        let key = Setting("--tls-key", env: "TFREG_TLS_KEY").text(s.tlsKey)?.value
        guard (cert == nil) == (key == nil) else {
            throw CLIError.configuration("HTTPS needs both a certificate (--tls-cert (TFREG_TLS_CERT)) and a key (--tls-key (TFREG_TLS_KEY))")
        }
        for path in [cert, key].compactMap({ $0 }) where !FileSystem.exists(path) {
            throw CLIError.configuration("TLS file not found: \(path)")
        }
        let d = ConnectionLimits.defaults
        let limits = ConnectionLimits(
            maxConnections: try Setting("--max-connections", env: "TFREG_MAX_CONNECTIONS").integer(
                s.maxConnections,
                default: d.maxConnections,
                range: 1...1_000_000
            ),
            handshakeTimeout: .seconds(
                try Setting("--handshake-timeout", env: "TFREG_HANDSHAKE_TIMEOUT").integer(s.handshakeTimeout, default: 10, range: 1...300)
            ),
            headerTimeout: .seconds(
                try Setting("--header-timeout", env: "TFREG_HEADER_TIMEOUT").integer(s.headerTimeout, default: 10, range: 1...300)
            ),
            bodyTimeout: .seconds(try Setting("--body-timeout", env: "TFREG_BODY_TIMEOUT").integer(s.bodyTimeout, default: 30, range: 1...3600)),
            idleTimeout: .seconds(try Setting("--idle-timeout", env: "TFREG_IDLE_TIMEOUT").integer(s.idleTimeout, default: 60, range: 1...3600))
        )
        server = ServerConfiguration(host: host, port: port, tlsCertificatePath: cert, tlsKeyPath: key, limits: limits)
        let metricsSetting = Setting("--metrics-listen", env: "TFREG_METRICS_LISTEN")
        if let (text, source) = metricsSetting.text(s.metricsListen) {
            guard let listen = Self.hostAndPort(text), listen.port == 0 || listen.port != port else {
                throw metricsSetting.invalid(text, expected: "HOST:PORT, a port other than the registry's (127.0.0.1:9464)", source: source)
            }
            server.metricsListen = listen
        }
        let publicURLSetting = Setting("--public-url", env: "TFREG_PUBLIC_URL")
        let publicURLText = publicURLSetting.text(s.publicURL)
        publicURL = publicURLText?.value
        if let (url, source) = publicURLText {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains("?"), !url.contains("#"),
                URLParsing.isValidHost(String(url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""))
            else { throw publicURLSetting.invalid(url, expected: "like https://registry.example.com", source: source) }
        }
        let uploadSetting = Setting("--max-upload-bytes", env: "TFREG_MAX_UPLOAD_BYTES")
        maxUploadBytes = try uploadSetting.resolve(s.maxUploadBytes, default: APIConfiguration.defaultMaxUploadBytes, expected: "a number") {
            Int64($0)
        }
        guard maxUploadBytes > 0 else {
            throw uploadSetting.invalid(String(maxUploadBytes), expected: "positive", source: s.maxUploadBytes == nil ? .environment : .flag)
        }
        downloadLinkTTL = try Setting("--download-link-ttl", env: "TFREG_DOWNLOAD_LINK_TTL").integer(
            s.downloadLinkTTL,
            default: 300,
            range: 10...3600
        )
        audience = try RegistryAssembly.audience(
            Env.value("TFREG_AUDIENCE")
                ?? publicURL.map { url in String(url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? "") }
        )
        // Links are never built from a client's Host when the registry knows its own name.
        if publicURL == nil, let a = audience { publicURL = "https://" + a }
        maxTokenLifetime = try IAMSetup.maxLifetime(Env.all)
        mirror = try MirrorSetup.resolve(namespace: s.mirrorNamespace, allow: s.mirrorAllow)
    }
}
