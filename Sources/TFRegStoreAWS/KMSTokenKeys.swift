import Glibc
import Synchronization
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegSystem

/// Token keys from KMS by envelope encryption: a data key from GenerateDataKey (bound to this
/// registry's audience by the encryption context) seals tokens for an hour, then a new one is made;
/// the encrypted data key is the token's key id. Unwrapped data keys are cached by their encrypted
/// blob, so verifying a token calls KMS Decrypt at most once per data key and process.
///
/// A key id is whatever an unauthenticated caller put in a token, so the Decrypts it can cause are
/// bounded: ids KMS refused are remembered (bounded), concurrent lookups of one id share one Decrypt,
/// and Decrypts of ids not seen before draw on a budget (`unknownKeyBurst`, refilled by
/// `unknownKeysPerSecond`). With the budget spent, a token whose key is not yet known is answered
/// 503 (try again) until it refills; known keys are never affected.
public final class KMSTokenKeys: TokenKeySource {
    /// Decrypts of unknown key ids allowed at once (a cold process meeting every live data key).
    public static let defaultUnknownKeyBurst = 64
    /// And per second after that.
    public static let defaultUnknownKeysPerSecond = 2
    /// Remembered refused ids and unwrapped keys, each.
    static let cacheLimit = 1024

    let kms: KMSClient
    let keyID: String
    let context: [String: String]
    let rotateAfter: Int64
    let clock: any WallClock
    let unknownKeyBurst: Int
    let unknownKeysPerSecond: Int

    struct State {
        var current: (key: TokenKey, made: Int64)?
        var unwrapped: [[UInt8]: [UInt8]] = [:]
        var refused: Set<[UInt8]> = []
        var inFlight: [[UInt8]: Task<Result<[UInt8]?, RegistryError>, Never>] = [:]
        var budget: Int
        var refilledAt: Int64

        /// Takes one Decrypt from the budget, refilling it first.
        mutating func takeBudget(now: Int64, burst: Int, perSecond: Int) -> Bool {
            let elapsed = min(max(now - refilledAt, 0), Int64(burst))
            budget = min(burst, budget + Int(elapsed) * perSecond)
            refilledAt = now
            guard budget > 0 else { return false }
            budget -= 1
            return true
        }
    }

    private let state: Mutex<State>

    public init(
        kms: KMSClient,
        keyID: String,
        audience: String,
        rotateAfter: Int64 = 3600,
        unknownKeyBurst: Int = KMSTokenKeys.defaultUnknownKeyBurst,
        unknownKeysPerSecond: Int = KMSTokenKeys.defaultUnknownKeysPerSecond,
        clock: any WallClock = SystemClock()
    ) {
        self.kms = kms
        self.keyID = keyID
        self.context = ["tfreg:audience": audience]
        self.rotateAfter = rotateAfter
        self.clock = clock
        self.unknownKeyBurst = max(1, unknownKeyBurst)
        self.unknownKeysPerSecond = max(0, unknownKeysPerSecond)
        state = Mutex(State(budget: max(1, unknownKeyBurst), refilledAt: clock.now()))
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

    enum Lookup {
        case known([UInt8])
        case refused
        case overBudget
        case wait(Task<Result<[UInt8]?, RegistryError>, Never>)
    }

    public func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]? {
        let now = clock.now()
        let lookup: Lookup = state.withLock { s in
            if let hit = s.unwrapped[id] { return .known(hit) }
            if s.refused.contains(id) { return .refused }
            if let running = s.inFlight[id] { return .wait(running) }
            guard s.takeBudget(now: now, burst: unknownKeyBurst, perSecond: unknownKeysPerSecond) else { return .overBudget }
            let task = Task { await self.unwrap(id) }
            s.inFlight[id] = task
            return .wait(task)
        }
        switch lookup {
        case .known(let key): return key
        case .refused: return nil
        case .overBudget:
            throw .unavailable("token verification", detail: "KMS Decrypt budget for token keys not seen before is spent")
        case .wait(let task): return try await task.value.get()
        }
    }

    /// One Decrypt of `id`; the answer (a key, or a refusal) is remembered and the lookup ends.
    func unwrap(_ id: [UInt8]) async -> Result<[UInt8]?, RegistryError> {
        let result: Result<[UInt8]?, RegistryError>
        do {
            let plain = try await kms.decrypt(ciphertext: id, keyID: keyID, context: context)
            result = .success(plain.count == AESGCM.keySize ? plain : nil)
        } catch {
            // A blob KMS cannot decrypt (not ours, other context, tampered) is an invalid token, not an outage.
            result = [.validation, .accessDenied, .notFound, .other].contains(error.kind) ? .success(nil) : .failure(Self.map(error))
        }
        state.withLock { s in
            s.inFlight[id] = nil
            switch result {
            case .success(let key?):
                if s.unwrapped.count >= Self.cacheLimit { s.unwrapped.removeAll() }
                s.unwrapped[id] = key
            case .success(nil):
                if s.refused.count >= Self.cacheLimit { s.refused.removeAll() }
                s.refused.insert(id)
            case .failure: break
            }
        }
        return result
    }
}
