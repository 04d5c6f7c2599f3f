import TFRegAPI
import TFRegCore
import TFRegJSON
import TFRegTesting
import Testing

/// `GET /token` as the replaced tool's clients use it: they send `Accept: */*` (python-requests) and use
/// the response text verbatim as the bearer token. tfreg answers the bare token as text unless JSON is
/// asked for; its own clients send `Accept: application/json`.
@Suite struct LegacyTokenTests {
    static let audience = "registry.test:8443"
    static let caller = "arn:aws:sts::123456789012:assumed-role/dev/alice"
    static let keys = StaticTokenKeys(keys: [[UInt8](repeating: 9, count: 32)])

    /// A front-end request: the identity and domain the Lambda adapters would set from the event.
    static func frontEnd(
        _ path: String,
        query: String = "",
        method: String = "GET",
        headers: [(name: String, value: String)] = [],
        arn: String? = caller,
        domain: String? = audience
    ) -> APIRequest {
        var r = APIRequest(method: method, path: path, query: query, headers: [("Host", domain ?? "x.test")] + headers, requestID: "t")
        r.trustedCallerARN = arn
        r.trustedHost = domain
        return r
    }

    /// A registry with version 1.0.0 of acme/vpc/aws and a download grant for the role `dev`.
    static func registry(issuer: Bool) async throws -> APIHarness {
        let h: APIHarness
        if issuer {
            let tokens = SealedTokens(keys: keys, audience: audience)
            h = try APIHarness(tokenIssuer: TokenIssuer(tokens: tokens, verifier: AcceptingVerifier(now: 0)))
        } else {
            h = try APIHarness(frontEndTokens: FrontEndAudienceTokens { SealedTokens(keys: keys, audience: $0) })
        }
        let publisher = try await h.token("publisher", Permissions(upload: true))
        #expect(try await h.publish("1.0.0", token: publisher).status == 201)
        try await h.store.putGrant(
            Grant(namespace: try Namespace("acme"), identity: try Identity("arn:aws:iam::123456789012:role/dev"), permissions: .init(download: true)),
            mode: .create
        )
        return h
    }

    @Test(arguments: [true, false])
    func theOldClientUsesTheResponseTextAsItsBearerToken(configuredAudience: Bool) async throws {
        let h = try await Self.registry(issuer: configuredAudience)
        let r = await h.api.respond(
            to: Self.frontEnd("/token", query: "expiration_seconds=300", headers: [("Accept", "*/*"), ("User-Agent", "python-requests/2.31.0")]),
            logger: h.logger
        )
        #expect(r.status == 200 && r.header("content-type") == "text/plain; charset=utf-8" && r.header("cache-control") == "no-store")
        let token = r.text
        #expect(token.hasPrefix(SealedTokens.prefix) && !token.contains("{") && !token.contains("\n"))
        let versions = await h.api.respond(
            to: Self.frontEnd("/v1/modules/acme/vpc/aws/versions", headers: [("Authorization", "Bearer \(token)")], arn: nil),
            logger: h.logger
        )
        #expect(versions.status == 200 && versions.text.contains(#"{"version":"1.0.0"}"#), "\(versions.text)")
    }

    @Test func jsonOnlyWhenAskedFor() async throws {
        let h = try await Self.registry(issuer: true)
        for (accept, wantsJSON) in [
            (nil, false), ("*/*", false), ("text/plain", false), ("application/json", true), ("application/json; charset=utf-8", true),
            ("text/plain;q=0.5, application/json", true), ("application/json;q=0, */*", false), ("application/*", true),
        ] as [(String?, Bool)] {
            let r = await h.api.respond(to: Self.frontEnd("/token", headers: accept.map { [("Accept", $0)] } ?? []), logger: h.logger)
            #expect(r.status == 200)
            if wantsJSON {
                #expect(r.header("content-type") == "application/json", "\(accept ?? "none")")
                let json = try JSONParser.parse(r.bodyBytes)
                #expect(
                    json["token"]?.stringValue?.hasPrefix("tfi_") == true && json["principal"]?.stringValue == "arn:aws:iam::123456789012:role/dev"
                )
            } else {
                #expect(r.header("content-type")?.hasPrefix("text/plain") == true && r.text.hasPrefix("tfi_"), "\(accept ?? "none")")
            }
        }
    }

    @Test func acceptNegotiation() {
        #expect(!AcceptNegotiation.prefersJSON(nil))
        #expect(!AcceptNegotiation.prefersJSON("*/*"))
        #expect(!AcceptNegotiation.prefersJSON(""))
        #expect(!AcceptNegotiation.prefersJSON("text/*"))
        #expect(AcceptNegotiation.prefersJSON("application/json"))
        #expect(AcceptNegotiation.prefersJSON("APPLICATION/JSON"))
        #expect(AcceptNegotiation.prefersJSON("text/html, application/json;q=0.9, */*;q=0.8"))
        #expect(!AcceptNegotiation.prefersJSON("application/json;q=0.4, text/plain"))
        #expect(!AcceptNegotiation.prefersJSON("application/json;q=0"))
        #expect(!AcceptNegotiation.prefersJSON("application/*;q=0.1, text/*;q=0.5"))
        #expect(AcceptNegotiation.prefersJSON("application/*;q=0, application/json"))
        #expect(AcceptNegotiation.prefersJSON("application/json;q=bogus"))  // a malformed q is ignored (1)
        #expect(!AcceptNegotiation.prefersJSON("application/jsonx, text/plain"))
    }

    @Test func withoutAConfiguredAudienceTokensAreBoundToTheFrontEndsDomain() async throws {
        let h = try await Self.registry(issuer: false)
        let token = await h.api.respond(to: Self.frontEnd("/token"), logger: h.logger).text
        #expect(token.hasPrefix("tfi_"))
        // On another domain the same token is refused: it was sealed for registry.test:8443.
        let elsewhere = await h.api.respond(
            to: Self.frontEnd("/v1/modules/acme/vpc/aws/versions", headers: [("Authorization", "Bearer \(token)")], arn: nil, domain: "other.test"),
            logger: h.logger
        )
        #expect(elsewhere.status == 401)
        // Without a front end naming the domain (serve, ALB) there is no audience to check it against.
        let noDomain = await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: token)
        #expect(noDomain.status == 401)
        let tokenWithoutDomain = await h.api.respond(to: Self.frontEnd("/token", domain: nil), logger: h.logger)
        #expect(tokenWithoutDomain.status == 401)
        // POST /token needs TFREG_AUDIENCE, and says so.
        let post = await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Array("{}".utf8))
        #expect(post.status == 404 && post.text.contains("TFREG_AUDIENCE"), "\(post.text)")
        // Discovery offers GET /token for the service the domain belongs to.
        let doc = try JSONParser.parse(await h.api.respond(to: Self.frontEnd("/.well-known/terraform.json", arn: nil), logger: h.logger).bodyBytes)
        #expect(doc["tfreg.v1"]?["auth"] == .array([.string("static-token"), .string("iam-front-end")]))
        #expect(doc["tfreg.v1"]?["token_service"]?.stringValue == "execute-api" && doc["tfreg.v1"]?["token"]?.stringValue == "/token")
    }

    @Test func postTokenStaysJSON() async throws {
        // POST /token answers JSON whatever Accept says: its only clients are tfreg's own.
        let clock = TestClock(ReplayTests.signedAt + 60)
        let tokens = SealedTokens(keys: Self.keys, audience: ReplayTests.audience, clock: clock)
        let h = try APIHarness(tokenIssuer: TokenIssuer(tokens: tokens, verifier: AcceptingVerifier(now: ReplayTests.signedAt + 60)))
        let r = await h.send(
            "POST",
            "/token",
            headers: [("Content-Type", "application/json"), ("Accept", "*/*")],
            body: ReplayTests.body(signature: ReplayTests.sigA)
        )
        #expect(r.status == 200 && r.header("content-type") == "application/json", "\(r.text)")
        #expect(try JSONParser.parse(r.bodyBytes)["token"]?.stringValue?.hasPrefix("tfi_") == true)
    }
}
