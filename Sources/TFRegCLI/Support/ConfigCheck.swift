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

/// `tfreg serve --check-config`: everything `serve` would check at start, without creating files. The
/// checks and decisions are `RegistryAssembly`'s (`checkMetadataTable`, `IAMKeys`, the audience in
/// `ResolvedServeConfiguration`); only the building, which creates the database and keys, is left out.
enum ConfigCheck {
    static func run(_ config: ResolvedServeConfiguration, dataDirectory: String) async throws {
        var lines: [String] = []
        let scheme = config.server.usesTLS ? "https" : "http"
        lines.append("listen: \(scheme)://\(config.server.host):\(config.server.port)")
        do {
            if let tls = try config.server.validateTLS() {
                lines.append("tls: \(tls)")
            } else {
                lines.append("tls: none (plain HTTP; put a TLS proxy in front)")
            }
        } catch {
            throw CLIError.configuration("TLS certificate or key is unusable: \(error)")
        }
        lines.append("public url: \(config.publicURL ?? "from each request's Host header")")
        lines.append("log: level \(config.logLevel.rawValue), format \(config.logFormat)")
        if let table = config.table {
            // The same DescribeTable serve makes at start.
            // The same DescribeTable and look at the versions' archives serve makes (versions in users'
            // buckets need S3 storage).
            let store = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: try AWSSetup.client()), table: table)
            let placement = try await RegistryAssembly.checkMetadataTable(store, storage: config.storage)
            lines.append("metadata: DynamoDB table \(table) in \(store.dynamo.client.region) (exists, readable)")
            lines.append("archive locations: \(placement.summary)")
        } else {
            lines.append("metadata: SQLite")
        }
        if let storage = config.storage {
            let (bucket, _) = try S3ArchiveStorage.parse(storage)
            let s3 = S3Client(client: try AWSSetup.client())
            let exists: Bool
            do { exists = try await s3.bucketExists(bucket) } catch {
                guard error.isConfigurationProblem else { throw RegistryError.unavailable("the archive bucket", detail: error.description) }
                throw RegistryError.misconfigured(
                    "the archive bucket",
                    explanation: "S3 HeadBucket on \(bucket) (--storage/TFREG_STORAGE) in \(s3.client.region): \(error.description): \(error.advice)"
                )
            }
            guard exists else {
                throw RegistryError.misconfigured(
                    "the archive bucket",
                    explanation:
                        "S3 bucket \(bucket) does not exist (--storage/TFREG_STORAGE \(storage), region \(s3.client.region)): check the name and AWS_REGION"
                )
            }
            lines.append("archives: \(storage) (bucket exists)")
        } else {
            lines.append("archives: local directory")
        }
        // The same decisions RegistryAssembly.serve makes: an audience turns IAM on, keys from KMS or the data directory.
        let keys = RegistryAssembly.IAMKeys(env: Env.all, localKeyDirectory: dataDirectory)
        lines.append(
            "IAM authentication: \(config.audience.map { "on, audience \($0), tokens up to \(config.maxTokenLifetime) s, keys \(keys?.description ?? "in the data directory")" } ?? "off (set TFREG_AUDIENCE or --public-url)")"
        )
        lines.append("max upload: \(config.maxUploadBytes) bytes; download link ttl: \(config.downloadLinkTTL) s")
        let l = config.server.limits
        lines.append(
            "connections: at most \(l.maxConnections) (before the open-file limit); timeouts: handshake \(l.handshakeTimeout.components.seconds) s, header \(l.headerTimeout.components.seconds) s, body \(l.bodyTimeout.components.seconds) s, idle \(l.idleTimeout.components.seconds) s"
        )
        // The data directory must exist and be writable, or be creatable in a writable parent.
        var probe = dataDirectory
        while !FileSystem.exists(probe) {
            guard let slash = probe.lastIndex(of: "/"), slash != probe.startIndex else {
                probe = "."
                break
            }
            probe = String(probe[..<slash])
        }
        guard access(probe, W_OK | X_OK) == 0 else {
            throw CLIError.configuration("data directory \(dataDirectory) is not writable (checked \(probe); set --data-dir or TFREG_DATA_DIR)")
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
                    store: store,
                    storage: try FileArchiveStorage(root: dataDirectory),
                    now: SystemClock().now(),
                    dryRun: true
                )
                let bytes = report.unreferenced.reduce(Int64(0)) { $0 + $1.size }
                lines.append(
                    "unreferenced archives: \(report.unreferenced.count) (\(bytes) bytes, older than an hour)\(report.unreferenced.isEmpty ? "" : "; remove them with tfreg gc")"
                )
            }
        } else {
            lines.append("database: \(db) (created on first start)")
        }
        // The same ownership and mode checks serve makes at start: a directory or key another user
        // could change is reported, not accepted.
        try StoreOptions.checkDataDirectory(dataDirectory)
        lines.append("data dir: \(dataDirectory) (owner and modes checked)")
        let key = dataDirectory + "/keys/archive-url.key"
        if FileSystem.exists(key) {
            guard (try? KeyFile.read(key, otherOwners: StoreOptions.trustedOwners)) != nil else {
                throw CLIError.configuration("\(key) is not a readable 32-byte key")
            }
            lines.append("archive link key: \(key)")
        } else {
            lines.append("archive link key: created on first start")
        }
        for l in lines { print(l) }
        print("configuration OK")
    }
}
