import Synchronization
import TFRegCrypto
import TFRegSystem

/// Browser sessions and one-time login codes, sealed with AES-256-GCM as `SealedTokens` seals tokens
/// (the same `AESGCM` and the same header/claims encoding, no other crypto): `tfs_` (a session
/// cookie) or `tfc_` (a login code) + base64url of `nonce ‖ ciphertext ‖ tag`. The kind is part of
/// the associated data, so a code is never accepted as a session or the reverse. The claims: the
/// principal, issued-at, expiry, the latest expiry a session made from it may have (a code carries
/// the lifetime of the token it was traded for) and a random id.
///
/// A session lives at most `maxLifetime` and never longer than the token it came from: a sealed IAM
/// token's expiry is passed as `notAfter`. Static tokens have no expiry; their sessions end after
/// `maxLifetime`, and revoking the token removes its grants, so its sessions see nothing at once.
/// A code lives 60 s and is accepted once (`redeem`): ids are remembered in this process, and in the
/// registry's replay guard when it has one (shared by every Lambda instance).
public struct WebSessions: Sendable {
    public static let sessionCookie = "tfreg_session"
    public static let loginCookie = "tfreg_login"
    public static let codeLifetime: Int64 = 60
    static let sessionPrefix = "tfs_"
    static let codePrefix = "tfc_"

    let key: [UInt8]
    public let maxLifetime: Int64
    public let clock: any WallClock
    let replayGuard: (any ReplayGuard)?
    let redeemed = RedeemedCodes()

    /// `key`: 32 bytes, derived by the composition root from a key the registry already keeps.
    public init(key: [UInt8], maxLifetime: Int64 = 8 * 3600, clock: any WallClock = SystemClock(), replayGuard: (any ReplayGuard)? = nil) {
        precondition(key.count == AESGCM.keySize, "a 32-byte session key")
        self.key = key
        self.maxLifetime = maxLifetime
        self.clock = clock
        self.replayGuard = replayGuard
    }

    /// What a session or code says.
    public struct Claims: Sendable, Equatable {
        public let subject: Identity
        public let issuedAt: Int64
        public let expiresAt: Int64
        /// The latest expiry a session made from this may have.
        public let notAfter: Int64
        public let id: [UInt8]
    }

    enum Kind: UInt8 {
        case session = 1
        case code = 2
        var prefix: String { self == .session ? WebSessions.sessionPrefix : WebSessions.codePrefix }
    }

    // MARK: Sessions

    /// A session cookie value for `identity`, ending at `maxLifetime` or `notAfter`, whichever is first.
    public func issueSession(for identity: Identity, notAfter: Int64?) -> (value: String, expiresAt: Int64) {
        let now = clock.now()
        let expires = min(now + maxLifetime, notAfter ?? Int64.max)
        return (seal(.session, identity, issued: now, expires: expires, notAfter: expires), expires)
    }

    /// The session a cookie value names, nil for anything wrong or expired.
    public func session(_ value: String) -> Claims? { open(value, as: .session) }

    /// The form token of a session (hex HMAC of its id): every form a session posts carries it.
    public func csrfToken(for session: Claims) -> String {
        Hex.encode(HMACSHA256.authenticate(Array("tfreg-csrf|".utf8) + session.id, key: key))
    }

    /// Whether `token` is the session's form token (constant time).
    public func checkCSRF(_ token: String, for session: Claims) -> Bool {
        constantTimeEquals(Array(token.utf8), Array(csrfToken(for: session).utf8))
    }

    // MARK: Codes

    /// A one-time login code for `identity`, valid `codeLifetime` seconds (less if `notAfter` is
    /// sooner); the session it becomes ends at `notAfter` at the latest.
    public func issueCode(for identity: Identity, notAfter: Int64?) throws(RegistryError) -> (code: String, expiresAt: Int64) {
        let now = clock.now()
        let limit = min(now + maxLifetime, notAfter ?? Int64.max)
        guard limit > now else { throw .unauthenticated("invalid or expired token") }
        let expires = min(now + Self.codeLifetime, limit)
        return (seal(.code, identity, issued: now, expires: expires, notAfter: limit), expires)
    }

    /// Accepts a code once: its claims, or `.unauthenticated` when it is malformed, expired or used.
    public func redeem(_ code: String) async throws(RegistryError) -> Claims {
        guard let claims = open(code, as: .code) else {
            throw .unauthenticated("this login code is invalid or has expired; run 'tfreg browse' again")
        }
        let id = Hex.encode(claims.id)
        guard redeemed.claim(id, until: claims.expiresAt, now: clock.now()) else {
            throw .unauthenticated("this login code was already used; run 'tfreg browse' again")
        }
        if let replayGuard {
            // Counted per AWS account (or identity), as the guard counts token exchanges: one caller
            // cannot use up everyone's share.
            let owner = claims.subject.awsAccount ?? claims.subject.value
            guard try await replayGuard.claim("web-code-" + id, owner: owner, until: claims.expiresAt + 60) else {
                throw .unauthenticated("this login code was already used; run 'tfreg browse' again")
            }
        }
        return claims
    }

    // MARK: Sealing

    func aad(_ kind: Kind) -> [UInt8] { Array("tfreg-web|".utf8) + [kind.rawValue] }

    func seal(_ kind: Kind, _ identity: Identity, issued: Int64, expires: Int64, notAfter: Int64) -> String {
        var claims: [UInt8] = [kind.rawValue]
        claims += SealedTokens.be(UInt64(issued), bytes: 8) + SealedTokens.be(UInt64(expires), bytes: 8)
        claims += SealedTokens.be(UInt64(notAfter), bytes: 8) + SecureRandom.bytes(16)
        claims += SealedTokens.lengthPrefixed(Array(identity.value.utf8))
        let sealed = AESGCM.seal(claims, key: key, aad: aad(kind))
        return kind.prefix + Base64.encode(sealed.nonce + sealed.ciphertext + sealed.tag, urlSafe: true)
    }

    /// Synchronous and pure but for the clock (the fuzz target's entry): nil for anything wrong.
    func open(_ value: String, as kind: Kind) -> Claims? {
        guard value.hasPrefix(kind.prefix), value.utf8.count <= 2048,
            let bytes = Base64.decode(value.dropFirst(kind.prefix.count), urlSafe: true),
            bytes.count > AESGCM.nonceSize + AESGCM.tagSize
        else { return nil }
        let sealed = AESGCM.Sealed(
            nonce: Array(bytes[0..<AESGCM.nonceSize]),
            ciphertext: Array(bytes[AESGCM.nonceSize..<(bytes.count - AESGCM.tagSize)]),
            tag: Array(bytes[(bytes.count - AESGCM.tagSize)...])
        )
        guard let plain = AESGCM.open(sealed, key: key, aad: aad(kind)) else { return nil }
        var r = SealedTokens.Reader(bytes: plain)
        guard r.byte() == kind.rawValue, let iat = r.int(8), let exp = r.int(8), let limit = r.int(8), let id = r.take(16),
            let subLength = r.int(2), let sub = r.take(Int(subLength)), r.remaining == 0,
            let issued = Int64(exactly: iat), let expires = Int64(exactly: exp), let notAfter = Int64(exactly: limit),
            let subject = String(validating: sub, as: UTF8.self), let identity = try? Identity(subject)
        else { return nil }
        let now = clock.now()
        guard expires > now, issued <= now + 60, expires <= notAfter, expires - issued <= maxLifetime else { return nil }
        return Claims(subject: identity, issuedAt: issued, expiresAt: expires, notAfter: notAfter, id: id)
    }
}

/// Ids of codes already redeemed in this process, until they expire; bounded (a code lives 60 s, and
/// at 100 000 live entries new redemptions are refused rather than remembered partly).
final class RedeemedCodes: Sendable {
    private let ids = Mutex<[String: Int64]>([:])

    func claim(_ id: String, until expires: Int64, now: Int64) -> Bool {
        ids.withLock { ids in
            if ids.count >= 10_000 { ids = ids.filter { $0.value > now } }
            guard ids.count < 100_000, ids[id] == nil else { return false }
            ids[id] = expires
            return true
        }
    }
}
