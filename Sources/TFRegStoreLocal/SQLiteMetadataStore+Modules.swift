import TFRegCore
import TFRegSystem

/// `ModuleStore` on SQLite: the `module_versions` and `version_tombstones` tables (summaries are in
/// `+Summaries`).
extension SQLiteMetadataStore {
    /// `module_versions` as `record(_:)` reads it.
    enum VersionColumn: Int, SQLColumns {
        case namespace, name, system, version, bucket, key, sha256, size, publishedAt, publishedBy
        case deprecatedAt, deprecatedBy, deprecationReason, deprecationReplacement
        case description, source, docsKey
    }

    static let versionColumns = VersionColumn.selectList

    static func record(_ row: SQLRow) -> ModuleVersionRecord? {
        typealias C = VersionColumn
        guard row.count == C.count, let ns = row[C.namespace].string, let name = row[C.name].string, let sys = row[C.system].string,
            let v = row[C.version].string, let key = row[C.key].string, let sha = row[C.sha256].string, let size = row[C.size].int,
            let at = row[C.publishedAt].int,
            let module = try? ModuleAddress(namespace: ns, name: name, system: sys), let version = try? Version(v)
        else { return nil }
        let deprecation = row[C.deprecatedAt].int.map {
            Deprecation(
                reason: row[C.deprecationReason].string ?? "",
                replacement: row[C.deprecationReplacement].string,
                at: $0,
                by: row[C.deprecatedBy].string
            )
        }
        return ModuleVersionRecord(
            module: module,
            version: version,
            location: ArchiveLocation(bucket: row[C.bucket].string, key: key),
            sha256: sha,
            size: size,
            publishedAt: at,
            publishedBy: row[C.publishedBy].string,
            deprecation: deprecation,
            description: row[C.description].string,
            source: row[C.source].string,
            docsKey: row[C.docsKey].string
        )
    }

    public func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord] {
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        let load = { () async throws(RegistryError) -> [ModuleVersionRecord] in
            try await self.run { db throws(SQLiteError) in
                try db.query("SELECT \(Self.versionColumns) FROM module_versions WHERE namespace = ? AND name = ? AND system = ?", params)
                    .compactMap(Self.record)
                    // Highest precedence first, as `RegistryService.versions` answers them: a cached
                    // list is then used as it is, not sorted again on every request.
                    .sorted { $1.version < $0.version }
            }
        }
        guard let cache else { return try await load() }
        return try await cache.versions(module, load: load)
    }

    public func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord? {
        if cache != nil {
            // Served from the cached version list of the module (the download path's one lookup).
            return try await versions(of: module).first { $0.version == version }
        }
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(Self.versionColumns) FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?", params)
                .first.flatMap(Self.record)
        }
    }

    public func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord] {
        let ns = namespace?.value
        return try await run { db throws(SQLiteError) in
            if let ns {
                return try db.query("SELECT \(Self.versionColumns) FROM module_versions WHERE namespace = ?", [.text(ns)]).compactMap(Self.record)
            }
            return try db.query("SELECT \(Self.versionColumns) FROM module_versions").compactMap(Self.record)
        }
    }

    public func insertVersion(_ r: ModuleVersionRecord) async throws(RegistryError) {
        defer { cache?.invalidate() }
        let params: [SQLValue] = [
            .text(r.module.namespace.value), .text(r.module.name), .text(r.module.system), .text(r.version.description),
            r.location.bucket.map(SQLValue.text) ?? .null, .text(r.location.key), .text(r.sha256), .integer(r.size),
            .integer(r.publishedAt), r.publishedBy.map(SQLValue.text) ?? .null,
            r.deprecation.map { .integer($0.at) } ?? .null, r.deprecation?.by.map(SQLValue.text) ?? .null,
            r.deprecation.map { .text($0.reason) } ?? .null, r.deprecation?.replacement.map(SQLValue.text) ?? .null,
            r.description.map(SQLValue.text) ?? .null, r.source.map(SQLValue.text) ?? .null, r.docsKey.map(SQLValue.text) ?? .null,
        ]
        let precedence: [SQLValue] = [.text(r.module.namespace.value), .text(r.module.name), .text(r.module.system), .text(r.version.precedenceKey)]
        let spelledAs: String?
        do {
            spelledAs = try await connection.run { db throws(SQLiteError) -> String? in
                try db.transaction { () throws(SQLiteError) -> String? in
                    if let other = try Self.otherSpelling(db, r.module) { return other }
                    // The precedence row is the lock: a second `1.0.0+b`, or a deleted number, fails here.
                    _ = try db.query("INSERT INTO version_precedences (namespace, name, system, precedence) VALUES (?,?,?,?)", precedence)
                    _ = try db.query("INSERT INTO module_versions (\(Self.versionColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)", params)
                    try Self.writeSummary(db, r.module)
                    return nil
                }
            }
        } catch {
            if error.isConstraint { throw .conflict("version \(r.version) of module \(r.module) already exists; versions are immutable") }
            throw Self.map(error)
        }
        if let spelledAs {
            throw .conflict("\(r.module) is another spelling of an existing \(spelledAs) (names are case-insensitive)")
        }
    }

    /// "module" or "namespace" when `module` would be a new second spelling (ignoring ASCII case) of
    /// a module or namespace that has precedence rows (live or deleted versions); nil when it is
    /// free, or already stored under this very spelling (two spellings from before migration 8 both
    /// keep working).
    static func otherSpelling(_ db: SQLiteConnection, _ module: ModuleAddress) throws(SQLiteError) -> String? {
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        let row = try db.query(
            """
            SELECT
              EXISTS (SELECT 1 FROM version_precedences WHERE namespace = ?1 AND name = ?2 AND system = ?3),
              EXISTS (SELECT 1 FROM version_precedences WHERE lower(namespace) = lower(?1) AND lower(name) = lower(?2) AND system = ?3
                      AND NOT (namespace = ?1 AND name = ?2)),
              EXISTS (SELECT 1 FROM version_precedences WHERE namespace = ?1),
              EXISTS (SELECT 1 FROM version_precedences WHERE lower(namespace) = lower(?1) AND namespace <> ?1)
            """,
            key
        ).first
        let flags = (0..<4).map { i in (row?.count ?? 0) > i && (row?[i].int ?? 0) != 0 }
        if !flags[0] && flags[1] { return "module" }
        if !flags[2] && flags[3] { return "namespace" }
        return nil
    }

    public func tombstoneVersion(
        _ version: Version,
        of module: ModuleAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        defer { cache?.invalidate() }
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description)]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> ModuleVersionRecord? in
                let where_ = "WHERE namespace = ? AND name = ? AND system = ? AND version = ?"
                guard let existing = try db.query("SELECT \(Self.versionColumns) FROM module_versions \(where_)", params).first.flatMap(Self.record)
                else {
                    return nil
                }
                try db.query("DELETE FROM module_versions \(where_)", params)
                try db.query(
                    "INSERT OR REPLACE INTO version_tombstones (namespace, name, system, version, sha256, deleted_at, deleted_by) VALUES (?,?,?,?,?,?,?)",
                    params + [.text(existing.sha256), .integer(at), by.map(SQLValue.text) ?? .null]
                )
                try Self.writeSummary(db, module)
                return existing
            }
        }
    }

    /// Removes a version row outright, with its precedence reservation: only for a backup's own
    /// snapshot, where a row whose archive could not be copied must not exist at all.
    /// In a backup's copy only: the version keeps its row, without documentation (its file was missing).
    func clearDocumentationInSnapshot(_ version: Version, of module: ModuleAddress) async throws(RegistryError) {
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description)]
        try await run { db throws(SQLiteError) in
            try db.query("UPDATE module_versions SET docs_key = NULL WHERE namespace = ? AND name = ? AND system = ? AND version = ?", key)
        }
    }

    func dropFromSnapshot(_ version: Version, of module: ModuleAddress) async throws(RegistryError) {
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        let v = version.description
        let p = version.precedenceKey
        try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) in
                try db.query("DELETE FROM module_versions WHERE namespace = ? AND name = ? AND system = ? AND version = ?", params + [.text(v)])
                try db.query(
                    "DELETE FROM version_precedences WHERE namespace = ? AND name = ? AND system = ? AND precedence = ?",
                    params + [.text(p)]
                )
                try Self.writeSummary(db, module)
            }
        }
    }

    /// `version_tombstones` as `tombstones(of:)` reads it.
    private enum TombstoneColumn: Int, SQLColumns {
        case version, sha256, deletedAt, deletedBy
    }

    public func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone] {
        typealias C = TombstoneColumn
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        return try await run { db throws(SQLiteError) in
            try db.query(
                "SELECT \(C.selectList) FROM version_tombstones WHERE namespace = ? AND name = ? AND system = ?",
                params
            )
            .compactMap { row in
                guard row.count == C.count, let v = row[C.version].string.flatMap({ try? Version($0) }), let sha = row[C.sha256].string,
                    let at = row[C.deletedAt].int
                else {
                    return nil
                }
                return VersionTombstone(module: module, version: v, sha256: sha, deletedAt: at, deletedBy: row[C.deletedBy].string)
            }
        }
    }

    public func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool {
        defer { cache?.invalidate() }
        let params: [SQLValue] = [
            to.bucket.map(SQLValue.text) ?? .null, .text(to.key), .text(sha256), .integer(size),
            .text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description),
            .text(from.key), from.bucket.map(SQLValue.text) ?? .null,
        ]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> Bool in
                try db.query(
                    "UPDATE module_versions SET bucket = ?1, key = ?2, sha256 = ?3, size = ?4 WHERE namespace = ?5 AND name = ?6 AND system = ?7 AND version = ?8 AND key = ?9 AND bucket IS ?10",
                    params
                )
                guard db.changes == 1 else { return false }
                // The summary does not show the archive; rewriting it builds one a module may lack.
                try Self.writeSummary(db, module)
                return true
            }
        }
    }

    public func setDeprecation(_ d: Deprecation?, version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord? {
        defer { cache?.invalidate() }
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description)]
        let values: [SQLValue] = [
            d.map { .integer($0.at) } ?? .null, d?.by.map(SQLValue.text) ?? .null, d.map { .text($0.reason) } ?? .null,
            d?.replacement.map(SQLValue.text) ?? .null,
        ]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> ModuleVersionRecord? in
                let where_ = "WHERE namespace = ?5 AND name = ?6 AND system = ?7 AND version = ?8"
                try db.query(
                    "UPDATE module_versions SET deprecated_at = ?1, deprecated_by = ?2, deprecation_reason = ?3, deprecation_replacement = ?4 \(where_)",
                    values + key
                )
                guard db.changes > 0 else { return nil }
                try Self.writeSummary(db, module)
                return try db.query("SELECT \(Self.versionColumns) FROM module_versions \(where_)", [.null, .null, .null, .null] + key)
                    .first.flatMap(Self.record)
            }
        }
    }

    public func setDocumentation(
        docsKey: String,
        description: String?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        defer { cache?.invalidate() }
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system), .text(version.description)]
        let values: [SQLValue] = [.text(docsKey), description.map(SQLValue.text) ?? .null]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> ModuleVersionRecord? in
                let where_ = "WHERE namespace = ?3 AND name = ?4 AND system = ?5 AND version = ?6"
                try db.query("UPDATE module_versions SET docs_key = ?1, description = coalesce(?2, description) \(where_)", values + key)
                guard db.changes > 0 else { return nil }
                try Self.writeSummary(db, module)
                return try db.query("SELECT \(Self.versionColumns) FROM module_versions \(where_)", [.null, .null] + key).first.flatMap(Self.record)
            }
        }
    }
}
