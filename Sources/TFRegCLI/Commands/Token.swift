import ArgumentParser
import Glibc
import TFRegAPI
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

extension TFReg {
    struct Token: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Get a short-lived registry token by proving your AWS IAM identity.",
            discussion: """
                Signs an sts:GetCallerIdentity request with your AWS credentials (found as the AWS CLI finds \
                them: environment, AWS_PROFILE and the shared files, SSO, web identity, container, instance \
                metadata) and bound to the registry's host name, and exchanges it at the registry's token \
                endpoint, found through https://HOST/.well-known/terraform.json. Nothing long-lived is stored. \
                FORMAT is token (the raw token), config (a credentials block for the Terraform CLI config), \
                env (an `export TF_TOKEN_…='…'` line for eval; not possible for a host with a port) or json (the registry's answer: \
                {"token","principal","expires_at"}, the principal being the identity the token acts as). \
                Without FORMAT: json with --output json (or TFREG_OUTPUT=json), else token.

                Examples:
                  tfreg token --registry registry.example.com
                  tfreg token --registry registry.example.com --output json
                """
        )

        enum Format: String, ExpressibleByArgument, CaseIterable { case token, config, env, json }

        @Argument(help: "token, config, env or json (default: json with --output json, else token).")
        var format: Format?

        @OptionGroup var out: OutputOptions

        @OptionGroup var ca: CABundleOption

        /// FORMAT, else what `--output` / `TFREG_OUTPUT` asks for; `--output json` with another FORMAT is refused.
        func resolvedFormat() throws -> Format {
            if out.output == .json, let format, format != .json {
                throw ValidationError("--output json prints the json format; drop FORMAT '\(format.rawValue)' or --output")
            }
            if let format { return format }
            return try out.format() == .json ? .json : .token
        }

        @Option(name: [.customLong("time"), .customShort("T")], help: "Seconds until the token expires (the registry caps it).")
        var time: Int = 300

        @Option(name: .customLong("registry"), help: "The registry host, without the protocol (HOST or HOST:PORT).")
        var registryHost: String

        @Option(
            help:
                "Sign GET /token for an IAM-authorizing front end: execute-api (API Gateway) or lambda (Function URL). Default: what the registry's discovery document says."
        )
        var service: String?

        func validate() throws {
            guard time > 0 else { throw ValidationError("--time must be positive") }
            if let service, !["execute-api", "lambda"].contains(service) { throw ValidationError("--service must be execute-api or lambda") }
        }

        func run() async throws {
            let host = try RegistryHost(registryHost)
            let format = try resolvedFormat()
            // Checked before anything is asked of AWS or the registry: `env` cannot name a host with a port.
            var variable: String?
            if format == .env {
                guard let name = TerraformCredentials.environmentVariableName(for: host.name) else {
                    throw CLIError.usage("TF_TOKEN_ variables cannot name a host with a port (\(host.name)); use 'config' or the credentials helper")
                }
                variable = name
            }
            let issued = try await IAMTokenClient.issue(host: host, seconds: time, service: service, caBundle: try ca.checked())
            let token = issued.token
            if let expiresAt = issued.expiresAt {
                // The registry caps lifetimes (MAX_IAM_TOKEN_EXPIRATION_WINDOW); say so rather than let a
                // script find out when the token stops working.
                let granted = expiresAt - SystemClock().now()
                if granted + 5 < Int64(time) {
                    printError(
                        "tfreg: note: the registry capped the token's lifetime to about \(granted) s (asked for \(time) s); it expires at \(rfc3339(expiresAt))"
                    )
                }
            }
            switch format {
            case .token:
                print(token)
            case .config:
                print("credentials \"\(host.name)\" {\n  token = \"\(token)\"\n}")
            case .env:
                guard let name = variable else { throw CLIError("no TF_TOKEN_ variable for \(host.name)") }
                // A whole shell command, the value single-quoted: `eval "$(tfreg token … env || echo false)"`
                // runs exactly this line, and a failure prints nothing here (README, "tfreg token").
                print("export \(name)=\(Self.shellQuoted(token))")
            case .json:
                let answer = JSONValue.object([
                    ("token", .string(token)), ("principal", issued.principal.map { .string($0) } ?? .null),
                    ("expires_at", issued.expiresAt.map { .string(rfc3339($0)) } ?? .null),
                ])
                printJSON(answer)
            }
        }

        /// `text` as one POSIX shell word: single quotes, each `'` written `'\''`.
        static func shellQuoted(_ text: String) -> String {
            "'" + text.replacing("'", with: "'\\''") + "'"
        }
    }
}
