import Glibc
import Logging
import TFRegSystem

/// Static tokens on the store (a local operator) and token issuance (IAM exchange, front end).
extension RegistryService {
    /// `tfreg grant create --new-token NAME`: a new static token under `name` (`token:NAME`). Returns
    /// its identity (`token:NAME#ID`) and the token itself, to be shown once: only its SHA-256 is
    /// stored, and neither is ever logged.
    public func createStaticToken(
        named name: Identity,
        discardingOrphans: Bool,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> (identity: Identity, token: String)
    {
        let secret = StaticTokenAuthenticator.generate()
        let identity = try await store.createStaticToken(
            name,
            hash: StaticTokenAuthenticator.digest(of: secret),
            createdAt: clock.now(),
            discardingOrphans: discardingOrphans
        )
        await changed(
            "created static token",
            by: op,
            ["identity": "\(identity)"],
            logger,
            action: AuditEvent.Action.createToken,
            namespace: nil,
            target: identity.value
        )
        return (identity, secret)
    }

    /// `tfreg grant revoke-token`: deletes the token holding `name` now and every grant it holds.
    /// Returns its identity and how many grants went; `.notFound` when no token has the name.
    public func revokeStaticToken(
        named name: Identity,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> (identity: Identity, grantsRemoved: Int)
    {
        guard let current = try await store.staticToken(named: name), let removed = try await store.revokeStaticToken(name) else {
            let typed = name.value.hasPrefix("token:") ? String(name.value.dropFirst(6)) : name.value
            throw .notFound("no token named '\(typed)'")
        }
        await changed(
            "revoked static token",
            by: op,
            ["identity": "\(current)", "grants_removed": "\(removed)"],
            logger,
            action: AuditEvent.Action.revokeToken,
            namespace: nil,
            target: current.value
        )
        return (current, removed)
    }

    // MARK: Token issuance

    /// `POST /token`: checks the presigned GetCallerIdentity with STS (`TokenIssuer.exchange`) and
    /// seals a token for the identity it proves, the principal of the issuance.
    public func issueToken(
        exchanging request: SignedCallerIdentityRequest,
        requestedLifetime: Int64?,
        with issuer: TokenIssuer,
        logger: Logger
    ) async throws(RegistryError) -> (identity: Identity, token: String, expiresAt: Int64) {
        let issued = try await issuer.exchange(request, requestedLifetime: requestedLifetime)
        await changed(
            "issued token",
            by: issued.identity,
            ["expires_at": "\(issued.expiresAt)", "via": "GetCallerIdentity"],
            logger,
            action: AuditEvent.Action.issueToken,
            namespace: nil,
            target: issued.identity.value
        )
        return issued
    }

    /// `GET /token` behind an IAM-authorizing front end: seals a token for the caller the front end
    /// verified.
    public func issueToken(
        for caller: Principal,
        requestedLifetime: Int64?,
        with tokens: SealedTokens,
        logger: Logger
    ) async throws(RegistryError) -> (token: String, expiresAt: Int64) {
        let (token, expires) = try await tokens.issue(for: caller.identity, requested: requestedLifetime)
        await changed(
            "issued token",
            by: caller.identity,
            ["expires_at": "\(expires)", "via": "front end"],
            logger,
            action: AuditEvent.Action.issueToken,
            namespace: nil,
            target: caller.identity.value
        )
        return (token, expires)
    }
}
