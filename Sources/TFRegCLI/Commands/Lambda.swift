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
                and TFREG_AUDIENCE (IAM tokens), TFREG_TOKEN_SERVICE (execute-api or lambda: GET /token is behind \
                an AWS_IAM front end), MAX_IAM_TOKEN_EXPIRATION_WINDOW, LOG_LEVEL. Log lines are JSON \
                on standard output with the request id. A configuration error is reported to /init/error.
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
        let resolver = env["RESOLVER_TYPE"] ?? "FUNCTION_URL"
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
        var authenticators: [any Authenticator] = [StaticTokenAuthenticator(store: store, cacheSeconds: 10)]
        var audience: String?
        if let kmsKey = env["IAM_AUTH_KMS_KEY"], !kmsKey.isEmpty {
            guard let a = env["TFREG_AUDIENCE"]?.lowercased(), URLParsing.isValidHost(a) else {
                throw CLIError.configuration("IAM_AUTH_KMS_KEY needs TFREG_AUDIENCE: the registry's host name as clients reach it")
            }
            audience = a
        }
        // No local key file on Lambda: IAM tokens need KMS.
        let issuer = try IAMSetup.issuer(
            audience: audience,
            maxLifetime: try IAMSetup.maxLifetime(env),
            env: env,
            aws: { aws },
            localKeyDirectory: nil,
            replayGuard: DynamoDBReplayGuard(dynamo: store.dynamo, table: table)
        )
        if let issuer { authenticators.append(SealedTokenAuthenticator(tokens: issuer.tokens)) }
        let service = RegistryService(store: store, storage: storage, canonicalizer: TarGzCanonicalizer())
        var apiConfiguration = APIConfiguration(maxUploadBytes: 4 * 1024 * 1024, version: TFReg.version)
        if let s = env["TFREG_TOKEN_SERVICE"], !s.isEmpty {
            guard ["execute-api", "lambda"].contains(s) else { throw CLIError.configuration("TFREG_TOKEN_SERVICE must be execute-api or lambda") }
            apiConfiguration.frontEndTokenService = s
            apiConfiguration.frontEndTokenRegion = env["AWS_REGION"].flatMap { AWSEndpoint.isValidRegion($0) ? $0 : nil }
        }
        let api = RegistryAPI(
            service: service,
            authenticator: CompositeAuthenticator(authenticators),
            // Archives are always delivered by presigned S3 URLs here; the link key is never used.
            signer: ArchiveURLSigner(key: SecureRandom.bytes(32), lifetime: 300),
            configuration: apiConfiguration,
            tokenIssuer: issuer
        )
        logger.info(
            "ready",
            metadata: [
                "table": "\(table)", "resolver_type": "\(format.rawValue)", "storage": "\(env["TFREG_STORAGE"] ?? "bring your own bucket")",
                "iam": "\(issuer != nil)",
            ]
        )
        return LambdaHandler(api: api, configured: format)
    }

    static func NSTemporaryDirectoryPath() -> String { Env.value("TMPDIR") ?? "/tmp" }
}
