import ArgumentParser
import Glibc
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
                an AWS_IAM front end), MAX_IAM_TOKEN_EXPIRATION_WINDOW, LOG_LEVEL, TFREG_METRICS (emf, the default: one CloudWatch Embedded Metric \
                Format line per invocation, then one per AWS operation called and cache used; off). Log lines are JSON \
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
            // Metrics (issue 21): one Embedded Metric Format line per invocation unless TFREG_METRICS=off,
            // then one per AWS operation called (and cache whose lookups moved) during it.
            let metrics = (env["TFREG_METRICS"] ?? "emf").lowercased() != "off"
            let backendMetrics = metrics ? InvocationMetrics() : nil
            let handler: LambdaHandler
            do {
                handler = try await LambdaSetup.handler(env: env, logger: logger, metrics: backendMetrics)
            } catch {
                logger.critical("configuration failed", metadata: ["error": "\(error)"])
                try? await client.initFailure(type: "Runtime.ConfigError", message: "\(error)")
                throw ExitCode(1)
            }
            // Download counts (issue 19): flushed after an answer once 30 s have passed since the last.
            let service = handler.api.service
            try await LambdaLoop.run(
                client: client,
                logger: logger,
                metrics: metrics,
                backendMetrics: backendMetrics,
                afterResponse: { log in await service.flushDownloads(ifDue: true, logger: log) },
                handler: { invocation, log in try await handler.handle(invocation, logger: log) }
            )
        }
    }
}

/// Everything expensive happens once per cold start: configuration, credentials, clients.
enum LambdaSetup {
    static func handler(env: [String: String], logger: Logger, metrics: (any MetricsSink)? = nil) async throws -> LambdaHandler {
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
        let maxLifetime = try RegistryAssembly.lambdaMaxLifetime(env, logger: logger)
        let assembly = try await RegistryAssembly.lambda(env: env, table: table, maxTokenLifetime: maxLifetime, logger: logger, metrics: metrics)
        let issuer = assembly.tokenIssuer
        logger.info(
            "ready",
            metadata: [
                "table": "\(table)", "resolver_type": "\(format.rawValue)", "storage": "\(env["TFREG_STORAGE"] ?? "bring your own bucket")",
                "iam":
                    "\(issuer.map { "on, audience \($0.tokens.audience)" } ?? (assembly.frontEndTokens != nil ? "GET /token only (audience: each request's domain; POST /token needs TFREG_AUDIENCE)" : "off"))",
                "max_token_lifetime": "\(maxLifetime)",
            ]
        )
        return LambdaHandler(api: assembly.api, configured: format)
    }
}
