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
    func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]? {
        lookups += 1
        return try await inner.key(id: id)
    }
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
        for i in 0..<raw.count {
            var b = raw
            b[i] ^= 0x01
            bad.append(encoded(b))
        }  // a bit flipped in every byte position
        bad.append(encoded(Array(raw.dropLast())))  // truncated tag
        bad.append(encoded(Array(raw.prefix(20))))  // truncated header
        bad.append(encoded(raw + [0]))  // trailing byte
        bad += ["tfi_", "tfi_!!!!", token + "A", "tfr_" + token.dropFirst(4), String(repeating: "A", count: 5000)]
        for b in bad {
            await #expect(throws: RegistryError.unauthenticated(""), "\(b.prefix(40))") { try await t.verify(b) }
        }
        // Another registry's audience, another key, a lower maximum lifetime now in force.
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens(audience: "other.example.com").verify(token) }
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens([SecureRandom.bytes(32)]).verify(token) }
        await #expect(throws: RegistryError.unauthenticated("")) { try await tokens(max: 300).verify(token) }
    }

    /// Found by the hostile review: an expiry above Int64.max trapped (a crash of the whole server)
    /// before any key was looked up. Every such token must be an ordinary 401.
    @Test func hostileHeadersNeverTrap() async throws {
        let t = tokens()
        let crashing = "tfi_AQAAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
        await #expect(throws: RegistryError.unauthenticated("")) { try await t.verify(crashing) }
        // 1 000 random headers of every length up to 120 bytes, with the expiry's top bit set or not
        // (fixed seed, so a failure is reproducible).
        var rng = SplitMix64(seed: 0x7F4A_7C15)
        let (good, _) = try await t.issue(for: role, requested: 600)
        let raw = Base64.decode(good.dropFirst(4), urlSafe: true)!
        for i in 0..<1000 {
            var b: [UInt8]
            if i % 2 == 0 {
                b = (0..<Int(rng.next() % 121)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
                if !b.isEmpty { b[0] = 1 }
            } else {
                b = raw
                // XOR with a non-zero byte: the mutation always changes the token.
                b[Int(rng.next() % UInt64(b.count))] ^= UInt8(1 + rng.next() % 255)
                if rng.next() % 2 == 0 { b[11] |= 0x80 }  // the expiry's top byte (after version, id length, 8-byte id)
                // A random byte can equal the one it replaces (the token is random, the seed is not):
                // then nothing was mutated and the genuine token rightly verifies.
                if b == raw { b[0] ^= 0x01 }
            }
            let token = "tfi_" + Base64.encode(b, urlSafe: true)
            await #expect(throws: RegistryError.unauthenticated(""), "\(token.prefix(60))") { try await t.verify(token) }
        }
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

/// A small deterministic generator for reproducible hostile inputs.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
