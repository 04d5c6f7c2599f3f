import TFRegCore
import TFRegSystem

/// `AuditStore` on SQLite: table `audit_events`, the event's JSON in `event`, read by
/// `(namespace, time, id)`. Rows older than `AuditRetention.seconds` are deleted as new ones are
/// written (one indexed DELETE per event; changes are rare).
extension SQLiteMetadataStore {
    static let auditTable = """
        CREATE TABLE audit_events (
            namespace TEXT NOT NULL, time INTEGER NOT NULL, id TEXT NOT NULL, event TEXT NOT NULL,
            PRIMARY KEY (namespace, time, id)
        ) WITHOUT ROWID;
        CREATE INDEX audit_events_by_time ON audit_events (time);
        """

    public func recordAudit(_ event: AuditEvent) async throws(RegistryError) {
        let params: [SQLValue] = [.text(event.namespace?.value ?? ""), .integer(event.time), .text(event.id), .text(event.encoded)]
        let cutoff = event.time - AuditRetention.seconds
        try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) in
                _ = try db.query("INSERT OR REPLACE INTO audit_events (namespace, time, id, event) VALUES (?, ?, ?, ?)", params)
                _ = try db.query("DELETE FROM audit_events WHERE time < ?", [.integer(cutoff)])
            }
        }
    }

    public func auditEvents(
        in namespace: Namespace?,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int
    ) async throws(RegistryError)
        -> [AuditEvent]
    {
        let ns = SQLValue.text(namespace?.value ?? "")
        let sql: String
        let params: [SQLValue]
        if let cursor {
            sql = """
                SELECT event FROM audit_events WHERE namespace = ? AND time >= ? AND (time > ? OR (time = ? AND id > ?))
                ORDER BY time, id LIMIT ?
                """
            params = [ns, .integer(since), .integer(cursor.time), .integer(cursor.time), .text(cursor.id), .integer(Int64(limit))]
        } else {
            sql = "SELECT event FROM audit_events WHERE namespace = ? AND time >= ? ORDER BY time, id LIMIT ?"
            params = [ns, .integer(since), .integer(Int64(limit))]
        }
        return try await run { db throws(SQLiteError) in
            try db.query(sql, params).compactMap { $0.first?.string.flatMap(AuditEvent.init(encoded:)) }
        }
    }
}
