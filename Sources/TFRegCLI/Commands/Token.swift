import ArgumentParser
import TFRegAPI
import TFRegAWS
import TFRegCore
import TFRegHTTPClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif
#if canImport(Glibc)
import Glibc
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
                FORMAT is token (the raw token), config (a credentials block for the Terraform CLI config) or \
                env (a TF_TOKEN_… line; not possible for a host with a port).
                """)

        enum Format: String, ExpressibleByArgument, CaseIterable { case token, config, env }

        @Argument(help: "token, config or env.")
        var format: Format

        @Option(name: [.customLong("time"), .customShort("T")], help: "Seconds until the token expires (the registry caps it).")
        var time: Int = 300

        @Option(name: [.customLong("registry-host"), .customShort("r")], help: "The registry host, without the protocol (HOST or HOST:PORT).")
        var registryHost: String

        func validate() throws {
            guard time > 0 else { throw ValidationError("--time must be positive") }
        }

        func run() async throws {
            let host = try RegistryHost(registryHost)
            let token = try await IAMTokenClient.fetch(host: host, seconds: time)
            switch format {
            case .token:
                print(token)
            case .config:
                print("credentials \"\(host.name)\" {\n  token = \"\(token)\"\n}")
            case .env:
                guard let name = TerraformCredentials.environmentVariableName(for: host.name) else {
                    throw CLIFailure("TF_TOKEN_ variables cannot name a host with a port (\(host.name)); use 'config' or the credentials helper")
                }
                print("\(name)=\(token)")
            }
        }
    }
}

/// The client side of `POST /token`.
enum IAMTokenClient {
    static func fetch(host: RegistryHost, seconds: Int) async throws -> String {
        let env = Env.all
        let http = CurlHTTPClient(caBundle: env["SSL_CERT_FILE"] ?? env["AWS_CA_BUNDLE"])
        let discovery = try await RegistryDiscovery.document(host: host, client: http)
        guard let tfreg = discovery["tfreg.v1"], case .array(let methods)? = tfreg["auth"],
            methods.contains(.string("sts-presigned")), let path = tfreg["token"]?.stringValue, path.hasPrefix("/")
        else {
            throw CLIFailure("\(host.name) does not offer IAM authentication (its discovery document lists no sts-presigned token endpoint)")
        }
        let aws: AWSConfiguration
        do { aws = try AWSConfiguration.resolve(environment: env, http: http) } catch { throw CLIFailure("AWS configuration: \(error.message)") }
        let credentials: AWSCredentials
        do { credentials = try await aws.credentials.credentials() } catch { throw CLIFailure("AWS credentials: \(error.message)") }
        // Sign for the regional STS endpoint; the registry, not this client, decides where it goes.
        let stsHost = "sts.\(aws.region).\(AWSEndpoint.dnsSuffix(region: aws.region))"
        let body = "Action=GetCallerIdentity&Version=2011-06-15"
        let unsigned = SigV4Request(
            method: "POST", path: "/",
            headers: [("Host", stsHost), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("X-TFReg-Audience", host.name)],
            body: Array(body.utf8))
        let signed = SigV4Signer(service: "sts", region: aws.region).sign(unsigned, credentials: credentials, now: Int64(time(nil)))
        let request = JSONValue.object([
            ("method", .string("POST")), ("url", .string("https://\(stsHost)/")),
            ("headers", .object(signed.headers.map { ($0.name, .string($0.value)) })), ("body", .string(body)),
            ("expiration_seconds", .int(Int64(seconds))),
        ])
        let r = try await http.send(HTTPRequest(
            method: "POST", url: "https://\(host.name)\(path)",
            headers: [("Content-Type", "application/json"), ("User-Agent", "tfreg/\(TFReg.version)")], body: request.serialized(), timeout: 30))
        guard r.status == 200, let answer = try? JSONParser.parse(r.body), let token = answer["token"]?.stringValue else {
            throw RegistryClientError.from(r, action: "get a token from \(host.name)")
        }
        return token
    }
}
