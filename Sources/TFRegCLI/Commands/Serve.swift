import ArgumentParser
import Logging
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegServer
import TFRegStoreLocal
import TFRegAWS
import TFRegStoreAWS
import TFRegHTTPClient

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
                """)

        @Option(help: "Address to listen on (env: TFREG_HOST; default 127.0.0.1).")
        var host: String?

        @Option(help: "Port to listen on; 0 picks a free one (env: TFREG_PORT; default 8443).")
        var port: Int?

        @OptionGroup var store: StoreOptions

        @Option(help: "Store archives in S3 instead of the data directory: s3://BUCKET or s3://BUCKET/PREFIX (env: TFREG_STORAGE). Downloads are presigned S3 GETs.")
        var storage: String?

        @Option(help: "PEM certificate chain for HTTPS (env: TFREG_TLS_CERT).")
        var tlsCert: String?

        @Option(help: "PEM private key for HTTPS (env: TFREG_TLS_KEY).")
        var tlsKey: String?

        @Option(help: "External base URL that download links are built from, e.g. https://registry.example.com (env: TFREG_PUBLIC_URL; default https://$TFREG_AUDIENCE when that is set, else each request's Host).")
        var publicURL: String?

        @Option(help: "Most connections open at once: at the cap the longest-idle one is closed, else new clients wait in the listen backlog. Lowered to fit the open-file limit (env: TFREG_MAX_CONNECTIONS; default 1024).")
        var maxConnections: Int?

        @Option(help: "Seconds a keep-alive connection may sit with no request (env: TFREG_IDLE_TIMEOUT; default 60).")
        var idleTimeout: Int?

        @Option(help: "Seconds a client has to finish the TLS handshake (env: TFREG_HANDSHAKE_TIMEOUT; default 10).")
        var handshakeTimeout: Int?

        @Option(help: "Seconds a client has to send a complete request head (env: TFREG_HEADER_TIMEOUT; default 10).")
        var headerTimeout: Int?

        @Option(help: "Seconds a request body may stall, with no byte arriving, before the connection is closed (env: TFREG_BODY_TIMEOUT; default 30).")
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
            logging.bootstrap()
            let logger = Logger(label: "tfreg.serve")
            let (store, storage) = try store.open(storage: config.storage)
            if let dynamo = store as? DynamoDBMetadataStore { try await StoreOptions.checkTable(dynamo) }
            // What a killed process left half-written: no upload lives longer than this.
            let stale = FileArchiveStorage.removeStaleStaging(
                in: storage.stagingDirectory, olderThan: LocalGarbageCollector.defaultGraceSeconds, now: SystemClock().now())
            if !stale.isEmpty { logger.notice("removed stale staged uploads", metadata: ["count": "\(stale.count)", "directory": "\(storage.stagingDirectory)"]) }
            let key = try ArchiveSigningKey.loadOrCreate(dataDirectory: self.store.resolvedDataDirectory)
            let service = RegistryService(store: store, storage: storage, canonicalizer: TarGzCanonicalizer())
            logger.info("backends", metadata: ["metadata": "\(self.store.resolvedTable.map { "dynamodb:" + $0 } ?? "sqlite")", "archives": "\(config.storage ?? "local")"])
            // A presigned identity request is exchanged once: remembered in the table when there is one
            // (shared with every other process on it), else in this process.
            let replayGuard: any ReplayGuard =
                (store as? DynamoDBMetadataStore).map { DynamoDBReplayGuard(dynamo: $0.dynamo, table: $0.table) } ?? MemoryReplayGuard()
            let issuer = try IAMSetup.issuer(
                audience: config.audience, maxLifetime: config.maxTokenLifetime, env: Env.all, aws: AWSSetup.client,
                localKeyDirectory: self.store.resolvedDataDirectory, replayGuard: replayGuard)
            var authenticators: [any Authenticator] = [
                // On DynamoDB every token lookup is a network call: remember hits for 10 s (revocation
                // takes effect within that); SQLite has its own read cache that follows every write.
                StaticTokenAuthenticator(store: store, cacheSeconds: self.store.resolvedTable == nil ? 0 : 10)
            ]
            if let issuer {
                authenticators.append(SealedTokenAuthenticator(tokens: issuer.tokens))
                logger.info("IAM authentication on", metadata: ["audience": "\(issuer.tokens.audience)", "max_token_seconds": "\(config.maxTokenLifetime)"])
            } else {
                logger.notice("IAM authentication off: set TFREG_AUDIENCE (or --public-url) to this registry's host name to turn it on")
            }
            let api = RegistryAPI(
                service: service,
                authenticator: CompositeAuthenticator(authenticators),
                signer: ArchiveURLSigner(key: key, lifetime: Int64(config.downloadLinkTTL)),
                configuration: APIConfiguration(
                    publicURL: config.publicURL, maxUploadBytes: config.maxUploadBytes,
                    downloadLinkLifetime: config.downloadLinkTTL, version: TFReg.version),
                tokenIssuer: issuer)
            var serverConfiguration = config.server
            let (cap, descriptorLimit) = ConnectionLimits.clampToDescriptorLimit(serverConfiguration.limits.maxConnections)
            if let descriptorLimit {
                logger.warning(
                    "--max-connections/TFREG_MAX_CONNECTIONS lowered to fit the open-file limit",
                    metadata: ["requested": "\(serverConfiguration.limits.maxConnections)", "max_connections": "\(cap)", "nofile_limit": "\(descriptorLimit)"])
            }
            serverConfiguration.limits.maxConnections = cap
            if config.publicURL == nil {
                logger.warning("neither --public-url/TFREG_PUBLIC_URL nor TFREG_AUDIENCE is set: download links are built from each request's Host header")
            }
            let limits = serverConfiguration.limits
            logger.info("connection limits", metadata: [
                "max_connections": "\(limits.maxConnections)", "idle_timeout_s": "\(limits.idleTimeout.components.seconds)",
                "handshake_timeout_s": "\(limits.handshakeTimeout.components.seconds)", "header_timeout_s": "\(limits.headerTimeout.components.seconds)",
                "body_timeout_s": "\(limits.bodyTimeout.components.seconds)",
            ])
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

    init(_ s: TFReg.Serve) throws {
        table = try s.store.resolvedTable.map(AWSSetup.validTable)
        storage = s.storage ?? Env.value("TFREG_STORAGE")
        if let storage {
            do { _ = try S3ArchiveStorage.parse(storage) } catch { throw ValidationError(error.message) }
        }
        let host = s.host ?? Env.value("TFREG_HOST") ?? "127.0.0.1"
        let port = try s.port ?? Env.value("TFREG_PORT").map { v in
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
            maxConnections: try Self.integer(s.maxConnections, flag: "--max-connections", env: "TFREG_MAX_CONNECTIONS", range: 1...1_000_000, default: d.maxConnections),
            handshakeTimeout: .seconds(try Self.integer(s.handshakeTimeout, flag: "--handshake-timeout", env: "TFREG_HANDSHAKE_TIMEOUT", range: 1...300, default: 10)),
            headerTimeout: .seconds(try Self.integer(s.headerTimeout, flag: "--header-timeout", env: "TFREG_HEADER_TIMEOUT", range: 1...300, default: 10)),
            bodyTimeout: .seconds(try Self.integer(s.bodyTimeout, flag: "--body-timeout", env: "TFREG_BODY_TIMEOUT", range: 1...3600, default: 30)),
            idleTimeout: .seconds(try Self.integer(s.idleTimeout, flag: "--idle-timeout", env: "TFREG_IDLE_TIMEOUT", range: 1...3600, default: 60)))
        server = ServerConfiguration(host: host, port: port, tlsCertificatePath: cert, tlsKeyPath: key, limits: limits)
        publicURL = s.publicURL ?? Env.value("TFREG_PUBLIC_URL")
        if let url = publicURL {
            guard url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains("?"), !url.contains("#"),
                URLParsing.isValidHost(String(url.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first ?? ""))
            else { throw ValidationError("--public-url/TFREG_PUBLIC_URL must look like https://registry.example.com, got '\(url)'") }
        }
        maxUploadBytes = try s.maxUploadBytes ?? Env.value("TFREG_MAX_UPLOAD_BYTES").map { v in
            guard let n = Int64(v) else { throw ValidationError("TFREG_MAX_UPLOAD_BYTES must be a number, got '\(v)'") }
            return n
        } ?? APIConfiguration.defaultMaxUploadBytes
        guard maxUploadBytes > 0 else { throw ValidationError("--max-upload-bytes/TFREG_MAX_UPLOAD_BYTES must be positive") }
        downloadLinkTTL = try s.downloadLinkTTL ?? Env.value("TFREG_DOWNLOAD_LINK_TTL").map { v in
            guard let n = Int(v) else { throw ValidationError("TFREG_DOWNLOAD_LINK_TTL must be a number, got '\(v)'") }
            return n
        } ?? 300
        guard (10...3600).contains(downloadLinkTTL) else { throw ValidationError("--download-link-ttl/TFREG_DOWNLOAD_LINK_TTL must be 10...3600 seconds") }
        audience = (Env.value("TFREG_AUDIENCE") ?? publicURL.map { url in
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

/// Options shared by every command that opens the registry's store: SQLite + a local directory by
/// default, a DynamoDB table with --table/TABLE_NAME, S3 archives with --storage s3://BUCKET/PREFIX.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory for the database, archives and keys (env: TFREG_DATA_DIR; default $XDG_DATA_HOME/tfreg or ~/.local/share/tfreg).")
    var dataDir: String?

    @Option(help: "DynamoDB table for metadata instead of SQLite (env: TABLE_NAME, also TABLE). AWS credentials and region come from the usual AWS variables and profiles.")
    var table: String?

    var resolvedDataDirectory: String { dataDir ?? Env.value("TFREG_DATA_DIR") ?? Env.defaultDataDirectory }
    var resolvedTable: String? { table ?? Env.value("TABLE_NAME") ?? Env.value("TABLE") }

    func openLocal() throws -> (SQLiteMetadataStore, FileArchiveStorage) {
        let dir = resolvedDataDirectory
        try FileSystem.makeDirectories(dir, mode: 0o750)
        let storage = try FileArchiveStorage(root: dir)
        let store = try SQLiteMetadataStore(path: dir + "/registry.db")
        return (store, storage)
    }

    /// Fails fast, naming the table and region, when the table does not exist or cannot be read
    /// with these credentials (one DescribeTable at start).
    static func checkTable(_ store: DynamoDBMetadataStore) async throws {
        let status: String?
        do { status = try await store.dynamo.tableStatus(store.table) } catch {
            throw DynamoDBMetadataStore.map(error, table: store.table, region: store.dynamo.client.region)
        }
        guard let status else {
            throw RegistryError.misconfigured("the metadata table", explanation: "DynamoDB table \(store.table) does not exist in region \(store.dynamo.client.region): check --table/TABLE_NAME and AWS_REGION")
        }
        guard status == "ACTIVE" || status == "UPDATING" else {
            throw RegistryError.misconfigured("the metadata table", explanation: "DynamoDB table \(store.table) in \(store.dynamo.client.region) is \(status), not ACTIVE")
        }
    }

    /// The metadata store alone (grant management).
    func openMetadata() throws -> any MetadataStore {
        if let table = resolvedTable {
            return DynamoDBMetadataStore(dynamo: DynamoDBClient(client: try AWSSetup.client()), table: try AWSSetup.validTable(table))
        }
        let dir = resolvedDataDirectory
        try FileSystem.makeDirectories(dir, mode: 0o750)
        return try SQLiteMetadataStore(path: dir + "/registry.db")
    }

    /// Metadata and archive storage for `serve`. `storage` is nil (local directory) or s3://BUCKET/PREFIX.
    func open(storage url: String?) throws -> (any MetadataStore, any ArchiveStorage) {
        let dir = resolvedDataDirectory
        try FileSystem.makeDirectories(dir, mode: 0o750)
        let table = try resolvedTable.map(AWSSetup.validTable)
        let aws = table != nil || url != nil ? try AWSSetup.client() : nil
        let store: any MetadataStore =
            if let table, let aws { DynamoDBMetadataStore(dynamo: DynamoDBClient(client: aws), table: table) } else {
                try SQLiteMetadataStore(path: dir + "/registry.db")
            }
        let storage: any ArchiveStorage
        if let url, let aws {
            let (bucket, prefix) = try S3ArchiveStorage.parse(url)
            let staging = dir + "/tmp"
            try FileSystem.makeDirectories(staging, mode: 0o750)
            storage = try S3ArchiveStorage(s3: S3Client(client: aws), bucket: bucket, prefix: prefix, stagingDirectory: staging)
        } else {
            storage = try FileArchiveStorage(root: dir)
        }
        return (store, storage)
    }
}

/// One AWS client per process, configured like the AWS CLI (see `AWSConfiguration.resolve`).
enum AWSSetup {
    static func client() throws -> AWSClient {
        let env = Env.all
        let http = CurlHTTPClient(caBundle: env["AWS_CA_BUNDLE"] ?? env["SSL_CERT_FILE"])
        let config: AWSConfiguration
        do { config = try AWSConfiguration.resolve(environment: env, http: http) } catch {
            throw CLIFailure("AWS configuration: \(error.message)")
        }
        return AWSClient(http: http, credentials: config.credentials, region: config.region, environment: env)
    }

    /// DynamoDB table names: 3-255 of letters, digits, '_', '-', '.'.
    static func validTable(_ name: String) throws -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-.".utf8)
        guard (3...255).contains(name.utf8.count), name.utf8.allSatisfy(allowed.contains) else {
            throw ValidationError("invalid DynamoDB table name '\(name.prefix(80))': 3-255 letters, digits, '_', '-', '.'")
        }
        return name
    }
}

struct LoggingOptions: ParsableArguments {
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env: LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "Log format: json (one object per line) or text (env: TFREG_LOG_FORMAT; default json).")
    var logFormat: String?

    func bootstrap() {
        let level = (logLevel ?? Env.value("LOG_LEVEL")).flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LogSetup.bootstrap(format: logFormat ?? Env.value("TFREG_LOG_FORMAT") ?? "json", level: level)
    }
}

/// The HMAC key that signs archive links: 32 random bytes in `<data>/keys/archive-url.key`, mode 0600,
/// made on first start. Deleting the file rotates it (outstanding links stop working).
enum ArchiveSigningKey {
    static func loadOrCreate(dataDirectory: String) throws -> [UInt8] {
        let dir = dataDirectory + "/keys"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        let path = dir + "/archive-url.key"
        if let existing = FileSystem.read(path, limit: 1024) {
            guard existing.count == 32 else { throw ValidationError("\(path) is not a 32-byte key; delete it to make a new one") }
            return existing
        }
        let key = SecureRandom.bytes(32)
        try FileSystem.writeAtomically(path, key, mode: 0o600)
        return key
    }
}

/// IAM authentication for `serve`: sealed tokens with keys from KMS (`IAM_AUTH_KMS_KEY`, envelope
/// encryption) or a local key file, and STS to check presigned GetCallerIdentity requests.
/// Shared by `serve` and `lambda`.
enum IAMSetup {
    /// `MAX_IAM_TOKEN_EXPIRATION_WINDOW`, 60…43200 seconds, default 3600.
    static func maxLifetime(_ env: [String: String]) throws -> Int64 {
        guard let v = env["MAX_IAM_TOKEN_EXPIRATION_WINDOW"], !v.isEmpty else { return 3600 }
        guard let n = Int64(v), (60...43200).contains(n) else { throw ValidationError("MAX_IAM_TOKEN_EXPIRATION_WINDOW must be 60...43200 seconds, got '\(v)'") }
        return n
    }

    /// Keys from KMS when `IAM_AUTH_KMS_KEY` is set, else from the local key file in `localKeyDirectory`;
    /// nil (IAM off) without an audience, or without either key source.
    static func issuer(
        audience: String?, maxLifetime: Int64, env: [String: String], aws: () throws -> AWSClient, localKeyDirectory: String?, replayGuard: any ReplayGuard
    ) throws -> TokenIssuer? {
        guard let audience else { return nil }
        let keys: any TokenKeySource
        let client: AWSClient?
        if let kmsKey = env["IAM_AUTH_KMS_KEY"], !kmsKey.isEmpty {
            let aws = try aws()
            client = aws
            keys = KMSTokenKeys(kms: KMSClient(client: aws), keyID: kmsKey, audience: audience)
        } else if let dir = localKeyDirectory {
            client = nil
            keys = StaticTokenKeys(keys: try LocalTokenKeys.loadOrCreate(dataDirectory: dir))
        } else {
            return nil
        }
        let http = client?.http ?? CurlHTTPClient(caBundle: env["AWS_CA_BUNDLE"] ?? env["SSL_CERT_FILE"])
        let verifier = STSCallerIdentityVerifier(http: http, environment: env)
        return TokenIssuer(tokens: SealedTokens(keys: keys, audience: audience, maxLifetime: maxLifetime), verifier: verifier, replayGuard: replayGuard)
    }
}

/// The local token-sealing key: `<data>/keys/iam-token.key` (32 random bytes, mode 0600, made on first
/// start). To rotate, rename it to `iam-token.key.previous` and restart: new tokens use a new key,
/// tokens sealed with the previous one keep working until they expire.
enum LocalTokenKeys {
    static func loadOrCreate(dataDirectory: String) throws -> [[UInt8]] {
        let dir = dataDirectory + "/keys"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        let path = dir + "/iam-token.key"
        var keys: [[UInt8]] = []
        if let existing = FileSystem.read(path, limit: 1024) {
            guard existing.count == 32 else { throw ValidationError("\(path) is not a 32-byte key; delete it to make a new one") }
            keys.append(existing)
        } else {
            let key = SecureRandom.bytes(32)
            try FileSystem.writeAtomically(path, key, mode: 0o600)
            keys.append(key)
        }
        if let previous = FileSystem.read(path + ".previous", limit: 1024), previous.count == 32 { keys.append(previous) }
        return keys
    }
}

/// `tfreg serve --check-config`: everything `serve` would check at start, without creating files.
enum ConfigCheck {
    static func run(_ config: ResolvedServeConfiguration, dataDirectory: String) async throws {
        var lines: [String] = []
        let scheme = config.server.usesTLS ? "https" : "http"
        lines.append("listen: \(scheme)://\(config.server.host):\(config.server.port)")
        do {
            if let tls = try config.server.validateTLS() { lines.append("tls: \(tls)") } else {
                lines.append("tls: none (plain HTTP; put a TLS proxy in front)")
            }
        } catch {
            throw CLIFailure("TLS certificate or key is unusable: \(error)")
        }
        lines.append("public url: \(config.publicURL ?? "from each request's Host header")")
        lines.append("metadata: \(config.table.map { "DynamoDB table \($0) (AWS credentials resolved at start)" } ?? "SQLite")")
        lines.append("archives: \(config.storage ?? "local directory")")
        lines.append("IAM authentication: \(config.audience.map { "on, audience \($0), tokens up to \(config.maxTokenLifetime) s, keys \(Env.value("IAM_AUTH_KMS_KEY").map { "from KMS key " + $0 } ?? "in the data directory")" } ?? "off (set TFREG_AUDIENCE or --public-url)")")
        lines.append("max upload: \(config.maxUploadBytes) bytes; download link ttl: \(config.downloadLinkTTL) s")
        let l = config.server.limits
        lines.append("connections: at most \(l.maxConnections) (before the open-file limit); timeouts: handshake \(l.handshakeTimeout.components.seconds) s, header \(l.headerTimeout.components.seconds) s, body \(l.bodyTimeout.components.seconds) s, idle \(l.idleTimeout.components.seconds) s")
        // The data directory must exist and be writable, or be creatable in a writable parent.
        var probe = dataDirectory
        while !FileSystem.exists(probe) {
            guard let slash = probe.lastIndex(of: "/"), slash != probe.startIndex else { probe = "."; break }
            probe = String(probe[..<slash])
        }
        guard access(probe, W_OK | X_OK) == 0 else {
            throw CLIFailure("data directory \(dataDirectory) is not writable (checked \(probe); set --data-dir or TFREG_DATA_DIR)")
        }
        let db = dataDirectory + "/registry.db"
        if config.table != nil {
            // Metadata lives in DynamoDB; the data directory holds keys and upload staging only.
        } else if FileSystem.exists(db) {
            let store = try SQLiteMetadataStore(path: db, cached: false, readOnly: true)
            let version = try store.schemaVersion
            lines.append("database: \(db) (schema \(version) of \(SQLiteMetadataStore.migrations.count))")
            if config.storage == nil, version == SQLiteMetadataStore.migrations.count, FileSystem.exists(dataDirectory + "/archives") {
                // The same listing as `tfreg gc --dry-run`: archives no version references.
                let report = try await LocalGarbageCollector.collect(
                    store: store, storage: try FileArchiveStorage(root: dataDirectory), now: SystemClock().now(), dryRun: true)
                let bytes = report.unreferenced.reduce(Int64(0)) { $0 + $1.size }
                lines.append("unreferenced archives: \(report.unreferenced.count) (\(bytes) bytes, older than an hour)\(report.unreferenced.isEmpty ? "" : "; remove them with tfreg gc")")
            }
        } else {
            lines.append("database: \(db) (created on first start)")
        }
        let key = dataDirectory + "/keys/archive-url.key"
        if FileSystem.exists(key) {
            guard FileSystem.read(key, limit: 1024)?.count == 32 else { throw CLIFailure("\(key) is not a readable 32-byte key") }
            lines.append("archive link key: \(key)")
        } else {
            lines.append("archive link key: created on first start")
        }
        for l in lines { print(l) }
        print("configuration OK")
    }
}
