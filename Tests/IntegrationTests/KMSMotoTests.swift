import Foundation
import TFRegAWS
import Testing

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
    }
}
