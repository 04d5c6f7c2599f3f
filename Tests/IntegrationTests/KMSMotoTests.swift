import Foundation
import TFRegAWS
import TFRegCore
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegTesting
import Testing

/// Counts the AWS operations (X-Amz-Target) that pass through.
final class CountingHTTPClient: HTTPClient, @unchecked Sendable {
    let inner = CurlHTTPClient()
    let lock = NSLock()
    var operations: [String: Int] = [:]
    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let op = request.headers.first { $0.name.lowercased() == "x-amz-target" }.map { String($0.value.split(separator: ".").last ?? "") } ?? "other"
        lock.withLock { operations[op, default: 0] += 1 }
        return try await inner.send(request)
    }
    func count(_ op: String) -> Int { lock.withLock { operations[op] ?? 0 } }
}

extension MotoBackedTests {
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct KMSMotoTests {
        @Test func envelopeRoundTrip() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let kms = KMSClient(client: moto.client())
            let key = try await kms.createKey(description: "tfreg tokens")
            let context = ["registry": "registry.example.com"]
            let dataKey = try await kms.generateDataKey(keyID: key, context: context)
            #expect(dataKey.plaintext.count == 32)
            #expect(dataKey.ciphertext != dataKey.plaintext)
            #expect(try await kms.decrypt(ciphertext: dataKey.ciphertext, context: context) == dataKey.plaintext)
            let sealed = try await kms.encrypt(keyID: key, plaintext: Array("secret".utf8), context: context)
            #expect(try await kms.decrypt(ciphertext: sealed, keyID: key, context: context) == Array("secret".utf8))
            // A wrong encryption context is refused.
            await #expect(throws: AWSError.self) { try await kms.decrypt(ciphertext: sealed, context: ["registry": "other"]) }
            // And a wrong secret never gets that far.
            let e = await #expect(throws: AWSError.self) { try await KMSClient(client: moto.client(secret: "wrong")).generateDataKey(keyID: key) }
            #expect(e?.kind == .authentication)
        }

        /// Envelope-sealed tokens: one GenerateDataKey per hour per process, one Decrypt per data key per
        /// process, and none at all after that — verifying a token makes no KMS call after the first use.
        @Test func sealedTokensCallKMSOncePerDataKey() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let key = try await KMSClient(client: moto.client()).createKey(description: "tfreg tokens")
            func process(_ http: CountingHTTPClient, _ clock: TestClock, audience: String = "registry.example.com") -> SealedTokens {
                let client = AWSClient(
                    http: http,
                    credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
                    region: "us-east-1",
                    environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                    timeout: 60
                )
                return SealedTokens(
                    keys: KMSTokenKeys(kms: KMSClient(client: client), keyID: key, audience: audience, clock: clock),
                    audience: audience,
                    clock: clock
                )
            }
            let clock = TestClock(Int64(Date().timeIntervalSince1970))
            let issuerHTTP = CountingHTTPClient()
            let issuer = process(issuerHTTP, clock)
            let role = try Identity("arn:aws:iam::123456789012:role/deployer")
            let (t1, _) = try await issuer.issue(for: role, requested: 600)
            let (t2, _) = try await issuer.issue(for: role, requested: 600)
            #expect(issuerHTTP.count("GenerateDataKey") == 1)
            // The issuing process verifies without KMS; another process (a second Lambda container)
            // decrypts the data key once and then never again.
            _ = try await issuer.verify(t1)
            #expect(issuerHTTP.count("Decrypt") == 0)
            let otherHTTP = CountingHTTPClient()
            let other = process(otherHTTP, clock)
            for t in [t1, t2, t1, t2] { #expect(try await other.verify(t).subject == role) }
            #expect(otherHTTP.count("Decrypt") == 1)
            // After an hour a new data key seals; old tokens still verify until they expire.
            clock.advance(3601)
            let (t3, _) = try await issuer.issue(for: role, requested: 600)
            #expect(issuerHTTP.count("GenerateDataKey") == 2)
            #expect(try await other.verify(t3).subject == role)
            #expect(otherHTTP.count("Decrypt") == 2)
            // Another registry's process (another encryption context) cannot unwrap the data key.
            await #expect(throws: RegistryError.unauthenticated("")) {
                try await process(CountingHTTPClient(), clock, audience: "other.example.com").verify(t3)
            }
        }
    }
}
