/// Static tokens: the hashes of the tokens `tfreg token create` issued, by name and id, and the
/// orphan grants of a token name. One section of `MetadataStore`.
///
/// Orphan grants (grants under a token name no live token holds) are here, not in `GrantStore`:
/// what makes a grant an orphan is the token table, and `createStaticToken(discardingOrphans:)`
/// must find and delete them in the token's own transaction. Errors as `MetadataStore` says.
public protocol TokenStore: Sendable {
    /// The static-token identity (`token:NAME#ID`) whose token hashes to `sha256` (hex), or nil.
    func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity?
    /// The token that holds a name now, as `token:NAME#ID`, or nil.
    func staticToken(named name: Identity) async throws(RegistryError) -> Identity?
    /// Grants stored for a token name that no live token holds (left by a token revoked before
    /// grants were bound to ids, by a crash between a revoke's steps, or by an older tfreg): every
    /// grant under `token:NAME` or any `token:NAME#ID` that is not the current token's.
    func orphanGrants(named name: Identity) async throws(RegistryError) -> [Grant]
    /// Records a static token's hash under a new random id and returns its `token:NAME#ID`;
    /// `.conflict` if the name is taken. Orphan grants of the name are never inherited: with
    /// `discardingOrphans` false their presence is a `.conflict` (the administrator decides), with
    /// true they are deleted first.
    func createStaticToken(_ name: Identity, hash sha256: String, createdAt: Int64, discardingOrphans: Bool) async throws(RegistryError) -> Identity
    /// Removes the static token holding `name` and every grant it holds; returns how many grants were
    /// removed, nil if there was no such token.
    func revokeStaticToken(_ name: Identity) async throws(RegistryError) -> Int?
}

extension TokenStore {
    /// Creates a token, refusing when orphan grants exist for its name.
    @discardableResult
    public func createStaticToken(_ name: Identity, hash sha256: String, createdAt: Int64) async throws(RegistryError) -> Identity {
        try await createStaticToken(name, hash: sha256, createdAt: createdAt, discardingOrphans: false)
    }

    /// Removes a static token and its grants; false if there was none.
    public func deleteStaticToken(_ name: Identity) async throws(RegistryError) -> Bool {
        try await revokeStaticToken(name) != nil
    }

    /// `token:NAME` → the current token's `token:NAME#ID` when one holds the name; anything else
    /// (IAM principals, `token:NAME#ID`, names no token holds) as it is. For looking grants up by the
    /// name people type.
    public func resolvingTokenName(_ identity: Identity) async throws(RegistryError) -> Identity {
        guard identity.kind == .staticToken, identity.tokenID == nil else { return identity }
        return try await staticToken(named: identity) ?? identity
    }

    /// The identity a new grant for `identity` is stored under: the current token for a token name or
    /// id, `.notFound` when there is none. IAM principals as they are.
    public func tokenForGrant(_ identity: Identity) async throws(RegistryError) -> Identity {
        guard identity.kind == .staticToken, let name = identity.tokenName else { return identity }
        guard let current = try await staticToken(named: name) else { throw OrphanGrants.noToken(name) }
        guard identity.tokenID == nil || identity == current else { throw OrphanGrants.superseded(identity, by: current) }
        return current
    }
}

/// Errors about grants and the tokens they belong to, worded the same by every store.
public enum OrphanGrants {
    /// A grant for a token name no token holds.
    public static func noToken(_ name: Identity) -> RegistryError {
        .notFound(
            "no token named '\(name.value.dropFirst(6))': create it first (tfreg grant create --new-token NAME); grants are never kept for a token that does not exist yet"
        )
    }

    /// A grant for `token:NAME#ID` when the name now belongs to another token.
    public static func superseded(_ identity: Identity, by current: Identity) -> RegistryError {
        .notFound("\(identity) is no longer a token: the name now belongs to \(current)")
    }

    /// The refusal to create a token over a name that orphan grants still name.
    public static func refusal(_ name: Identity, _ orphans: [Grant]) -> RegistryError {
        let namespaces = Set(orphans.map(\.namespace.value)).sorted()
        let shown = namespaces.prefix(10).joined(separator: ", ") + (namespaces.count > 10 ? ", …" : "")
        return .conflict(
            "\(orphans.count) grant(s) from an earlier token named '\(name.value.dropFirst(6))' remain (namespaces: \(shown)); "
                + "they are never given to a new token: delete them, or pass --discard-orphan-grants to delete them and create the token"
        )
    }
}
