import ArgumentParser
import Glibc
import TFRegAPI
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSigV4
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// The client side of `POST /token` and `GET /token` (which it asks for JSON: `Accept: application/json`).
enum IAMTokenClient {
    /// With `service` (or a discovery document naming an IAM front end) the request is `GET /token`
    /// signed for API Gateway (`execute-api`) or a Function URL (`lambda`); otherwise a presigned
    /// GetCallerIdentity is POSTed to the registry's token endpoint.
    static func fetch(host: RegistryHost, seconds: Int, service requested: String? = nil, caBundle: String? = nil) async throws -> String {
        try await issue(host: host, seconds: seconds, service: requested, caBundle: caBundle).token
    }

    /// A token with the principal and expiry the registry named.
    static func issue(host: RegistryHost, seconds: Int, service requested: String? = nil, caBundle: String? = nil) async throws -> Issued {
        let env = Env.all
        let http = RegistryClient.make(caBundle: caBundle, environment: env)
        let discovery = try await RegistryDiscovery.document(host: host, client: http)
        let aws = Result { () throws(AWSError) in try AWSConfiguration.resolve(environment: env, http: http) }
        return try await fetch(host: host, seconds: seconds, service: requested, discovery: discovery, aws: aws, http: http)
    }

    /// The registry's `/token` answer: the token, the principal it was issued for, its expiry (Unix seconds).
    struct Issued {
        let token: String
        let principal: String?
        let expiresAt: Int64?

        init(_ answer: JSONValue) throws {
            guard let token = answer["token"]?.stringValue else { throw CLIError("the registry's token answer has no token") }
            // One printable word: it is printed into shell lines (`env`) and config blocks.
            self.token = try TokenOptions.checked(token, from: "the registry's token answer")
            principal = answer["principal"]?.stringValue
            expiresAt = answer["expires_at"]?.stringValue.flatMap(parseRFC3339)
        }
    }

    /// Whether `host` is a tfreg registry that issues IAM tokens (for the credentials helper, which
    /// answers `{}` for any other host): its discovery document, or nil.
    static func iamDiscovery(host: RegistryHost, http: any HTTPClient) async -> JSONValue? {
        guard
            let r = try? await http.send(
                HTTPRequest(url: "https://\(host.name)" + ServiceRoute.discovery.path, headers: [RegistryClient.userAgentHeader], timeout: 5)
            ),
            r.status == 200, let doc = try? JSONParser.parse(r.body), issuesTokens(doc)
        else { return nil }
        return doc
    }

    /// Whether a discovery document says the registry issues IAM tokens (`tfreg.v1.auth` lists
    /// `sts-presigned` or `iam-front-end`).
    static func issuesTokens(_ discovery: JSONValue) -> Bool {
        guard case .array(let methods)? = discovery["tfreg.v1"]?["auth"] else { return false }
        return methods.contains(.string("sts-presigned")) || methods.contains(.string("iam-front-end"))
    }

    static func fetch(
        host: RegistryHost,
        seconds: Int,
        service requested: String?,
        discovery: JSONValue,
        aws resolved: Result<AWSConfiguration, AWSError>,
        http: CurlHTTPClient
    ) async throws -> Issued {
        let tfreg = discovery["tfreg.v1"]
        var methods: [JSONValue] = []
        if case .array(let m)? = tfreg?["auth"] { methods = m }
        let path = tfreg?["token"]?.stringValue ?? TokenRoute.exchange.path
        guard path.hasPrefix("/") else { throw CLIError("\(host.name) names an invalid token endpoint") }
        let frontEnd = requested ?? (methods.contains(.string("iam-front-end")) ? tfreg?["token_service"]?.stringValue : nil)
        guard frontEnd != nil || methods.contains(.string("sts-presigned")) else {
            throw CLIError.configuration(
                "\(host.name) does not offer IAM authentication (its discovery document lists no token endpoint); for an API Gateway or Function URL front end pass --service"
            )
        }
        let aws: AWSConfiguration
        do { aws = try resolved.get() } catch { throw CLIError.configuration("AWS configuration: \(error.message)") }
        let credentials: AWSCredentials
        do { credentials = try await aws.credentials.credentials() } catch {
            throw CLIError.denied("no AWS credentials for an IAM token: \(error.message)")
        }
        if let frontEnd {
            // The front end checks this signature itself, for its own region: the one in its host name
            // when it has one, else the one its discovery document names (a custom domain), else ours.
            let labels = host.name.split(separator: ":").first.map { $0.split(separator: ".").map(String.init) } ?? []
            let region =
                labels.firstIndex { $0 == "execute-api" || $0 == "lambda-url" }.flatMap { labels.indices.contains($0 + 1) ? labels[$0 + 1] : nil }
                ?? tfreg?["token_region"]?.stringValue.flatMap { AWSEndpoint.isValidRegion($0) ? $0 : nil } ?? aws.region
            let unsigned = SigV4Request(
                method: "GET",
                path: path,
                query: [("expiration_seconds", String(seconds))],
                headers: [("Host", host.name)],
                body: []
            )
            let signed = SigV4Signer(service: frontEnd, region: region).sign(unsigned, credentials: credentials, now: SystemClock().now())
            let r = try await http.send(
                HTTPRequest(
                    url: "https://\(host.name)\(path)?expiration_seconds=\(seconds)",
                    // JSON with the principal and expiry; without it the registry answers the bare token
                    // as text, for the replaced tool's clients.
                    headers: signed.headers + [("Accept", "application/json"), RegistryClient.userAgentHeader],
                    timeout: 30
                )
            )
            guard r.status == 200, let answer = try? JSONParser.parse(r.body), answer["token"]?.stringValue != nil else {
                throw CLIError.registry(r, action: "get a token from \(host.name)")
            }
            return try Issued(answer)
        }
        // Sign for the regional STS endpoint; the registry, not this client, decides where it goes.
        let stsHost = "sts.\(aws.region).\(AWSEndpoint.dnsSuffix(region: aws.region))"
        let body = "Action=GetCallerIdentity&Version=2011-06-15"
        let unsigned = SigV4Request(
            method: "POST",
            path: "/",
            headers: [
                ("Host", stsHost), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("X-TFReg-Audience", host.name),
                // The registry accepts each signed request once; SigV4 dates have one-second resolution, so
                // two requests signed in the same second would otherwise be the same request.
                (SignedCallerIdentityRequest.nonceHeader, Hex.encode(SecureRandom.bytes(16))),
            ],
            body: Array(body.utf8)
        )
        let signed = SigV4Signer(service: "sts", region: aws.region).sign(unsigned, credentials: credentials, now: SystemClock().now())
        let request = JSONValue.object([
            ("method", .string("POST")), ("url", .string("https://\(stsHost)/")),
            ("headers", .object(signed.headers.map { ($0.name, .string($0.value)) })), ("body", .string(body)),
            ("expiration_seconds", .int(Int64(seconds))),
        ])
        let r = try await http.send(
            HTTPRequest(
                method: "POST",
                url: "https://\(host.name)\(path)",
                headers: [("Content-Type", "application/json"), RegistryClient.userAgentHeader],
                body: request.serialized(),
                timeout: 30
            )
        )
        guard r.status == 200, let answer = try? JSONParser.parse(r.body), answer["token"]?.stringValue != nil else {
            throw CLIError.registry(r, action: "get a token from \(host.name)")
        }
        return try Issued(answer)
    }
}
