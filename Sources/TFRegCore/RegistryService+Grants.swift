import Glibc
import Logging
import TFRegSystem

/// Grants: over the API (the caller must hold `manage`) and on the store by a local operator.
extension RegistryService {
    // MARK: Grants

    /// Grants in a namespace; needs `create_grant` or `delete_grant` there.
    public func grants(in namespace: Namespace, caller: Principal?) async throws(RegistryError) -> [Grant] {
        guard let caller else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
        guard let own = try await store.grant(for: caller.identity, in: namespace), own.permissions.createGrant || own.permissions.deleteGrant else {
            throw .forbidden("missing 'create_grant' or 'delete_grant' permission on namespace '\(namespace)'")
        }
        return try await store.grants(in: namespace).sorted { $0.identity < $1.identity }
    }

    /// Creates or replaces a grant; needs `create_grant`. Nobody can grant a permission they do not
    /// hold, or change a grant that holds more than they do (no escalation, no demoting an admin).
    public func putGrant(_ grant: Grant, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let own = try await authorize(caller, .createGrant, in: grant.namespace)
        var grant = grant
        // `token:NAME` means the token holding the name now; no token, no grant (404).
        grant.identity = try await store.tokenForGrant(grant.identity)
        guard own.permissions.covers(grant.permissions) else {
            throw .forbidden("you cannot grant permissions you do not hold yourself in namespace '\(grant.namespace)'")
        }
        guard !grant.permissions.isEmpty else { throw .badRequest("a grant needs at least one permission; delete it instead") }
        try await checkGrantSpelling(grant.namespace)
        if let existing = try await store.grant(for: grant.identity, in: grant.namespace), !own.permissions.covers(existing.permissions) {
            throw .forbidden("you cannot change a grant that holds permissions you do not hold")
        }
        try await store.putGrant(grant, mode: .upsert)
        await changed(
            "granted",
            by: own.identity,
            Self.metadata(grant),
            logger,
            action: AuditEvent.Action.putGrant,
            namespace: grant.namespace,
            target: grant.identity.value
        )
    }

    /// Deletes a grant; needs `delete_grant`, and the grant may not hold more than the caller does.
    public func deleteGrant(for identity: Identity, in namespace: Namespace, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let own = try await authorize(caller, .deleteGrant, in: namespace)
        let identity = try await store.resolvingTokenName(identity)
        guard let existing = try await store.grant(for: identity, in: namespace) else {
            throw .notFound("no grant for \(identity) in namespace '\(namespace)'")
        }
        guard own.permissions.covers(existing.permissions) else {
            throw .forbidden("you cannot delete a grant that holds permissions you do not hold")
        }
        _ = try await store.deleteGrant(for: identity, in: namespace)
        await changed(
            "revoked grant",
            by: own.identity,
            ["namespace": "\(namespace)", "identity": "\(identity)"],
            logger,
            action: AuditEvent.Action.deleteGrant,
            namespace: namespace,
            target: identity.value
        )
    }

    // MARK: The CLI on the store

    /// `tfreg grant create|update` on the store: writes the grant as the operator (no grant is checked:
    /// whoever can open the store administers it). `mode` refuses an existing grant (`create`) or a
    /// missing one (`update`); a `token:NAME` identity is bound as the store binds it.
    public func writeGrant(_ grant: Grant, mode: GrantWriteMode, by op: LocalOperator, logger: Logger) async throws(RegistryError) {
        try await checkGrantSpelling(grant.namespace)
        try await store.putGrant(grant, mode: mode)
        await changed(
            "granted",
            by: op,
            Self.metadata(grant),
            logger,
            action: AuditEvent.Action.putGrant,
            namespace: grant.namespace,
            target: grant.identity.value
        )
    }

    /// `tfreg grant delete` on the store: deletes the identity's grant (`token:NAME`: the current
    /// token's) and returns the identity as stored; `.notFound` when there is none.
    public func deleteGrant(
        for identity: Identity,
        in namespace: Namespace,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> Identity
    {
        let stored = try await store.resolvingTokenName(identity)
        guard try await store.deleteGrant(for: stored, in: namespace) else {
            throw .notFound("no grant for \(identity) on namespace '\(namespace)'")
        }
        await changed(
            "revoked grant",
            by: op,
            ["namespace": "\(namespace)", "identity": "\(stored)"],
            logger,
            action: AuditEvent.Action.deleteGrant,
            namespace: namespace,
            target: stored.value
        )
        return stored
    }
}

extension RegistryService {
    /// Grants apply to a namespace as it is spelled, and reads and publishes authorize on the stored
    /// spelling (names are case-insensitive): a grant on `Acme` while modules live in `acme` would
    /// never apply, so it is refused (409) naming the stored spelling. Deny by default: nothing
    /// grants across spellings.
    func checkGrantSpelling(_ namespace: Namespace) async throws(RegistryError) {
        if let stored = try await store.storedSpelling(of: namespace), stored != namespace {
            throw .conflict("namespace \(namespace) is another spelling of namespace \(stored) (names are case-insensitive): grant on \(stored)")
        }
    }
}
