import TFRegCore

/// The `GrantStore` section: grants of IAM principals (a token's grants need a token: they are in
/// the `TokenStore` section).
extension MetadataStoreConformance {
    public static func grantStore(_ store: any GrantStore) async throws {
        try await grants(store)
    }

    static func grants(_ store: any GrantStore) async throws {
        let ns = try Namespace("conf-grants")
        let role = try Identity("arn:aws:iam::123456789012:role/deployer")
        let perms = Permissions(download: true, upload: false, createGrant: true, deleteGrant: false)
        try await expect(store.grant(for: role, in: ns) == nil, "no grant before create")
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: perms), mode: .create)
        try await expect(store.grant(for: role, in: ns)?.permissions == perms, "grant round-trips its permissions")
        do {
            try await store.putGrant(Grant(namespace: ns, identity: role, permissions: .none), mode: .create)
            throw ConformanceFailure("create over an existing grant must fail")
        } catch let e as RegistryError { try expect(e.code == .conflict, "create over existing is .conflict") }
        do {
            try await store.putGrant(Grant(namespace: try Namespace("elsewhere"), identity: role, permissions: .none), mode: .update)
            throw ConformanceFailure("update of a missing grant must fail")
        } catch let e as RegistryError { try expect(e.code == .notFound, "update of missing is .notFound") }
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: Permissions(upload: true)), mode: .update)
        try await expect(store.grant(for: role, in: ns)?.permissions == Permissions(upload: true), "update replaces permissions")
        let ns2 = try Namespace("conf-grants-2")
        try await store.putGrant(Grant(namespace: ns2, identity: role, permissions: Permissions(download: true)), mode: .upsert)
        try await expect(store.grants(for: role).map(\.namespace) == [ns, ns2], "grants(for:) lists every namespace, sorted")
        try await expect(store.grants(in: ns).map(\.identity) == [role], "grants(in:) lists the namespace")
        try await expect(store.deleteGrant(for: role, in: ns), "delete returns true")
        try await expect(!(store.deleteGrant(for: role, in: ns)), "delete again returns false")
        try await expect(store.grant(for: role, in: ns) == nil, "deleted grant is gone")
    }
}
