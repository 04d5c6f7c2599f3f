import TFRegAPI
import TFRegCore
import TFRegStoreLocal
import TFRegTesting
import Testing

/// Stands in for STS: applies every check of `validate` and answers with a fixed principal (what STS
/// does with any genuinely signed request, as often as it is sent within 15 minutes).
struct AcceptingVerifier: CallerIdentityVerifier {
    let now: Int64
    func verify(_ request: SignedCallerIdentityRequest, audience: String) async throws(RegistryError) -> Identity {
        _ = try request.validate(audience: audience, now: now)
        // The account is the access key id's digits when it has 12 (AKID123456789012), else the fixed one.
        let auth = request.headers.first { $0.name.lowercased() == "authorization" }?.value ?? ""
        let akid = auth.firstRange(of: "Credential=AKID").map { auth[$0.upperBound...].prefix(12) } ?? ""
        let account = akid.count == 12 && akid.allSatisfy(\.isNumber) ? String(akid) : "123456789012"
        return try Identity("arn:aws:iam::\(account):role/ci")
    }
}

@Suite struct ReplayTests {
    static let audience = "registry.test:8443"
    /// 2026-11-26T10:00:00Z.
    static let signedAt: Int64 = 1_795_687_200
    static let sigA = String(repeating: "a1", count: 32)
    static let sigB = String(repeating: "b2", count: 32)

    static func body(signature: String, accessKey: String = "AKIDEXAMPLE") -> [UInt8] {
        let auth =
            "AWS4-HMAC-SHA256 Credential=\(accessKey)/20261126/us-east-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-tfreg-audience, Signature=\(signature)"
        return Array(
            """
            {"method": "POST", "url": "https://sts.us-east-1.amazonaws.com/", "body": "Action=GetCallerIdentity&Version=2011-06-15",
             "headers": {"Host": "sts.us-east-1.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded", "X-Amz-Date": "20261126T100000Z",
                         "X-TFReg-Audience": "\(audience)", "Authorization": "\(auth)"}}
            """.utf8
        )
    }

    func harness(_ replayGuard: (any ReplayGuard)?) throws -> APIHarness {
        let clock = TestClock(Self.signedAt + 60)
        let tokens = SealedTokens(keys: StaticTokenKeys(keys: [[UInt8](repeating: 9, count: 32)]), audience: Self.audience, clock: clock)
        return try APIHarness(
            tokenIssuer: TokenIssuer(tokens: tokens, verifier: AcceptingVerifier(now: Self.signedAt + 60), replayGuard: replayGuard)
        )
    }

    /// The attack: one presigned GetCallerIdentity exchanged twice. With the guard the second is a 401.
    @Test func theSameSignedRequestIsExchangedOnce() async throws {
        let h = try harness(MemoryReplayGuard(clock: TestClock(Self.signedAt + 60)))
        let first = await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: Self.sigA))
        #expect(first.status == 200, "\(first.text)")
        let replay = await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: Self.sigA))
        #expect(replay.status == 401)
        #expect(replay.text == #"{"errors":["this signed request was already used; sign a new one"]}"#, "\(replay.text)")
        let upper = await h.send(
            "POST",
            "/token",
            headers: [("Content-Type", "application/json")],
            body: Self.body(signature: Self.sigA.uppercased())
        )
        #expect(upper.status == 401, "the signature in upper case is the same request: \(upper.text)")
        // Found by review: trailing whitespace (which STS may ignore) made a new key for the same request.
        for variant in [Self.sigA + "\\t", Self.sigA + " ", " " + Self.sigA + "\\t\\t"] {
            let r = await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: variant))
            #expect(r.status == 401 || r.status == 400, "\(variant.debugDescription): \(r.status) \(r.text)")
        }
        // Not a SigV4 signature at all: refused before anything is recorded.
        #expect(await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: "a1")).status == 400)
        let fresh = await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: Self.sigB))
        #expect(fresh.status == 200, "a newly signed request still works: \(fresh.text)")
    }

    /// What the guard closes: without it, the same request is exchanged again and again.
    @Test func withoutTheGuardAReplayIsAccepted() async throws {
        let h = try harness(nil)
        for _ in 0..<2 {
            #expect(
                await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: Self.body(signature: Self.sigA)).status == 200
            )
        }
    }

    /// Finding 6 of issue 17: anyone with an AWS account could fill the guard (100 000 exchanges in 15
    /// minutes) and every other caller's exchange then answered 503. Now one account holds at most a
    /// twentieth of it: its own exchanges beyond that are refused (429), another account's still succeed.
    @Test func oneAccountCannotFillTheGuardForOthers() async throws {
        let g = MemoryReplayGuard(capacity: 100, clock: TestClock(Self.signedAt + 60))
        let h = try harness(g)
        func exchange(_ n: Int, account: String) async -> APIResponse {
            let hex = String(n, radix: 16)
            let signature = String(repeating: "0", count: 64 - hex.count) + hex
            return await h.send(
                "POST",
                "/token",
                headers: [("Content-Type", "application/json")],
                body: Self.body(signature: signature, accessKey: "AKID\(account)")
            )
        }
        var refused = 0
        for n in 0..<100 {
            let r = await exchange(n, account: "111111111111")
            if r.status == 429 {
                refused += 1
                #expect(r.header("Retry-After") == "60")
            } else {
                #expect(r.status == 200, "\(r.status) \(r.text)")
            }
        }
        #expect(refused == 95, "the attacker's account is held to 5 of 100 places")
        #expect(g.count(of: "aws:111111111111") == 5)
        let other = await exchange(1_000, account: "222222222222")
        #expect(other.status == 200, "another account still exchanges: \(other.status) \(other.text)")
        #expect(g.count(of: "aws:222222222222") == 1)
    }

    /// A request refused before the claim (here: for another registry) takes no place in the guard.
    @Test func refusedRequestsAreNotRecorded() async throws {
        let g = MemoryReplayGuard(clock: TestClock(Self.signedAt + 60))
        let h = try harness(g)
        let other = Array(
            String(decoding: Self.body(signature: String(repeating: "c3", count: 32)), as: UTF8.self).replacing(
                Self.audience,
                with: "elsewhere.example"
            ).utf8
        )
        #expect(await h.send("POST", "/token", headers: [("Content-Type", "application/json")], body: other).status == 401)
        #expect(g.count == 0)
    }
}

@Suite struct MemoryReplayGuardTests {
    @Test func expiredEntriesAreForgottenAndAFullGuardRefuses() async throws {
        let clock = TestClock(1_000)
        let g = MemoryReplayGuard(capacity: 3, perOwnerCapacity: 10, clock: clock)
        #expect(try await g.claim("a", owner: "aws:1", until: 1_100))
        #expect(try await !g.claim("a", owner: "aws:1", until: 1_100))
        #expect(try await g.claim("b", owner: "aws:1", until: 1_200))
        #expect(try await g.claim("c", owner: "aws:1", until: 1_200))
        // Full of live entries: refused (503), and "a" is still remembered.
        await #expect(throws: RegistryError.unavailable("", detail: nil)) { try await g.claim("d", owner: "aws:1", until: 1_200) }
        #expect(try await !g.claim("a", owner: "aws:1", until: 1_100))
        clock.advance(101)  // "a" expired: swept when full, its place reused, and it may be claimed again
        #expect(try await g.claim("d", owner: "aws:1", until: 1_300))
        #expect(g.count == 3)
        await #expect(throws: RegistryError.unavailable("", detail: nil)) { try await g.claim("a", owner: "aws:1", until: 1_300) }
        clock.advance(100)
        #expect(try await g.claim("a", owner: "aws:1", until: 1_400))
        #expect(g.count == 2)
    }

    /// The per-owner bound: an owner at its share is refused (429) without touching others; its expired
    /// entries are swept and free its places; a replay is still a replay when the owner is full.
    @Test func eachOwnerHoldsAtMostItsShare() async throws {
        let clock = TestClock(1_000)
        let g = MemoryReplayGuard(capacity: 10, perOwnerCapacity: 2, clock: clock)
        #expect(try await g.claim("a1", owner: "aws:a", until: 1_100))
        #expect(try await g.claim("a2", owner: "aws:a", until: 1_200))
        await #expect(throws: RegistryError.tooManyExchanges) { try await g.claim("a3", owner: "aws:a", until: 1_200) }
        #expect(try await !g.claim("a1", owner: "aws:a", until: 1_100))
        #expect(try await g.claim("b1", owner: "aws:b", until: 1_100))
        #expect(try await g.claim("b2", owner: "aws:b", until: 1_100))
        clock.advance(101)  // a1, b1 and b2 expired
        #expect(try await g.claim("a3", owner: "aws:a", until: 1_300))
        #expect(g.count(of: "aws:a") == 2)
        #expect(g.count(of: "aws:b") == 0)
        // An expired key claimed again by another owner moves to that owner.
        clock.advance(100)  // a2 expired too (1 201 > 1 200)
        #expect(try await g.claim("a2", owner: "aws:b", until: 1_400))
        #expect(g.count(of: "aws:a") == 1)
        #expect(g.count(of: "aws:b") == 1)
    }

    /// The cost the guard adds to a token exchange: 10 000 claims of distinct keys (printed; the
    /// bound is generous so a shared machine does not fail it).
    @Test func tenThousandClaims() async throws {
        let g = MemoryReplayGuard(perOwnerCapacity: 10_000)
        let keys = (0..<10_000).map { "\($0)-" + String(repeating: "f", count: 58) }
        let clock = ContinuousClock()
        let elapsed = try await clock.measure {
            for k in keys { _ = try await g.claim(k, owner: "aws:1", until: Int64.max) }
        }
        print("MemoryReplayGuard: 10000 claims in \(elapsed)")
        #expect(g.count == 10_000)
        #expect(elapsed < .seconds(5))
    }
}
