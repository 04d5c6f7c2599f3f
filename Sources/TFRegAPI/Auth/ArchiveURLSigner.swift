import TFRegCore
import TFRegCrypto
import TFRegSystem

/// Signs archive URLs so they authorize themselves: Terraform sends no token when it fetches the
/// `X-Terraform-Get` location (Terraform's module registry protocol, "Download Source Code for a
/// Specific Module Version"), so the URL carries `expires` (Unix seconds) and
/// `signature` = base64url(HMAC-SHA-256(key, "tfreg-archive-v1\n" + path + "\n" + expires)).
/// The signature covers the exact path, so it cannot be moved to another archive, and the expiry,
/// so it cannot be extended. HEAD and GET share one signature (go-getter sends HEAD first).
public struct ArchiveURLSigner: Sendable {
    /// Prepared once (`HMACSHA256.Key`): a download answer signs one link.
    private let key: HMACSHA256.Key
    /// How long a signed URL is valid.
    public let lifetime: Int64

    public init(key: [UInt8], lifetime: Int64 = 300) {
        precondition(key.count >= 32, "archive URL signing key must be at least 256 bits")
        self.key = HMACSHA256.Key(key)
        self.lifetime = lifetime
    }

    func mac(path: String, expires: Int64) -> [UInt8] {
        HMACSHA256.authenticate(Array("tfreg-archive-v1\n\(path)\n\(expires)".utf8), key: key)
    }

    /// The query string (`expires=…&signature=…`) for `path`.
    public func query(forPath path: String, now: Int64) -> String {
        let expires = now + lifetime
        return "expires=\(expires)&signature=\(Base64.encode(mac(path: path, expires: expires), urlSafe: true))"
    }

    /// Checks a presented signature. Expired, not yet plausible (too far in the future), malformed
    /// or tampered values are all `forbidden`, with one message.
    public func verify(path: String, expires: String?, signature: String?, now: Int64) throws(RegistryError) {
        let denied = RegistryError.forbidden("the archive link is invalid or has expired; ask the registry for a new download")
        guard let expires, expires.utf8.count <= 12, expires.utf8.allSatisfy(ASCII.isDigit), let exp = Int64(expires),
            let signature, let sig = Base64.decode(signature, urlSafe: true), sig.count == 32
        else { throw denied }
        let expected = mac(path: path, expires: exp)
        let valid = constantTimeEquals(expected, sig)
        guard valid, exp >= now, exp <= now + lifetime + 60 else { throw denied }
    }
}
