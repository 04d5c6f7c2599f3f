import Logging
import TFRegAPI
import TFRegCore
import TFRegStoreLocal
import TFRegTesting
import Testing

@testable import TFRegLambda

/// Issue 17: `tfreg lambda` built download links from the event's Host header when no public URL was
/// set, and a caller can send any Host. Links now come from the configured URL or the front end's
/// domain (`requestContext.domainName`) only; behind an ALB, which reports none, a link needs the
/// configured URL.
@Suite struct LinkBaseTests {
    struct NoCanonicalizer: ArchiveCanonicalizer {
        func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive { throw .badRequest("not in this test") }
    }

    /// A registry with one version of acme/vpc/aws served by the registry itself (signed links), and a
    /// token that may download it.
    static func handler(format: EventFormat, publicURL: String? = nil) async throws -> (LambdaHandler, String, TemporaryDirectory) {
        let dir = TemporaryDirectory("tfreg-lambda-links")
        let store = InMemoryMetadataStore()
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let digest = String(repeating: "ab", count: 32)
        try await store.insertVersion(
            ModuleVersionRecord(
                module: module,
                version: try Version("1.0.0"),
                location: ArchiveLocation(key: "x.tar.gz"),
                sha256: digest,
                size: 1,
                publishedAt: 0
            )
        )
        let secret = StaticTokenAuthenticator.generate()
        let id = try Identity.token(named: "ci")
        try await store.createStaticToken(id, hash: StaticTokenAuthenticator.digest(of: secret), createdAt: 0)
        try await store.putGrant(Grant(namespace: try Namespace("acme"), identity: id, permissions: Permissions(download: true)), mode: .create)
        let api = RegistryAssembly(
            store: store,
            storage: try FileArchiveStorage(root: dir.path),
            canonicalizer: NoCanonicalizer(),
            linkKey: [UInt8](repeating: 7, count: 32),
            configuration: APIConfiguration(publicURL: publicURL, version: "test")
        ).api
        return (LambdaHandler(api: api, configured: format), secret, dir)
    }

    static func event(_ format: EventFormat, token: String, host: String, domain: String) -> String {
        let path = "/v1/modules/acme/vpc/aws/1.0.0/download"
        switch format {
        case .alb:
            return """
                {"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/t/1"}},
                 "httpMethod": "GET", "path": "\(path)", "headers": {"authorization": "Bearer \(token)", "host": "\(host)"}, "body": "", "isBase64Encoded": false}
                """
        case .restV1:
            return """
                {"resource": "/{proxy+}", "path": "\(path)", "httpMethod": "GET", "headers": {"Authorization": "Bearer \(token)", "Host": "\(host)"},
                 "requestContext": {"requestId": "r", "domainName": "\(domain)", "stage": "prod"}, "body": null, "isBase64Encoded": false}
                """
        case .httpV2, .functionURL:
            return """
                {"version": "2.0", "routeKey": "$default", "rawPath": "\(path)", "rawQueryString": "",
                 "headers": {"authorization": "Bearer \(token)", "host": "\(host)"},
                 "requestContext": {"domainName": "\(domain)", "http": {"method": "GET", "path": "\(path)"}, "requestId": "r"}, "isBase64Encoded": false}
                """
        }
    }

    static func answer(_ handler: LambdaHandler, _ event: String) async throws -> JSONAnswer {
        let bytes = try await handler.handle(Invocation(requestID: "r", event: Array(event.utf8)), logger: Logger(label: "test"))
        return JSONAnswer(String(decoding: bytes, as: UTF8.self))
    }

    struct JSONAnswer {
        let text: String
        init(_ text: String) { self.text = text }
    }

    @Test(arguments: [EventFormat.httpV2, .functionURL, .restV1])
    func linksNameTheFrontEndsDomainNotTheHostHeader(_ format: EventFormat) async throws {
        let domain = format == .functionURL ? "abcdefg.lambda-url.us-east-1.on.aws" : "abc123.execute-api.us-east-1.amazonaws.com"
        let (handler, token, dir) = try await Self.handler(format: format)
        defer { dir.remove() }
        let answer = try await Self.answer(handler, Self.event(format, token: token, host: "evil.example", domain: domain))
        #expect(answer.text.contains(#""statusCode":204"#), "\(answer.text)")
        #expect(answer.text.contains("https://\(domain)/v1/archives/acme/vpc/aws/1.0.0/"), "\(answer.text)")
        #expect(!answer.text.contains("evil.example"), "\(answer.text)")
    }

    /// An ALB reports no domain: the Host header is not used; with a public URL configured, that names the link.
    @Test func behindAnALBOnlyTheConfiguredURL() async throws {
        let (bare, token, dir) = try await Self.handler(format: .alb)
        defer { dir.remove() }
        let refused = try await Self.answer(bare, Self.event(.alb, token: token, host: "evil.example", domain: ""))
        #expect(!refused.text.contains("evil.example"), "\(refused.text)")
        #expect(refused.text.contains(#""statusCode":500"#), "\(refused.text)")
        let (configured, token2, dir2) = try await Self.handler(format: .alb, publicURL: "https://registry.example.com")
        defer { dir2.remove() }
        let ok = try await Self.answer(configured, Self.event(.alb, token: token2, host: "evil.example", domain: ""))
        #expect(ok.text.contains("https://registry.example.com/v1/archives/acme/vpc/aws/1.0.0/"), "\(ok.text)")
        #expect(!ok.text.contains("evil.example"), "\(ok.text)")
    }
}
