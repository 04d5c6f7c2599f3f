import Synchronization
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegSystem

#if canImport(Glibc)
import Glibc
#endif

/// Token keys from KMS by envelope encryption: a data key from GenerateDataKey (bound to this
/// registry's audience by the encryption context) seals tokens for an hour, then a new one is made;
/// the encrypted data key is the token's key id. Unwrapped data keys are cached by their encrypted
/// blob, so verifying a token calls KMS Decrypt at most once per data key and process.
public final class KMSTokenKeys: TokenKeySource {
    let kms: KMSClient
    let keyID: String
    let context: [String: String]
    let rotateAfter: Int64
    let clock: any WallClock
    private let state = Mutex<(current: (key: TokenKey, made: Int64)?, unwrapped: [[UInt8]: [UInt8]])>((nil, [:]))

    public init(kms: KMSClient, keyID: String, audience: String, rotateAfter: Int64 = 3600, clock: any WallClock = SystemClock()) {
        self.kms = kms
        self.keyID = keyID
        self.context = ["tfreg:audience": audience]
        self.rotateAfter = rotateAfter
        self.clock = clock
    }

    static func map(_ e: AWSError) -> RegistryError {
        e.kind == .accessDenied ? .internalError("KMS denied the registry: \(e)") : .unavailable("AWS KMS", detail: e.description)
    }

    public func currentKey() async throws(RegistryError) -> TokenKey {
        let now = clock.now()
        if let c = state.withLock({ $0.current }), now - c.made < rotateAfter { return c.key }
        let data: DataKey
        do { data = try await kms.generateDataKey(keyID: keyID, context: context) } catch { throw Self.map(error) }
        let key = TokenKey(id: data.ciphertext, material: data.plaintext)
        state.withLock {
            $0.current = (key, now)
            $0.unwrapped[data.ciphertext] = data.plaintext
        }
        return key
    }

    public func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]? {
        if let hit = state.withLock({ $0.unwrapped[id] }) { return hit }
        let plain: [UInt8]
        do { plain = try await kms.decrypt(ciphertext: id, keyID: keyID, context: context) } catch {
            // A blob KMS cannot decrypt (not ours, other context, tampered) is an invalid token, not an outage.
            if [.validation, .accessDenied, .notFound, .other].contains(error.kind) { return nil }
            throw Self.map(error)
        }
        guard plain.count == AESGCM.keySize else { return nil }
        state.withLock {
            if $0.unwrapped.count >= 1024 { $0.unwrapped.removeAll() }
            $0.unwrapped[id] = plain
        }
        return plain
    }
}
