import Synchronization
import TFRegCrypto
import TFRegSystem

/// Turns the bearer token of a request into a principal. Implementations: static tokens (this
/// file) and, later, sealed IAM tokens. They throw `.unauthenticated` with a message that says what
/// to do, never why a particular token failed internally.
public protocol Authenticator: Sendable {
    /// Whether this authenticator recognises the token's format (by prefix), so several can be combined.
    func recognizes(_ token: String) -> Bool
    func authenticate(_ token: String) async throws(RegistryError) -> Principal
}

/// Static bearer tokens: `tfr_` + 43 base64url characters (256 random bits). Only the SHA-256 of a
/// token is stored, so a copy of the database does not reveal usable tokens; a lookup by digest is
/// followed by a constant-time comparison of the digests.
public struct StaticTokenAuthenticator: Authenticator {
    public static let prefix = "tfr_"
    public let store: any MetadataStore
    let cache: StaticTokenLookupCache?

    /// `cacheSeconds > 0` remembers successful lookups that long (for remote stores, where each lookup
    /// is a network call): a revoked token keeps working at most that long in this process. Failed
    /// lookups are never cached, so a new token works at once.
    public init(store: any MetadataStore, cacheSeconds: Int64 = 0, clock: any WallClock = SystemClock()) {
        self.store = store
        self.cache = cacheSeconds > 0 ? StaticTokenLookupCache(ttl: cacheSeconds, clock: clock) : nil
    }

    /// Makes a new random token. Print it once; keep only `digest(of:)`.
    public static func generate() -> String {
        prefix + Base64.encode(SecureRandom.bytes(32), urlSafe: true)
    }

    public static func digest(of token: String) -> String {
        Hex.encode(SHA256.hash(Array(token.utf8)))
    }

    /// `tfr_` followed by exactly 43 URL-safe base64 characters.
    public static func isWellFormed(_ token: String) -> Bool {
        var token = token
        return token.withUTF8 { u in
            guard u.count == 47, u.starts(with: prefix.utf8) else { return false }
            // 43 base64url characters; the last carries 2 padding bits, which must be zero (canonical form).
            for i in 4..<47 {
                let c = u[i]
                guard ASCII.isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") else { return false }
            }
            return "AEIMQUYcgkosw048".utf8.contains(u[46])
        }
    }

    public func recognizes(_ token: String) -> Bool { token.hasPrefix(Self.prefix) }

    /// The lookup cache's hits and misses (none without `cacheSeconds`).
    public var cacheCounters: [CacheCounters] { cache.map { [$0.counters] } ?? [] }

    public func authenticate(_ token: String) async throws(RegistryError) -> Principal {
        guard Self.isWellFormed(token) else { throw Self.invalid }
        let digest = Self.digest(of: token)
        if let cache {
            if let cached = cache.get(digest) {
                cache.counters.hit()
                return Principal(identity: cached)
            }
            cache.counters.miss()
        }
        guard let identity = try await store.staticTokenIdentity(hash: digest) else { throw Self.invalid }
        cache?.put(digest, identity)
        return Principal(identity: identity)
    }

    static let invalid = RegistryError.unauthenticated("invalid or expired token")
}

/// Token digest → identity for a few seconds; bounded (cleared when it holds 10 000 entries).
final class StaticTokenLookupCache: Sendable {
    let ttl: Int64
    let counters = CacheCounters(cache: "static_tokens")
    let clock: any WallClock
    private let entries = Mutex<[String: (identity: Identity, expires: Int64)]>([:])

    init(ttl: Int64, clock: any WallClock) {
        self.ttl = ttl
        self.clock = clock
    }

    func get(_ digest: String) -> Identity? {
        let now = clock.now()
        return entries.withLock { e in
            guard let hit = e[digest] else { return nil }
            if hit.expires <= now {
                e[digest] = nil
                return nil
            }
            return hit.identity
        }
    }

    func put(_ digest: String, _ identity: Identity) {
        let expires = clock.now() + ttl
        entries.withLock { e in
            if e.count >= 10_000 { e.removeAll(keepingCapacity: true) }
            e[digest] = (identity, expires)
        }
    }
}

/// Tries each authenticator that recognises the token; a token no one recognises is invalid.
public struct CompositeAuthenticator: Authenticator {
    public let members: [any Authenticator]
    public init(_ members: [any Authenticator]) { self.members = members }

    public func recognizes(_ token: String) -> Bool { members.contains { $0.recognizes(token) } }

    public func authenticate(_ token: String) async throws(RegistryError) -> Principal {
        guard let member = members.first(where: { $0.recognizes(token) }) else {
            throw .unauthenticated("invalid or expired token")
        }
        return try await member.authenticate(token)
    }
}
