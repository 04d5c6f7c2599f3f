import ArgumentParser
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegLambda
import TFRegStoreAWS
import TFRegSystem

#if canImport(Glibc)
import Glibc
#endif

extension TFReg {
    struct Lambda: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run as an AWS Lambda function (custom runtime, provided.al2023); the binary named bootstrap does this.",
            discussion: """
                Reads AWS_LAMBDA_RUNTIME_API and serves the registry API for API Gateway (REST or HTTP API), \
                Function URL or ALB events. Configuration from the environment: TABLE_NAME (DynamoDB, required), \
                RESOLVER_TYPE (FUNCTION_URL default, API_GATEWAY_REST, API_GATEWAY_HTTP, ALB), TFREG_STORAGE \
                (s3://BUCKET/PREFIX for uploads; without it only create registers archives), IAM_AUTH_KMS_KEY \
                (IAM tokens; without TFREG_AUDIENCE, GET /token behind the AWS_IAM front end seals for each \
                request's domain and POST /token is off), TFREG_AUDIENCE, TFREG_TOKEN_SERVICE (execute-api or lambda: GET /token is behind \
                an AWS_IAM front end), MAX_IAM_TOKEN_EXPIRATION_WINDOW, LOG_LEVEL. Log lines are JSON \
                on standard output with the request id. A configuration error is reported to /init/error.

                Examples:
                  TABLE_NAME=registry TFREG_STORAGE=s3://my-registry-archives tfreg lambda   # as the Lambda runtime starts it
                """
        )

        func run() async throws {
            let env = Env.all
            guard let runtimeAPI = env["AWS_LAMBDA_RUNTIME_API"], !runtimeAPI.isEmpty else {
                throw CLIError.configuration("AWS_LAMBDA_RUNTIME_API is not set: tfreg lambda runs inside AWS Lambda (or a Runtime API emulator)")
            }
            let level = env["LOG_LEVEL"].flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
            LogSetup.bootstrap(format: "json", level: level, standardOutput: true)
            let logger = Logger(label: "tfreg.lambda")
            let client = CurlRuntimeClient(api: runtimeAPI)
            let handler: LambdaHandler
            do {
                handler = try await LambdaSetup.handler(env: env, logger: logger)
            } catch {
                logger.critical("configuration failed", metadata: ["error": "\(error)"])
                try? await client.initFailure(type: "Runtime.ConfigError", message: "\(error)")
                throw ExitCode(1)
            }
            try await LambdaLoop.run(client: client, logger: logger) { invocation, log in
                try await handler.handle(invocation, logger: log)
            }
        }
    }
}

/// Everything expensive happens once per cold start: configuration, credentials, clients.
enum LambdaSetup {
    static func handler(env: [String: String], logger: Logger) async throws -> LambdaHandler {
        guard let tableName = env["TABLE_NAME"] ?? env["TABLE"], !tableName.isEmpty else { throw CLIError.configuration("TABLE_NAME is required") }
        let table = try AWSSetup.validTable(tableName)
        // The replaced tool's four values; as there, unset means FUNCTION_URL. tfreg also takes them in
        // any letter case and treats an empty value (Terraform's `""`) as unset.
        let resolverValue = Substring(env["RESOLVER_TYPE"] ?? "").trimmingSpaces().uppercased()
        let resolver = resolverValue.isEmpty ? "FUNCTION_URL" : resolverValue
        guard let format = EventFormat(rawValue: resolver) else {
            throw CLIError.configuration(
                "RESOLVER_TYPE must be one of \(EventFormat.allCases.map(\.rawValue).joined(separator: ", ")), got '\(resolver)'"
            )
        }
        let aws = try AWSSetup.client()
        let store = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: aws), table: table)
        var bucket: String?
        var prefix = ""
        if let url = env["TFREG_STORAGE"], !url.isEmpty { (bucket, prefix) = try S3ArchiveStorage.parse(url) }
        let storage = try S3ArchiveStorage(s3: S3Client(client: aws), bucket: bucket, prefix: prefix, stagingDirectory: NSTemporaryDirectoryPath())
        if bucket == nil { try await requireStorageForOwnArchives(store, logger: logger) }
        var authenticators: [any Authenticator] = [StaticTokenAuthenticator(store: store, cacheSeconds: 10)]
        var audience: String?
        var frontEndTokens: FrontEndAudienceTokens?
        let maxLifetime = try lambdaMaxLifetime(env, logger: logger)
        if let kmsKey = env["IAM_AUTH_KMS_KEY"], !kmsKey.isEmpty {
            if let configured = env["TFREG_AUDIENCE"], !configured.isEmpty {
                guard URLParsing.isValidHost(configured.lowercased()) else {
                    throw CLIError.configuration(
                        "TFREG_AUDIENCE must be the registry's host name as clients reach it (host or host:port), got '\(configured)'"
                    )
                }
                audience = configured.lowercased()
            } else {
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
        if let issuer { authenticators.append(SealedTokenAuthenticator(tokens: issuer.tokens)) }
        let service = RegistryService(store: store, storage: storage, canonicalizer: TarGzCanonicalizer())
        // Links name the configured audience when there is one (as `serve` does), else the front end's
        // domain; never an event's Host header.
        var apiConfiguration = APIConfiguration(publicURL: audience.map { "https://" + $0 }, maxUploadBytes: 4 * 1024 * 1024, version: TFReg.version)
        apiConfiguration.frontEndTokenRegion = env["AWS_REGION"].flatMap { AWSEndpoint.isValidRegion($0) ? $0 : nil }
        if let s = env["TFREG_TOKEN_SERVICE"], !s.isEmpty {
            guard ["execute-api", "lambda"].contains(s) else { throw CLIError.configuration("TFREG_TOKEN_SERVICE must be execute-api or lambda") }
            apiConfiguration.frontEndTokenService = s
        }
        let api = RegistryAPI(
            service: service,
            authenticator: CompositeAuthenticator(authenticators),
            // Archives are always delivered by presigned S3 URLs here; the link key is never used.
            signer: ArchiveURLSigner(key: SecureRandom.bytes(32), lifetime: 300),
            configuration: apiConfiguration,
            tokenIssuer: issuer,
            frontEndTokens: frontEndTokens
        )
        logger.info(
            "ready",
            metadata: [
                "table": "\(table)", "resolver_type": "\(format.rawValue)", "storage": "\(env["TFREG_STORAGE"] ?? "bring your own bucket")",
                "iam":
                    "\(issuer != nil ? "on, audience \(audience ?? "")" : frontEndTokens != nil ? "GET /token only (audience: each request's domain; POST /token needs TFREG_AUDIENCE)" : "off")",
                "max_token_lifetime": "\(maxLifetime)",
            ]
        )
        return LambdaHandler(api: api, configured: format)
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

    static func NSTemporaryDirectoryPath() -> String { Env.value("TMPDIR") ?? "/tmp" }
}
