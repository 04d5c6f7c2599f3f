import TFRegCrypto
import TFRegTesting
import Testing
@testable import TFRegCore

/// Counts key lookups, to show what verification costs.
final class CountingKeys: TokenKeySource, @unchecked Sendable {
    let inner: StaticTokenKeys
    var lookups = 0
    init(_ keys: [[UInt8]]) { inner = StaticTokenKeys(keys: keys) }
    func currentKey() async throws(RegistryError) -> TokenKey { try await inner.currentKey() }
    func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]? { lookups += 1; return try await inner.key(id: id) }
}

@Suite struct SealedTokenTests {
    let clock = TestClock()
    let keyA = SecureRandom.bytes(32)
    let role = try! Identity("arn:aws:sts::123456789012:assumed-role/deployer/ci")

    func tokens(_ keys: [[UInt8]]? = nil, audience: String = "registry.example.com", max: Int64 = 3600) -> SealedTokens {
        SealedTokens(keys: StaticTokenKeys(keys: keys ?? [keyA]), audience: audience, maxLifetime: max, clock: clock)
    }

    @Test func roundTripCarriesTheNormalizedPrincipalAndCapsTheLifetime() async throws {
        let t = tokens()
        let (token, expires) = try await t.issue(for: role, requested: 300)
        #expect(token.hasPrefix("tfi_") && expires == clock.now() + 300)
        let claims = try await t.verify(token)
        #expect(claims.subject.value == "arn:aws:iam::123456789012:role/deployer" && claims.audience == "registry.example.com")
        #expect(claims.expiresAt - claims.issuedAt == 300 && claims.id.count == 16)
        #expect(try await t.issue(for: role, requested: 999_999).expiresAt == clock.now() + 3600)
        #expect(try await t.issue(for: role, requested: 1).expiresAt == clock.now() + 60)
        // Two tokens for the same caller differ (random id and nonce).
        #expect(try await t.issue(for: role, requested: 300).token != token)
    }

    @Test func expiredTokensAreRefusedWithoutAKeyLookup() async throws {
        let keys = CountingKeys([keyA])
        let t = SealedTokens(keys: keys, audience: "r", maxLifetime: 3600, clock: clock)
        let (token, _) = try await t.issue(for: role, requested: 120)
        _ = try await t.verify(token)
        clock.advance(120)
        let before = keys.lookups
        await #expect(throws: RegistryError.unauthenticated("")) { try await t.verify(token) }
        #expect(keys.lookups == before)
    }

    @Test func tamperedTruncatedForeignAndMisdirectedTokensAreRefused() async throws {
        let t = tokens()
        let (token, _) = try await t.issue(for: role, requested: 600)
        let raw = Base64.decode(token.dropFirst(4), urlSafe: true)!
        func encoded(_ b: [UInt8]) -> String { "tfi_" + Base64.encode(b, urlSafe: true) }
        var bad: [String] = []
        for i in 0..<raw.count { var b = raw; b[i] ^= 0x01; bad.append(encoded(b)) }  // a bit flipped in every byte position
        bad.append(encoded(Array(raw.dropLast())))                       // truncated tag
        bad.append(encoded(Array(raw.prefix(20))))                       // truncated header
        bad.append(encoded(raw + [0]))                                   // trailing byte
        bad += ["tfi_", "tfi_!!!!", token + "A", "tfr_" + token.dropFirst(4), String(repeating: "A", count: 5000)]
        for b in bad {
            await #expect(throws: RegistryError.unauthenticated(""), "\(b.prefix(40))") { try await t.verify(b) }
        }
        // Another registry's audience, another key, a lower maximum lifetime now in force.
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens(audience: "other.example.com").verify(token) }
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens([SecureRandom.bytes(32)]).verify(token) }
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens(max: 300).verify(token) }
    }

    @Test func rotationKeepsOlderKeysVerifyingAndSealsWithTheNewest() async throws {
        let keyB = SecureRandom.bytes(32)
        let (old, _) = try await tokens([keyA]).issue(for: role, requested: 300)
        let rotated = tokens([keyB, keyA])
        #expect(try await rotated.verify(old).subject.value == "arn:aws:iam::123456789012:role/deployer")
        let (new, _) = try await rotated.issue(for: role, requested: 300)
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens([keyA]).verify(new) }
    }

    @Test func staticTokenIdentitiesCannotBeSealed() async throws {
        // A sealed token only ever names an IAM principal.
        let t = tokens()
        let (token, _) = try await t.issue(for: try Identity.token(named: "ci"), requested: 300)
        await #expect(throws: RegistryError.unauthenticated("")) { try await t.verify(token) }
    }
}
