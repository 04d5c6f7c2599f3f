import TFRegCore
import TFRegSystem

/// `TokenStore` on SQLite: the `static_tokens` table, and the orphan grants of a token name (grants
/// left under a name no live token holds).
extension SQLiteMetadataStore {
    public func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity? {
        let params: [SQLValue] = [.text(sha256)]
        let load = { () async throws(RegistryError) -> Identity? in
            try await self.run { db throws(SQLiteError) in
                try db.query("SELECT identity || '#' || id FROM static_tokens WHERE sha256 = ?", params).first?.first?.string.flatMap {
                    try? Identity($0)
                }
            }
        }
        guard let cache else { return try await load() }
        return try await cache.token(sha256, load: load)
    }

    public func staticToken(named name: Identity) async throws(RegistryError) -> Identity? {
        guard let name = name.tokenName else { return nil }
        let params: [SQLValue] = [.text(name.value)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT identity || '#' || id FROM static_tokens WHERE identity = ?", params).first?.first?.string.flatMap {
                try? Identity($0)
            }
        }
    }

    /// `token:NAME` itself, and `token:NAME#…` as a range (no LIKE: `_` is a wildcard there and a
    /// character of token names).
    private static let orphanCondition = "(identity = ?1 OR (identity >= ?1 || '#' AND identity < ?1 || '$')) AND identity IS NOT ?2"

    private static func orphans(_ db: SQLiteConnection, _ name: String) throws(SQLiteError) -> [Grant] {
        let current = try db.query("SELECT identity || '#' || id FROM static_tokens WHERE identity = ?", [.text(name)]).first?.first?.string
        return try db.query(
            "SELECT \(grantColumns) FROM grants WHERE \(orphanCondition) ORDER BY namespace, identity",
            [.text(name), current.map(SQLValue.text) ?? .null]
        )
        .compactMap(Self.grant)
    }

    public func orphanGrants(named name: Identity) async throws(RegistryError) -> [Grant] {
        guard let name = name.tokenName else { return [] }
        return try await run { db throws(SQLiteError) in try Self.orphans(db, name.value) }
    }

    public func createStaticToken(
        _ name: Identity,
        hash sha256: String,
        createdAt: Int64,
        discardingOrphans: Bool
    ) async throws(RegistryError) -> Identity {
        defer { cache?.invalidate() }
        guard let name = name.tokenName else { throw .badRequest("not a token name: \(name)") }
        let id = Identity.newTokenID()
        let params: [SQLValue] = [.text(name.value), .text(sha256), .integer(createdAt), .text(id)]
        let orphans: [Grant]
        do {
            orphans = try await connection.run { db throws(SQLiteError) -> [Grant] in
                try db.transaction { () throws(SQLiteError) -> [Grant] in
                    let orphans = try Self.orphans(db, name.value)
                    if !orphans.isEmpty {
                        guard discardingOrphans else { return orphans }
                        try db.query("DELETE FROM grants WHERE \(Self.orphanCondition)", [.text(name.value), .null])
                    }
                    _ = try db.query("INSERT INTO static_tokens (identity, sha256, created_at, id) VALUES (?,?,?,?)", params)
                    return []
                }
            }
        } catch {
            if error.isConstraint { throw .conflict("a token named \(name) already exists") }
            throw Self.map(error)
        }
        if !orphans.isEmpty { throw OrphanGrants.refusal(name, orphans) }
        return try Identity.token(named: name.value.dropFirst(6), id: id)
    }

    public func revokeStaticToken(_ name: Identity) async throws(RegistryError) -> Int? {
        defer { cache?.invalidate() }
        guard let name = name.tokenName else { return nil }
        let params: [SQLValue] = [.text(name.value)]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> Int? in
                guard let current = try db.query("SELECT identity || '#' || id FROM static_tokens WHERE identity = ?", params).first?.first?.string
                else { return nil }
                try db.query("DELETE FROM grants WHERE identity = ?", [.text(current)])
                let removed = db.changes
                try db.query("DELETE FROM static_tokens WHERE identity = ?", params)
                return removed
            }
        }
    }
}
