import Synchronization

/// Sealed tokens whose audience is the host name an IAM-authorizing front end reports for each
/// request (`requestContext.domainName` of an API Gateway or Function URL event), for a Lambda
/// function configured as the replaced tool was: `IAM_AUTH_KMS_KEY` but no `TFREG_AUDIENCE`.
///
/// Why this is safe for `GET /token`: the front end has already verified the caller's SigV4
/// signature for that very domain, and the domain name is set by AWS, not by the client (a request
/// can only arrive on a domain mapped to the API or function). A token is sealed for that domain and
/// accepted only on requests the front end reports for the same domain, exactly as a configured
/// audience would be. `POST /token` (a presigned GetCallerIdentity checked by tfreg itself) has no
/// front end vouching for the host, so it still needs `TFREG_AUDIENCE`.
public final class FrontEndAudienceTokens: Sendable {
    let make: @Sendable (String) -> SealedTokens
    private let made = Mutex<[String: SealedTokens]>([:])

    /// `make` builds the tokens (and their key source, e.g. KMS data keys bound to the audience) for one
    /// audience; each is built once and kept (at most 16 audiences; beyond that the set starts over).
    public init(make: @escaping @Sendable (String) -> SealedTokens) { self.make = make }

    /// The tokens for `audience`, a host name the front end reported (already validated by the caller).
    public func tokens(for audience: String) -> SealedTokens {
        let audience = audience.lowercased()
        return made.withLock { m in
            if let t = m[audience] { return t }
            if m.count >= 16 { m.removeAll(keepingCapacity: true) }
            let t = make(audience)
            m[audience] = t
            return t
        }
    }
}
