import Synchronization
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem
import Testing

@testable import TFRegStoreAWS

/// Stands in for KMS: GenerateDataKey hands out one data key; Decrypt unwraps that key's blob and
/// refuses anything else as KMS does (400 InvalidCiphertextException). Counts every call.
final class FakeKMS: HTTPClient {
    static let blob = [UInt8](repeating: 0xB1, count: 184)
    static let material = [UInt8](repeating: 7, count: 32)
    private let counts = Mutex<[String: Int]>([:])

    func count(_ operation: String) -> Int { counts.withLock { $0[operation] ?? 0 } }

    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let op = request.headers.first { $0.name.lowercased() == "x-amz-target" }.map { String($0.value.split(separator: ".").last ?? "") } ?? ""
        counts.withLock { $0[op, default: 0] += 1 }
        let body = try? JSONValue(parsing: request.body, options: .answers)
        switch op {
        case "GenerateDataKey":
            let answer: JSONValue = .object([
                ("Plaintext", .string(Base64.encode(Self.material))), ("CiphertextBlob", .string(Base64.encode(Self.blob))), ("KeyId", .string("k")),
            ])
            return HTTPResponse(status: 200, headers: [], body: answer.serialized())
        case "Decrypt" where body?["CiphertextBlob"]?.stringValue == Base64.encode(Self.blob):
            return HTTPResponse(status: 200, headers: [], body: JSONValue.object([("Plaintext", .string(Base64.encode(Self.material)))]).serialized())
        default:
            return HTTPResponse(status: 400, headers: [], body: Array(#"{"__type":"InvalidCiphertextException","message":"no"}"#.utf8))
        }
    }
}

struct FixedClock: WallClock {
    let value: Int64
    func now() -> Int64 { value }
}

@Suite struct KMSTokenKeysTests {
    static let audience = "registry.example.com"
    static let now: Int64 = 1_800_000_000

    static func keys(_ http: FakeKMS, clock: any WallClock = FixedClock(value: now)) -> KMSTokenKeys {
        let aws = AWSClient(
            http: http,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "secret")),
            region: "us-east-1",
            environment: [:]
        )
        return KMSTokenKeys(kms: KMSClient(client: aws), keyID: "alias/tfreg", audience: audience, clock: clock)
    }

    /// A well-formed `tfi_` token naming `keyID`, valid for ten minutes: what anyone can make.
    static func forged(keyID: [UInt8]) -> String {
        var bytes: [UInt8] = [1, UInt8(keyID.count >> 8), UInt8(keyID.count & 0xff)] + keyID
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: UInt64(now + 600) >> (8 * UInt64(7 - $0))) }
        bytes += SecureRandom.bytes(12 + 40 + 16)
        return SealedTokens.prefix + Base64.encode(bytes, urlSafe: true)
    }

    /// Issue 17: a `tfi_` token with a random key id cost one KMS Decrypt each, so an unauthenticated
    /// caller could make the registry spend KMS requests at will. 1 000 such tokens now cost at most the
    /// budget's burst; the same id twice costs one; a token with a known key still verifies.
    @Test func randomKeyIDsCostABoundedNumberOfDecrypts() async throws {
        let kms = FakeKMS()
        let keys = Self.keys(kms)
        let tokens = SealedTokens(keys: keys, audience: Self.audience, clock: FixedClock(value: Self.now))
        let role = try Identity("arn:aws:iam::123456789012:role/deployer")
        let (good, _) = try await tokens.issue(for: role, requested: 600)
        var unauthenticated = 0
        var unavailable = 0
        for _ in 0..<1_000 {
            do {
                _ = try await tokens.verify(Self.forged(keyID: SecureRandom.bytes(184)))
                Issue.record("a forged token verified")
            } catch {
                if error.code == .unauthenticated { unauthenticated += 1 } else if error.code == .unavailable { unavailable += 1 }
            }
        }
        #expect(kms.count("Decrypt") == KMSTokenKeys.defaultUnknownKeyBurst, "Decrypts: \(kms.count("Decrypt"))")
        #expect(unauthenticated == KMSTokenKeys.defaultUnknownKeyBurst)
        #expect(unavailable == 1_000 - KMSTokenKeys.defaultUnknownKeyBurst)
        // The registry's own key is known: verifying its tokens needs no Decrypt and no budget.
        #expect(try await tokens.verify(good).subject == role)
        #expect(kms.count("Decrypt") == KMSTokenKeys.defaultUnknownKeyBurst)
    }

    /// A refused id is remembered: the same forged token again and again costs one Decrypt.
    @Test func aRefusedKeyIDIsRemembered() async throws {
        let kms = FakeKMS()
        let keys = Self.keys(kms)
        let id = SecureRandom.bytes(184)
        for _ in 0..<100 { #expect(try await keys.key(id: id) == nil) }
        #expect(kms.count("Decrypt") == 1)
    }

    /// The budget refills with time, and a key another process made is unwrapped once and then cached.
    @Test func theBudgetRefillsAndKnownKeysAreCached() async throws {
        final class Clock: WallClock, @unchecked Sendable {
            var value = KMSTokenKeysTests.now
            func now() -> Int64 { value }
        }
        let clock = Clock()
        let kms = FakeKMS()
        let keys = Self.keys(kms, clock: clock)
        for _ in 0..<KMSTokenKeys.defaultUnknownKeyBurst { #expect(try await keys.key(id: SecureRandom.bytes(32)) == nil) }
        await #expect(throws: RegistryError.unavailable("", detail: nil)) { try await keys.key(id: FakeKMS.blob) }
        clock.value += 1
        #expect(try await keys.key(id: FakeKMS.blob) == FakeKMS.material)
        #expect(try await keys.key(id: FakeKMS.blob) == FakeKMS.material)
        #expect(kms.count("Decrypt") == KMSTokenKeys.defaultUnknownKeyBurst + 1)
    }
}
