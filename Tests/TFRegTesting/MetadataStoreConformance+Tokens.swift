import TFRegCore

/// The `TokenStore` section: static tokens, the binding of grants to token ids, orphan grants. It
/// takes the whole `MetadataStore`: what it checks is how tokens and their grants interact.
extension MetadataStoreConformance {
    public static func tokenStore(_ store: any MetadataStore, writeLegacyGrant: LegacyGrantWriter) async throws {
        try await tokens(store)
        try await tokenBinding(store)
        try await orphans(store, writeLegacyGrant)
    }

    static func tokens(_ store: any MetadataStore) async throws {
        let id = try Identity.token(named: "ci")
        let hash = String(repeating: "b", count: 64)
        let bound = try await store.createStaticToken(id, hash: hash, createdAt: 5)
        try expect(bound.tokenName == id && bound.tokenID != nil, "a new token has an id: \(bound)")
        try await expect(store.staticTokenIdentity(hash: hash) == bound, "token digest resolves to its identity")
        try await expect(store.staticToken(named: id) == bound, "the name resolves to the token holding it")
        try await expect(store.staticTokenIdentity(hash: String(repeating: "c", count: 64)) == nil, "unknown digest is nil")
        do {
            try await store.createStaticToken(id, hash: String(repeating: "d", count: 64), createdAt: 6)
            throw ConformanceFailure("a second token with the same name must fail")
        } catch let e as RegistryError { try expect(e.code == .conflict, "duplicate token name is .conflict") }
        try await store.putGrant(Grant(namespace: try Namespace("conf-tok"), identity: id, permissions: Permissions(download: true)), mode: .create)
        try await store.putGrant(
            Grant(namespace: try Namespace("conf-tok-2"), identity: bound, permissions: Permissions(upload: true)),
            mode: .create
        )
        try await expect(store.grants(for: bound).map(\.namespace.value) == ["conf-tok", "conf-tok-2"], "grants by name or by id land on the token")
        try await expect(store.revokeStaticToken(id) == 2, "revoking says how many grants it removed")
        try await expect(store.staticTokenIdentity(hash: hash) == nil, "revoked token no longer resolves")
        try await expect(store.staticToken(named: id) == nil, "a revoked name resolves to nothing")
        try await expect(store.grants(for: bound).isEmpty, "revoking removes the token's grants")
        try await expect(store.revokeStaticToken(id) == nil, "revoking again is nil")
    }

    /// Grants belong to one token, never to a name: the two attacks of "Trust II" item 7.
    static func tokenBinding(_ store: any MetadataStore) async throws {
        let ns = try Namespace("conf-bind")
        let newhire = try Identity.token(named: "newhire")
        // 1. A grant for a token that does not exist yet is refused, so it cannot wait for one.
        try await refused(.notFound, "a grant for a token that does not exist") {
            try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true, upload: true)), mode: .create)
        }
        try await refused(.notFound, "an upsert for a token that does not exist") {
            try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true)), mode: .upsert)
        }
        try await expect(store.grants(in: ns).isEmpty, "the refused grant was not stored")
        let first = try await store.createStaticToken(newhire, hash: String(repeating: "1", count: 64), createdAt: 1)
        try await expect(store.grants(for: first).isEmpty, "a new token starts with no grants")
        try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true, upload: true)), mode: .create)
        try await expect(store.grant(for: first, in: ns)?.permissions == Permissions(download: true, upload: true), "the grant is the token's")
        try await expect(store.grant(for: newhire, in: ns) == nil, "nothing is stored under the bare name")
        // 2. Revoke, then a new token under the same name: it has no grants, and the old id is refused.
        try await expect(store.revokeStaticToken(newhire) == 1, "revoke removes the one grant")
        let second = try await store.createStaticToken(newhire, hash: String(repeating: "2", count: 64), createdAt: 2)
        try expect(second != first && second.tokenName == first.tokenName, "the new token has a new id: \(first) then \(second)")
        try await expect(store.staticTokenIdentity(hash: String(repeating: "2", count: 64)) == second, "the new token authenticates as itself")
        try await expect(store.grants(for: second).isEmpty, "the new token inherits nothing")
        try await expect(store.grant(for: second, in: ns) == nil, "the new token has no grant in the namespace")
        try await refused(.notFound, "a grant for the revoked token's id") {
            try await store.putGrant(Grant(namespace: ns, identity: first, permissions: Permissions(download: true)), mode: .upsert)
        }
        let landed = (try await store.grant(for: first, in: ns), try await store.grant(for: second, in: ns))
        try expect(landed.0 == nil && landed.1 == nil, "the refused grant landed nowhere")
        try await store.putGrant(Grant(namespace: ns, identity: second, permissions: Permissions(download: true)), mode: .create)
        try await expect(store.grants(in: ns).map(\.identity) == [second], "a grant by the current id is the token's")
        try await expect(store.orphanGrants(named: newhire).isEmpty, "no orphans while every grant is the current token's")
        // IAM principals are unaffected: grants need no token.
        let role = try Identity("arn:aws:iam::123456789012:role/newhire")
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: Permissions(download: true)), mode: .create)
        try await expect(store.grant(for: role, in: ns)?.permissions.download == true, "IAM grants need no token")
        try await expect(store.revokeStaticToken(newhire) == 1, "cleanup")
    }

    /// Grants under a name no token holds (data from before ids): never applied, reported, and a token
    /// is created over them only when the administrator says to discard them.
    static func orphans(_ store: any MetadataStore, _ writeLegacyGrant: LegacyGrantWriter) async throws {
        let ns = try Namespace("conf-orphan")
        let name = try Identity.token(named: "leaver")
        try await writeLegacyGrant(Grant(namespace: ns, identity: name, permissions: Permissions(download: true, upload: true, createGrant: true)))
        try await expect(store.orphanGrants(named: name).map(\.namespace) == [ns], "the leftover grant is an orphan")
        try await refused(.conflict, "creating a token over orphan grants") {
            try await store.createStaticToken(name, hash: String(repeating: "3", count: 64), createdAt: 3)
        }
        try await expect(store.staticTokenIdentity(hash: String(repeating: "3", count: 64)) == nil, "the refused token was not created")
        let token = try await store.createStaticToken(name, hash: String(repeating: "3", count: 64), createdAt: 3, discardingOrphans: true)
        try await expect(store.grants(for: token).isEmpty, "the new token does not inherit the orphan grant")
        try await expect(store.orphanGrants(named: name).isEmpty, "discarding deleted the orphans")
        try await expect(store.grants(in: ns).isEmpty, "nothing left in the namespace")
        try await expect(store.revokeStaticToken(name) == 0, "revoke: no grants")
    }
}
