import Synchronization
import TFRegCrypto
import TFRegSystem

/// A token-sealing key: `id` goes into every token's header and selects the key when the token comes
/// back (a local key's fingerprint, or a KMS-encrypted data key); `material` is the AES-256 key.
public struct TokenKey: Sendable {
    public let id: [UInt8]
    public let material: [UInt8]
    public init(id: [UInt8], material: [UInt8]) {
        self.id = id
        self.material = material
    }
}

/// Where sealing keys come from: a local key file (`tfreg serve`) or KMS envelope encryption.
public protocol TokenKeySource: Sendable {
    /// The key new tokens are sealed with.
    func currentKey() async throws(RegistryError) -> TokenKey
    /// The key with this id, or nil when it is not one of ours (the token is then invalid).
    func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]?
}

/// What a sealed token says, inside the encryption.
public struct TokenClaims: Sendable, Equatable {
    public let subject: Identity
    public let audience: String
    public let issuedAt: Int64
    public let expiresAt: Int64
    public let id: [UInt8]
}

/// Short-lived registry tokens sealed with AES-256-GCM: `tfi_` + base64url of
/// `header ‖ nonce ‖ ciphertext ‖ tag`, where the header (version 1, the key id, the expiry) is
/// authenticated together with the audience as associated data, and the ciphertext holds the claims
/// (principal, audience, issued-at, expiry, a random id). A token is accepted only by the registry
/// whose audience it names, only until it expires, and only if its lifetime is within the
/// configured maximum at the time of use. Exactly one key is tried: the one the header names.
public struct SealedTokens: Sendable {
    public static let prefix = "tfi_"
    static let version: UInt8 = 1
    public let keys: any TokenKeySource
    public let audience: String
    public let maxLifetime: Int64
    public let clock: any WallClock
    /// `tfreg-token|AUDIENCE|`, the start of every token's associated data, and the audience's bytes:
    /// made once, not on every request.
    let aadPrefix: [UInt8]
    let audienceBytes: [UInt8]
    /// Keys prepared for opening (`AESGCM.OpeningKey`), so a request does not pay for key setup.
    let openingKeys = OpeningKeys()

    public init(keys: any TokenKeySource, audience: String, maxLifetime: Int64 = 3600, clock: any WallClock = SystemClock()) {
        self.keys = keys
        self.audience = audience
        self.maxLifetime = maxLifetime
        self.clock = clock
        aadPrefix = Array("tfreg-token|\(audience)|".utf8)
        audienceBytes = Array(audience.utf8)
    }

    static let invalid = RegistryError.unauthenticated("invalid or expired token")

    func aad(_ header: [UInt8]) -> [UInt8] { aadPrefix + header }

    /// Issues a token for `identity`, valid `requested` seconds capped by the maximum (at least 60).
    public func issue(for identity: Identity, requested: Int64?) async throws(RegistryError) -> (token: String, expiresAt: Int64) {
        let lifetime = min(max(requested ?? maxLifetime, 60), maxLifetime)
        let now = clock.now()
        let expires = now + lifetime
        let key = try await keys.currentKey()
        guard key.id.count <= 1024 else { throw .internalError("token key id too long") }
        var header: [UInt8] = [Self.version]
        header += Self.be(UInt64(key.id.count), bytes: 2) + key.id + Self.be(UInt64(expires), bytes: 8)
        var claims: [UInt8] = []
        claims += Self.be(UInt64(now), bytes: 8) + Self.be(UInt64(expires), bytes: 8) + SecureRandom.bytes(16)
        claims += Self.lengthPrefixed(Array(audience.utf8)) + Self.lengthPrefixed(Array(identity.value.utf8))
        let sealed = AESGCM.seal(claims, key: key.material, aad: aad(header))
        let bytes = header + sealed.nonce + sealed.ciphertext + sealed.tag
        return (Self.prefix + Base64.encode(bytes, urlSafe: true), expires)
    }

    /// Opens and checks a token; `.unauthenticated` for anything wrong, without saying what.
    public func verify(_ token: String) async throws(RegistryError) -> TokenClaims {
        guard let envelope = Self.parse(token) else { throw Self.invalid }
        // Cheap checks first: an expired token costs no key lookup (and no KMS call).
        // Every integer read from the token is checked before it becomes an Int64: a token is input.
        let now = clock.now()
        // A lifetime longer than any this registry issues (`open` would refuse it) costs no lookup either.
        guard let expiry = Int64(exactly: envelope.expiry), expiry > now, expiry - now <= maxLifetime + 60 else { throw Self.invalid }
        guard let material = try await keys.key(id: envelope.keyID), let claims = open(envelope, key: material, now: now) else {
            throw Self.invalid
        }
        return claims
    }

    /// A token split into its parts, before any key is looked up.
    struct Envelope {
        /// Version, key id and expiry: authenticated together with the audience.
        let header: [UInt8]
        let keyID: [UInt8]
        /// The expiry the header states (the claims must state the same).
        let expiry: UInt64
        let sealed: AESGCM.Sealed
    }

    /// The pure byte parsing of `verify`, synchronous (the fuzz target calls it): nil for anything
    /// that is not `tfi_` + base64url of `1 ‖ len(2) ‖ key id ‖ expiry(8) ‖ nonce ‖ ciphertext ‖ tag`.
    static func parse(_ token: String) -> Envelope? {
        guard token.hasPrefix(Self.prefix), token.utf8.count <= 4096,
            let bytes = Base64.decode(token.dropFirst(Self.prefix.count), urlSafe: true)
        else { return nil }
        var r = Reader(bytes: bytes)
        guard r.byte() == Self.version, let idLength = r.int(2), let id = r.take(Int(idLength)), let headerExpiry = r.int(8) else { return nil }
        let header = Array(bytes[0..<r.offset])
        guard let nonce = r.take(AESGCM.nonceSize), r.remaining >= AESGCM.tagSize else { return nil }
        guard let ciphertext = r.take(r.remaining - AESGCM.tagSize), let tag = r.take(AESGCM.tagSize) else { return nil }
        return Envelope(header: header, keyID: id, expiry: headerExpiry, sealed: .init(nonce: nonce, ciphertext: ciphertext, tag: tag))
    }

    /// Decrypts the claims with `key` and checks them at `now`; synchronous, nil for anything wrong.
    func open(_ envelope: Envelope, key: [UInt8], now: Int64) -> TokenClaims? {
        guard let opening = openingKeys.key(for: key), let plain = opening.open(envelope.sealed, aad: aad(envelope.header)) else { return nil }
        var c = Reader(bytes: plain)
        guard let iat = c.int(8), let exp = c.int(8), let jti = c.take(16), let audLength = c.int(2), let aud = c.take(Int(audLength)),
            let subLength = c.int(2), let sub = c.take(Int(subLength)), c.remaining == 0,
            exp == envelope.expiry, let audience = String(validating: aud, as: UTF8.self), let subject = String(validating: sub, as: UTF8.self)
        else { return nil }
        guard let issued = Int64(exactly: iat), let expires = Int64(exactly: exp) else { return nil }
        guard constantTimeEquals(aud, audienceBytes), expires > now, issued <= now + 60,
            expires - issued <= maxLifetime, let identity = try? Identity(subject), identity.kind == .iam
        else { return nil }
        return TokenClaims(subject: identity, audience: audience, issuedAt: issued, expiresAt: expires, id: jti)
    }

    static func be(_ v: UInt64, bytes n: Int) -> [UInt8] { (0..<n).map { UInt8(truncatingIfNeeded: v >> (8 * UInt64(n - 1 - $0))) } }
    static func lengthPrefixed(_ b: [UInt8]) -> [UInt8] { be(UInt64(b.count), bytes: 2) + b }

    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var remaining: Int { bytes.count - offset }
        mutating func take(_ n: Int) -> [UInt8]? {
            guard n >= 0, n <= remaining else { return nil }
            defer { offset += n }
            return Array(bytes[offset..<offset + n])
        }
        // `byte` and `int` read in place: through `take` each allocated an array, and a sealed token is
        // read on every request it authenticates (issue 17).
        mutating func byte() -> UInt8? { int(1).map { UInt8(truncatingIfNeeded: $0) } }
        mutating func int(_ n: Int) -> UInt64? {
            guard n >= 0, n <= remaining else { return nil }
            var value: UInt64 = 0
            for i in offset..<offset + n { value = value << 8 | UInt64(bytes[i]) }
            offset += n
            return value
        }
    }
}

/// `AESGCM.OpeningKey`s by key material, for the few keys one registry opens tokens with (a key file's
/// one or two, a KMS data key an hour per process): at most 64, beyond that it starts over.
final class OpeningKeys: Sendable {
    private let keys = Mutex<[(material: [UInt8], key: AESGCM.OpeningKey)]>([])

    func key(for material: [UInt8]) -> AESGCM.OpeningKey? {
        if let hit = keys.withLock({ $0.first { $0.material == material }?.key }) { return hit }
        guard let made = AESGCM.OpeningKey(material) else { return nil }
        keys.withLock {
            if $0.count >= 64 { $0.removeAll() }
            $0.append((material, made))
        }
        return made
    }
}

/// Authenticates `tfi_` tokens.
public struct SealedTokenAuthenticator: Authenticator {
    public let tokens: SealedTokens
    public init(tokens: SealedTokens) { self.tokens = tokens }
    public func recognizes(_ token: String) -> Bool { token.hasPrefix(SealedTokens.prefix) }
    public func authenticate(_ token: String) async throws(RegistryError) -> Principal {
        Principal(identity: try await tokens.verify(token).subject)
    }
}

/// A fixed set of local keys (the newest seals): `tfreg serve`'s key file.
public struct StaticTokenKeys: TokenKeySource {
    let current: TokenKey
    let all: [TokenKey]
    /// `keys` newest first; ids are the first 8 bytes of each key's SHA-256.
    public init(keys: [[UInt8]]) {
        let made = keys.map { TokenKey(id: Array(SHA256.hash($0).prefix(8)), material: $0) }
        precondition(!made.isEmpty, "at least one token key")
        current = made[0]
        all = made
    }
    public func currentKey() async throws(RegistryError) -> TokenKey { current }
    public func key(id: [UInt8]) async throws(RegistryError) -> [UInt8]? {
        all.first { constantTimeEquals($0.id, id) }?.material
    }
}

/// Issues sealed tokens to callers who prove their IAM identity with a presigned GetCallerIdentity.
public struct TokenIssuer: Sendable {
    public let tokens: SealedTokens
    public let verifier: any CallerIdentityVerifier
    /// Accepts each presigned request once (nil: any number of times within STS's 15 minutes).
    public let replayGuard: (any ReplayGuard)?
    public init(tokens: SealedTokens, verifier: any CallerIdentityVerifier, replayGuard: (any ReplayGuard)? = nil) {
        self.tokens = tokens
        self.verifier = verifier
        self.replayGuard = replayGuard
    }

    /// Verifies the request with STS, then claims it in the replay guard, then seals a token. The claim
    /// comes after STS has accepted the signature, so requests that are not genuinely signed never take
    /// a place in the guard; two concurrent uses of one request both reach STS and exactly one claim wins.
    public func exchange(
        _ request: SignedCallerIdentityRequest,
        requestedLifetime: Int64?
    ) async throws(RegistryError) -> (identity: Identity, token: String, expiresAt: Int64) {
        let identity = try await verifier.verify(request, audience: tokens.audience)
        guard identity.kind == .iam else { throw .unauthenticated("not an IAM principal") }
        if let replayGuard {
            guard let key = request.replayKey else { throw .badRequest("invalid identity request: malformed Authorization header") }
            let owner = identity.awsAccount ?? identity.value
            guard try await replayGuard.claim(key, owner: owner, until: request.replayExpiry(now: tokens.clock.now())) else {
                throw .replayedIdentityRequest
            }
        }
        let (token, expires) = try await tokens.issue(for: identity, requested: requestedLifetime)
        return (identity, token, expires)
    }
}
