import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegStoreAWS
import TFRegStoreLocal
import TFRegSystem

/// The backends `RegistryAssembly` is built from, opened from a resolved configuration: `serve`
/// (SQLite or DynamoDB, a data directory or S3, keys in the data directory or KMS) and `lambda`
/// (DynamoDB and S3, keys in KMS). Only the building is shared; the transports (the Hummingbird
/// server, the Lambda runtime loop) stay in their commands. `serve --check-config` reports what
/// `serve` would build through the same checks (`audience`, `checkMetadataTable`, `iamKeys`) without
/// creating anything.
extension RegistryAssembly {
    /// `TFREG_AUDIENCE`: the registry's host name as clients reach it (host or host:port), lowercased;
    /// nil when unset or empty. `serve` also takes it from --public-url.
    static func audience(_ value: String?) throws(CLIError) -> String? {
        guard let value, !value.isEmpty else { return nil }
        let audience = value.lowercased()
        guard URLParsing.isValidHost(audience) else {
            throw .configuration("TFREG_AUDIENCE must be the registry's host name as clients reach it (host or host:port), got '\(value)'")
        }
        return audience
    }

    /// Where sealed tokens' keys come from: KMS when `IAM_AUTH_KMS_KEY` is set, else the key file in
    /// `localKeyDirectory`; nil when neither (IAM stays off).
    enum IAMKeys: CustomStringConvertible {
        case kms(keyID: String)
        case dataDirectory(String)

        init?(env: [String: String], localKeyDirectory: String?) {
            if let kmsKey = env["IAM_AUTH_KMS_KEY"], !kmsKey.isEmpty {
                self = .kms(keyID: kmsKey)
            } else if let dir = localKeyDirectory {
                self = .dataDirectory(dir)
            } else {
                return nil
            }
        }

        var description: String {
            switch self {
            case .kms(let keyID): "from KMS key \(keyID)"
            case .dataDirectory: "in the data directory"
            }
        }
    }

    /// What `serve` checks of a DynamoDB table at start, and `--check-config` reports: it exists and
    /// can be read (DescribeTable), and its versions' archives can be served with this storage.
    static func checkMetadataTable(_ store: DynamoDBMetadataStore, storage: String?) async throws -> ArchivePlacement {
        try await StoreOptions.checkTable(store)
        return try await StoreOptions.checkArchivePlacement(store, storage: storage)
    }

    // MARK: serve

    /// `serve`: opens (creating a new local registry if there is none) the store and archive storage,
    /// removes uploads a killed process left staged, loads or creates the link key, and sets up IAM
    /// authentication when there is an audience.
    /// `metrics` (`--metrics-listen`): what the backends measure is reported there.
    static func serve(
        _ config: ResolvedServeConfiguration,
        store options: StoreOptions,
        logger: Logger,
        metrics: (any MetricsSink)? = nil
    ) async throws -> RegistryAssembly {
        let dataDirectory = options.resolvedDataDirectory
        let (store, storage) = try options.open(storage: config.storage, creating: true, metrics: metrics)
        let dynamo = store as? DynamoDBMetadataStore
        if let dynamo {
            let placement = try await checkMetadataTable(dynamo, storage: config.storage)
            logger.info("archive locations", metadata: ["seen": "\(placement.summary)"])
        }
        // What a killed process left half-written: no upload lives longer than this.
        let stale = FileArchiveStorage.removeStaleStaging(
            in: storage.stagingDirectory,
            olderThan: LocalGarbageCollector.defaultGraceSeconds,
            now: SystemClock().now()
        )
        if !stale.isEmpty {
            logger.notice("removed stale staged uploads", metadata: ["count": "\(stale.count)", "directory": "\(storage.stagingDirectory)"])
        }
        let key = try ArchiveSigningKey.loadOrCreate(dataDirectory: dataDirectory)
        logger.info(
            "backends",
            metadata: ["metadata": "\(options.resolvedTable.map { "dynamodb:" + $0 } ?? "sqlite")", "archives": "\(config.storage ?? "local")"]
        )
        // A presigned identity request is exchanged once: remembered in the table when there is one
        // (shared with every other process on it), else in this process.
        let replayGuard: any ReplayGuard = dynamo.map { DynamoDBReplayGuard(dynamo: $0.dynamo, table: $0.table) } ?? MemoryReplayGuard()
        let issuer = try IAMSetup.issuer(
            audience: config.audience,
            maxLifetime: config.maxTokenLifetime,
            env: Env.all,
            aws: { try AWSSetup.client(metrics: metrics) },
            localKeyDirectory: dataDirectory,
            replayGuard: replayGuard
        )
        if let issuer {
            logger.info(
                "IAM authentication on",
                metadata: ["audience": "\(issuer.tokens.audience)", "max_token_seconds": "\(config.maxTokenLifetime)"]
            )
        } else {
            logger.notice("IAM authentication off: set TFREG_AUDIENCE (or --public-url) to this registry's host name to turn it on")
        }
        var configuration = APIConfiguration(
            publicURL: config.publicURL,
            maxUploadBytes: config.maxUploadBytes,
            downloadLinkLifetime: config.downloadLinkTTL,
            version: TFReg.version
        )
        configuration.mirror = config.mirror
        return RegistryAssembly(
            store: store,
            storage: storage,
            canonicalizer: TarGzCanonicalizer(),
            // On DynamoDB every token lookup is a network call: remember hits for 10 s (revocation takes
            // effect within that); SQLite has its own read cache that follows every write.
            staticTokenCacheSeconds: dynamo == nil ? 0 : 10,
            tokenIssuer: issuer,
            linkKey: key,
            configuration: configuration,
            documenter: ModuleDocumenters.production,
            metrics: metrics
        )
    }

    // MARK: lambda

    /// `lambda`: the DynamoDB table (`TABLE_NAME`, validated), S3 archives (`TFREG_STORAGE`, else only users'
    /// buckets), and IAM tokens with keys in KMS (`IAM_AUTH_KMS_KEY`): for `TFREG_AUDIENCE` when set,
    /// else for the domain the IAM-authorizing front end reports (`FrontEndAudienceTokens`).
    /// `metrics`: where AWS calls, canonicalization time and cache lookups are reported (the
    /// invocation's Embedded Metric Format lines).
    static func lambda(
        env: [String: String],
        table: String,
        maxTokenLifetime maxLifetime: Int64,
        logger: Logger,
        metrics: (any MetricsSink)? = nil
    ) async throws -> RegistryAssembly {
        let aws = try AWSSetup.client(metrics: metrics)
        let store = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: aws), table: table)
        var bucket: String?
        var prefix = ""
        if let url = env["TFREG_STORAGE"], !url.isEmpty { (bucket, prefix) = try S3ArchiveStorage.parse(url) }
        let storage = try S3ArchiveStorage(s3: S3Client(client: aws), bucket: bucket, prefix: prefix, stagingDirectory: Env.value("TMPDIR") ?? "/tmp")
        // An invocation killed by its timeout or memory limit leaves its staged files in this sandbox's
        // /tmp, which later invocations share: at a cold start nothing else runs here, so all go.
        let stale = FileArchiveStorage.removeStaleStaging(in: storage.stagingDirectory, olderThan: 0, now: SystemClock().now(), noWriterRuns: true)
        if !stale.isEmpty { logger.notice("removed staged files an earlier invocation left", metadata: ["count": "\(stale.count)"]) }
        if bucket == nil { try await requireStorageForOwnArchives(store, logger: logger) }
        var audience: String?
        var frontEndTokens: FrontEndAudienceTokens?
        if case .kms(let kmsKey)? = IAMKeys(env: env, localKeyDirectory: nil) {
            audience = try Self.audience(env["TFREG_AUDIENCE"])
            if audience == nil {
                // The replaced tool's configuration: no audience. Behind the IAM-authorizing front end the
                // domain it reports is the audience (see FrontEndAudienceTokens); POST /token stays off.
                let kms = KMSClient(client: aws)
                frontEndTokens = FrontEndAudienceTokens { host in
                    SealedTokens(keys: KMSTokenKeys(kms: kms, keyID: kmsKey, audience: host), audience: host, maxLifetime: maxLifetime)
                }
                logger.notice(
                    "TFREG_AUDIENCE is not set: GET /token behind the IAM-authorizing front end seals tokens for the domain of each request (requestContext.domainName); POST /token (presigned GetCallerIdentity) is off until TFREG_AUDIENCE names the registry's host"
                )
            }
        }
        // No local key file on Lambda: IAM tokens need KMS.
        let issuer = try IAMSetup.issuer(
            audience: audience,
            maxLifetime: maxLifetime,
            env: env,
            aws: { aws },
            localKeyDirectory: nil,
            replayGuard: DynamoDBReplayGuard(dynamo: store.dynamo, table: table)
        )
        // Links name the configured audience when there is one (as `serve` does), else the front end's
        // domain; never an event's Host header.
        var configuration = APIConfiguration(publicURL: audience.map { "https://" + $0 }, maxUploadBytes: 4 * 1024 * 1024, version: TFReg.version)
        // Mirrored providers are read here too (imports need serve: the function's body limit is 4 MiB).
        configuration.mirror = try MirrorSetup.resolve(namespace: nil, allow: [])
        configuration.frontEndTokenRegion = env["AWS_REGION"].flatMap { AWSEndpoint.isValidRegion($0) ? $0 : nil }
        if let s = env["TFREG_TOKEN_SERVICE"], !s.isEmpty {
            guard ["execute-api", "lambda"].contains(s) else { throw CLIError.configuration("TFREG_TOKEN_SERVICE must be execute-api or lambda") }
            configuration.frontEndTokenService = s
        }
        return RegistryAssembly(
            store: store,
            storage: storage,
            canonicalizer: TarGzCanonicalizer(),
            staticTokenCacheSeconds: 10,
            tokenIssuer: issuer,
            frontEndTokens: frontEndTokens,
            // Archives are always delivered by presigned S3 URLs here; the link key is never used.
            linkKey: SecureRandom.bytes(32),
            configuration: configuration,
            documenter: ModuleDocumenters.production,
            metrics: metrics
        )
    }

    /// Without `TFREG_STORAGE` the function serves versions in users' buckets (the replaced tool's
    /// configuration) but not the registry's own archives, whose items name no bucket: a table holding
    /// such versions (published with TFREG_STORAGE set, or adopted by import-legacy) is a configuration
    /// error, not a function answering 404 for each. One Scan page at cold start (`archivePlacement`);
    /// a role without `dynamodb:Scan` or a failed call only skips the check, with a warning, as the
    /// replaced tool's role may lack it and every request would still work.
    static func requireStorageForOwnArchives(_ store: DynamoDBMetadataStore, logger: Logger) async throws {
        let placement: ArchivePlacement
        do { placement = try await store.archivePlacement() } catch {
            logger.warning("could not check where the table's versions keep their archives", metadata: ["error": "\(error)"])
            return
        }
        guard placement.versionsInOwnStorage > 0 else { return }
        throw CLIError.configuration(
            "TFREG_STORAGE is not set, and DynamoDB table \(store.table) holds \(placement.versionsInOwnStorage)\(placement.complete ? "" : " or more") version(s) whose archives are in the registry's own storage (published through tfreg or adopted by import-legacy; their items name no bucket): each would answer 404. Set TFREG_STORAGE=s3://BUCKET/PREFIX to the storage they were published to"
        )
    }

    /// `MAX_IAM_TOKEN_EXPIRATION_WINDOW` as `serve` reads it, except that a value above tfreg's 43200-second
    /// ceiling (the replaced tool had none) starts the function with the ceiling and a warning instead of
    /// failing: a shorter cap than configured is never less safe.
    static func lambdaMaxLifetime(_ env: [String: String], logger: Logger) throws -> Int64 {
        if let v = env["MAX_IAM_TOKEN_EXPIRATION_WINDOW"], let n = Int64(Substring(v).trimmingSpaces()), n > 43200 {
            logger.warning("MAX_IAM_TOKEN_EXPIRATION_WINDOW=\(n) is above tfreg's ceiling: tokens live at most 43200 s")
            return 43200
        }
        return try IAMSetup.maxLifetime(env)
    }
}
