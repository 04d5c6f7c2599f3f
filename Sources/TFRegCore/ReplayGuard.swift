import TFRegCrypto
import TFRegSystem

/// Remembers the presigned GetCallerIdentity requests already exchanged for a token, so each is
/// accepted once. STS itself honours a signature for 15 minutes and any number of times; the audience
/// header binds it to this registry, and this binds it to one exchange.
///
/// Implementations: `MemoryReplayGuard` (TFRegStoreLocal, one `tfreg serve` process) and
/// `DynamoDBReplayGuard` (TFRegStoreAWS, a conditional put in the registry's table, shared by every
/// process and Lambda instance using it).
public protocol ReplayGuard: Sendable {
    /// Records `key` for `owner` until `expiresAt` (Unix seconds) and returns true, or returns false
    /// when it is already recorded and not expired (a replay). `owner` is the AWS account STS has just
    /// verified (`Identity.awsAccount`): a guard with a bound counts it per owner, so one account
    /// cannot fill the guard for everyone (`.tooManyRequests` for that account only). Throws
    /// `.unavailable` when it cannot record it (the memory guard is full, the table cannot be reached):
    /// the request is then refused, never let through unrecorded.
    func claim(_ key: String, owner: String, until expiresAt: Int64) async throws(RegistryError) -> Bool
}

extension SignedCallerIdentityRequest {
    /// The value of the `Signature=` field of the Authorization header, nil when there is none.
    var signature: String? {
        guard let auth = headers.first(where: { $0.name.lowercased() == "authorization" })?.value,
            let range = auth.firstRange(of: "Signature=")
        else { return nil }
        let rest = auth[range.upperBound...]
        return rest.prefix { $0 != "," }.trimmingSpaces()
    }

    /// What the replay guard records: the SHA-256 (hex) of the request's SigV4 signature. The signature
    /// is an HMAC over the whole canonical request (date, host, audience, body), so it names exactly one
    /// signed request; hashing it keeps stored keys short and the signature itself out of the store.
    /// Lowercased first: hex digits in either case must not make two keys of one signature.
    /// Only a signature of exactly 64 hex digits has a key (nil otherwise, and the exchange is refused):
    /// whitespace, case or trailing bytes that STS might ignore can never make a second key.
    public var replayKey: String? {
        guard let signature else { return nil }
        let canonical = signature.lowercased()
        guard canonical.utf8.count == 64, canonical.utf8.allSatisfy(ASCII.isLowerHex) else { return nil }
        return Hex.encode(SHA256.hash(Array(canonical.utf8)))
    }

    /// Until when the request must be remembered: `validate` accepts it while `X-Amz-Date` is within 15
    /// minutes of the server's clock, so until 15 minutes after it was signed (plus a minute of slack),
    /// and at least 16 minutes from `now`.
    public func replayExpiry(now: Int64) -> Int64 {
        let signed = headers.first(where: { $0.name.lowercased() == "x-amz-date" }).flatMap { parseAmzDate($0.value) } ?? now
        return max(signed, now) + 16 * 60
    }
}

extension RegistryError {
    /// One AWS account holds its whole share of the replay guard.
    public static let tooManyExchanges = RegistryError(
        .tooManyRequests,
        "too many token exchanges for this AWS account in the last 15 minutes; try again later"
    )

    /// A presigned identity request presented a second time.
    public static let replayedIdentityRequest = RegistryError.unauthenticated("this signed request was already used; sign a new one")
}
