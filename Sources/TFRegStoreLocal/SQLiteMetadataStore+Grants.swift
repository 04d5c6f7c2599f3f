import TFRegCore
import TFRegSystem

/// `GrantStore` on SQLite: the `grants` table; a static token's grant is written for the token that
/// holds its name, looked up in `static_tokens` in the same transaction.
extension SQLiteMetadataStore {
    /// `grants` as `grant(_:)` reads it.
    enum GrantColumn: Int, SQLColumns {
        case namespace, identity, download, upload, createGrant, deleteGrant
    }

    static func grant(_ row: SQLRow) -> Grant? {
        typealias C = GrantColumn
        guard row.count == C.count, let ns = row[C.namespace].string.flatMap({ try? Namespace($0) }),
            let id = row[C.identity].string.flatMap({ try? Identity($0) })
        else { return nil }
        return Grant(
            namespace: ns,
            identity: id,
            permissions: Permissions(
                download: row[C.download].int == 1,
                upload: row[C.upload].int == 1,
                createGrant: row[C.createGrant].int == 1,
                deleteGrant: row[C.deleteGrant].int == 1
            )
        )
    }

    static let grantColumns = GrantColumn.selectList

    public func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant? {
        let params: [SQLValue] = [.text(namespace.value), .text(identity.value)]
        let load = { () async throws(RegistryError) -> Grant? in
            try await self.run { db throws(SQLiteError) in
                try db.query("SELECT \(Self.grantColumns) FROM grants WHERE namespace = ? AND identity = ?", params).first.flatMap(Self.grant)
            }
        }
        guard let cache else { return try await load() }
        return try await cache.grant(ReadCache.GrantKey(namespace: namespace, identity: identity), load: load)
    }

    public func grants(in namespace: Namespace) async throws(RegistryError) -> [Grant] {
        let params: [SQLValue] = [.text(namespace.value)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(Self.grantColumns) FROM grants WHERE namespace = ? ORDER BY identity", params).compactMap(Self.grant)
        }
    }

    public func grants(for identity: Identity) async throws(RegistryError) -> [Grant] {
        let params: [SQLValue] = [.text(identity.value)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(Self.grantColumns) FROM grants WHERE identity = ? ORDER BY namespace", params).compactMap(Self.grant)
        }
    }

    public func putGrant(_ g: Grant, mode: GrantWriteMode) async throws(RegistryError) {
        defer { cache?.invalidate() }
        let p = g.permissions
        let name: SQLValue = g.identity.tokenName.map { .text($0.value) } ?? .null
        let wantedID: SQLValue = g.identity.tokenID.map(SQLValue.text) ?? .null
        let flags: [SQLValue] = [
            .integer(p.download ? 1 : 0), .integer(p.upload ? 1 : 0), .integer(p.createGrant ? 1 : 0), .integer(p.deleteGrant ? 1 : 0),
        ]
        // A token's grant is written for the token holding the name, in the same transaction as the
        // lookup, so it cannot land on a token revoked meanwhile.
        let outcome: (changed: Int, current: String?) = try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> (changed: Int, current: String?) in
                var identity = g.identity.value
                if case .text(let n) = name {
                    guard let id = try db.query("SELECT id FROM static_tokens WHERE identity = ?", [.text(n)]).first?.first?.string else {
                        return (-1, nil)
                    }
                    if case .text(let wanted) = wantedID, wanted != id { return (-1, "\(n)#\(id)") }
                    identity = "\(n)#\(id)"
                }
                let values: [SQLValue] = [.text(g.namespace.value), .text(identity)] + flags
                switch mode {
                case .create:
                    try db.query("INSERT OR IGNORE INTO grants (\(Self.grantColumns)) VALUES (?,?,?,?,?,?)", values)
                case .update:
                    try db.query(
                        "UPDATE grants SET download = ?3, upload = ?4, create_grant = ?5, delete_grant = ?6 WHERE namespace = ?1 AND identity = ?2",
                        values
                    )
                case .upsert:
                    try db.query("INSERT OR REPLACE INTO grants (\(Self.grantColumns)) VALUES (?,?,?,?,?,?)", values)
                }
                return (db.changes, identity)
            }
        }
        if outcome.changed < 0 {
            guard let current = outcome.current.flatMap({ try? Identity($0) }) else { throw OrphanGrants.noToken(g.identity) }
            throw OrphanGrants.superseded(g.identity, by: current)
        }
        if outcome.changed == 0 {
            switch mode {
            case .create: throw .conflict("a grant for \(g.identity) on namespace '\(g.namespace)' already exists; use update")
            case .update: throw .notFound("no grant for \(g.identity) on namespace '\(g.namespace)'; use create")
            case .upsert: break
            }
        }
    }

    public func deleteGrant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Bool {
        defer { cache?.invalidate() }
        let params: [SQLValue] = [.text(namespace.value), .text(identity.value)]
        return try await run { db throws(SQLiteError) in
            try db.query("DELETE FROM grants WHERE namespace = ? AND identity = ?", params)
            return db.changes > 0
        }
    }
}
