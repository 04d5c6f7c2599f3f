import TFRegCore

/// Module summaries on SQLite: the `module_summaries` table (migration 4), one row per module with at
/// least one live version, rewritten from the module's version rows inside the transaction of every
/// change to them, and filled from the existing rows by the migration itself.
extension SQLiteMetadataStore {
    /// The index in `migrations` of the one that creates `module_summaries` (filled right after it).
    static let summariesMigration = 3

    static let summariesTable = """
        CREATE TABLE module_summaries (
            namespace TEXT NOT NULL, name TEXT NOT NULL, system TEXT NOT NULL,
            latest TEXT NOT NULL, latest_published_at INTEGER NOT NULL, latest_published_by TEXT,
            latest_deprecated INTEGER NOT NULL, version_count INTEGER NOT NULL, updated_at INTEGER NOT NULL,
            description TEXT NOT NULL DEFAULT '', downloads INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (namespace, name, system)
        ) WITHOUT ROWID;
        """

    /// `module_summaries` as `summary(_:)` reads it.
    private enum SummaryColumn: Int, SQLColumns {
        case namespace, name, system, latest, latestPublishedAt, latestPublishedBy, latestDeprecated, versionCount, updatedAt
        case description, downloads, source
    }

    private static func summary(_ row: SQLRow) -> ModuleSummary? {
        typealias C = SummaryColumn
        guard row.count == C.count, let ns = row[C.namespace].string, let name = row[C.name].string, let sys = row[C.system].string,
            let module = try? ModuleAddress(namespace: ns, name: name, system: sys),
            let latest = row[C.latest].string.flatMap({ try? Version($0) }), let at = row[C.latestPublishedAt].int,
            let count = row[C.versionCount].int, let updated = row[C.updatedAt].int
        else { return nil }
        return ModuleSummary(
            module: module,
            latest: latest,
            latestPublishedAt: at,
            latestPublishedBy: row[C.latestPublishedBy].string,
            latestDeprecated: (row[C.latestDeprecated].int ?? 0) != 0,
            versionCount: Int(clamping: count),
            updatedAt: updated,
            description: row[C.description].string ?? "",
            downloads: row[C.downloads].int ?? 0,
            source: row[C.source].string
        )
    }

    /// Rewrites one module's summary row from its version rows (deletes it when none is left). Runs
    /// inside the caller's transaction, so the summary changes with the versions or not at all.
    static func writeSummary(_ db: SQLiteConnection, _ module: ModuleAddress) throws(SQLiteError) {
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        let records = try db.query("SELECT \(versionColumns) FROM module_versions WHERE namespace = ? AND name = ? AND system = ?", key)
            .compactMap(record)
        let kept = try db.query("SELECT description, downloads FROM module_summaries WHERE namespace = ? AND name = ? AND system = ?", key).first
        guard
            let s = ModuleSummary.of(
                records,
                description: kept?.first?.string ?? "",
                downloads: (kept?.count ?? 0) > 1 ? kept?[1].int ?? 0 : 0
            )
        else {
            try db.query("DELETE FROM module_summaries WHERE namespace = ? AND name = ? AND system = ?", key)
            return
        }
        try db.query(
            "INSERT OR REPLACE INTO module_summaries (\(SummaryColumn.selectList)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            key + [
                .text(s.latest.description), .integer(s.latestPublishedAt), s.latestPublishedBy.map(SQLValue.text) ?? .null,
                .integer(s.latestDeprecated ? 1 : 0), .integer(Int64(s.versionCount)), .integer(s.updatedAt), .text(s.description),
                .integer(s.downloads), s.source.map(SQLValue.text) ?? .null,
            ]
        )
    }

    /// Fills `module_summaries` for every module that has version rows (the migration's second half).
    static func fillSummaries(_ db: SQLiteConnection) throws(SQLiteError) {
        for row in try db.query("SELECT DISTINCT namespace, name, system FROM module_versions") {
            guard row.count == 3, let ns = row[0].string, let name = row[1].string, let sys = row[2].string,
                let module = try? ModuleAddress(namespace: ns, name: name, system: sys)
            else { continue }
            try writeSummary(db, module)
        }
    }

    public func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary] {
        let ns = namespace.value
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(SummaryColumn.selectList) FROM module_summaries WHERE namespace = ? ORDER BY name, system", [.text(ns)])
                .compactMap(Self.summary)
        }.sorted { $0.module < $1.module }
    }

    public func moduleSummary(of module: ModuleAddress) async throws(RegistryError) -> ModuleSummary? {
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(SummaryColumn.selectList) FROM module_summaries WHERE namespace = ? AND name = ? AND system = ?", key)
                .first.flatMap(Self.summary)
        }
    }

    public func addDownloads(_ count: Int64, to module: ModuleAddress) async throws(RegistryError) {
        let params: [SQLValue] = [.integer(count), .text(module.namespace.value), .text(module.name), .text(module.system)]
        try await run { db throws(SQLiteError) in
            _ = try db.query("UPDATE module_summaries SET downloads = downloads + ? WHERE namespace = ? AND name = ? AND system = ?", params)
        }
    }

    public func summaryNamespaces() async throws(RegistryError) -> [Namespace] {
        try await run { db throws(SQLiteError) in
            try db.query("SELECT DISTINCT namespace FROM module_summaries ORDER BY namespace").compactMap { row in
                row.first?.string.flatMap { try? Namespace($0) }
            }
        }
    }

    public func refreshSummary(of module: ModuleAddress) async throws(RegistryError) {
        try await run { db throws(SQLiteError) in try db.transaction { () throws(SQLiteError) in try Self.writeSummary(db, module) } }
    }
}

/// README words for search: the FTS5 table `module_readmes` (migration 5), one row per module. A
/// query's terms are letters and digits only (`ModuleSearch.terms`) and each is passed quoted, so no
/// user text is ever FTS5 syntax.
extension SQLiteMetadataStore {
    public func setReadmeWords(_ words: String, of module: ModuleAddress) async throws(RegistryError) {
        let key: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) in
                try db.query("DELETE FROM module_readmes WHERE namespace = ? AND name = ? AND system = ?", key)
                try db.query("INSERT INTO module_readmes (namespace, name, system, words) VALUES (?,?,?,?)", key + [.text(words)])
            }
        }
    }

    public func modulesWithReadme(matching terms: [String], in namespace: Namespace) async throws(RegistryError) -> Set<ModuleAddress> {
        let safe = terms.filter { !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber } }
        guard !safe.isEmpty else { return [] }
        // `"a" "b"`: every term, each a string (never an operator, a column filter or a prefix query).
        let match = safe.map { "\"" + $0 + "\"" }.joined(separator: " ")
        let ns = namespace.value
        return try await run { db throws(SQLiteError) in
            Set(
                try db.query("SELECT name, system FROM module_readmes WHERE module_readmes MATCH ? AND namespace = ?", [.text(match), .text(ns)])
                    .compactMap { row -> ModuleAddress? in
                        guard row.count == 2, let name = row[0].string, let system = row[1].string else { return nil }
                        return try? ModuleAddress(namespace: ns, name: name, system: system)
                    }
            )
        }
    }
}
