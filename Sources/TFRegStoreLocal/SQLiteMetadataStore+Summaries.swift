import TFRegCore
import TFRegSystem

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

/// Paged listing and ranked search in SQL (issue 19, scale): a page reads the rows it shows, not the
/// namespace.
///
/// - Listing: `ORDER BY name || '/' || system LIMIT n` on the index `module_summaries_order`
///   (migration 9), the module order (`ns/name/system`) within one namespace.
/// - Search: `ModuleSearch.rank` computed in SQL where SQL computes it exactly: ASCII query text
///   against the address (ASCII by the grammar; `lower` and `instr` then agree with Swift's
///   `lowercased` and `contains`) and against ASCII descriptions without a CR (Swift compares
///   characters, so `\r\n` is one). One query ranks those rows, `ORDER BY rank DESC, module LIMIT n`
///   (SQLite keeps a top-n sorter, so only the page's rows come back); the rows SQL cannot rank
///   exactly (a description with other characters) come back from a second query and are ranked
///   by `ModuleSearch.rank` itself. A query with non-ASCII text is ranked by reading
///   (`searchByReading`). Both queries still visit each row of the namespace inside SQLite
///   (substrings have no index), but decode only matches.
extension SQLiteMetadataStore {
    static let summariesOrderIndex = "CREATE INDEX IF NOT EXISTS module_summaries_order ON module_summaries (namespace, (name || '/' || system));"

    /// The listing query: `?1` namespace, `?2` the count, `?3` the system when filtered.
    static func pageQuery(filtered: Bool) -> String {
        "SELECT \(SummaryColumn.selectList) FROM module_summaries WHERE namespace = ?1\(filtered ? " AND system = ?3" : "")"
            + " ORDER BY name || '/' || system LIMIT ?2"
    }

    public func moduleSummaries(in namespace: Namespace, system: String?, first count: Int) async throws(RegistryError) -> [ModuleSummary] {
        guard count > 0 else { return [] }
        let params: [SQLValue] = [.text(namespace.value), .integer(Int64(clamping: count))] + (system.map { [.text($0)] } ?? [])
        let sql = Self.pageQuery(filtered: system != nil)
        let ns = namespace
        return try await run { db throws(SQLiteError) in
            try db.query(sql, params).compactMap(Self.summary).filter { $0.module.namespace == ns }
        }
    }

    /// A row SQL cannot rank exactly: its description has a non-ASCII character or a CR.
    static let inexactRow = "(length(description) != length(CAST(description AS BLOB)) OR instr(description, char(13)) > 0)"

    /// The two search queries for `needles` (the terms, or the raw text when there are none), with
    /// the README words condition when `readme`. Parameters: `?1` namespace, `?2` count, `?3` system
    /// (when `filtered`), `?4` the FTS5 match (when `readme`), `?5…` the needles.
    static func searchQueries(needles: Int, readme: Bool, filtered: Bool) -> (ranked: String, inexact: String) {
        let address = "lower(namespace || '/' || name || '/' || system)"
        let inAddress = (0..<needles).map { "instr(\(address), ?\($0 + 5)) > 0" }.joined(separator: " AND ")
        let inDescription = (0..<needles).map { "instr(lower(description), ?\($0 + 5)) > 0" }.joined(separator: " AND ")
        let inReadme = readme ? "(name, system) IN (SELECT name, system FROM module_readmes WHERE module_readmes MATCH ?4 AND namespace = ?1)" : "0"
        let rows = "FROM module_summaries WHERE namespace = ?1\(filtered ? " AND system = ?3" : "")"
        let rank = "CASE WHEN \(inAddress) THEN 3 WHEN \(inDescription) THEN 2 WHEN \(inReadme) THEN 1 ELSE 0 END"
        let ranked = """
            SELECT * FROM (SELECT \(SummaryColumn.selectList), \(rank) AS rank \(rows) AND NOT \(inexactRow))
            WHERE rank > 0 ORDER BY rank DESC, name || '/' || system LIMIT ?2
            """
        let inexact = "SELECT \(SummaryColumn.selectList), \(inReadme) AS readme \(rows) AND \(inexactRow)"
        return (ranked, inexact)
    }

    public func searchModules(
        terms: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit] {
        guard count > 0 else { return [] }
        let needles = terms.isEmpty ? [rawText.lowercased()] : terms
        // Printable ASCII only (no NUL, which would end the bound text; no CR/LF, which Swift
        // joins into one character), never empty: anything else is ranked by `ModuleSearch.rank`.
        guard needles.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= 0x20 && $0 < 0x7f } }),
            terms.allSatisfy({ $0.utf8.allSatisfy(ASCII.isAlnum) })
        else {
            return try await searchByReading(terms: terms, rawText: rawText, in: namespace, system: system, first: count)
        }
        let readme = !terms.isEmpty
        // `"a" "b"`: every term, each a string (never an operator, a column filter or a prefix query).
        let match = terms.map { "\"" + $0 + "\"" }.joined(separator: " ")
        let params: [SQLValue] =
            [.text(namespace.value), .integer(Int64(clamping: count)), system.map(SQLValue.text) ?? .null, readme ? .text(match) : .null]
            + needles.map(SQLValue.text)
        // The second query names no needle (nor `?4` without README words, `?3` without a system):
        // SQLite refuses a bound parameter beyond the highest one the statement names.
        let inexactParams = Array(params.prefix(readme ? 4 : system != nil ? 3 : 1))
        let (rankedSQL, inexactSQL) = Self.searchQueries(needles: needles.count, readme: readme, filtered: system != nil)
        let ns = namespace
        let (ranked, inexact) = try await run { db throws(SQLiteError) in
            (try db.query(rankedSQL, params), try db.query(inexactSQL, inexactParams))
        }
        var top = ModuleSearch.TopK(capacity: count)
        for row in ranked {
            guard let rank = row.last?.int, let s = Self.summary(Array(row.dropLast())), s.module.namespace == ns else { continue }
            top.insert(ModuleSearch.Hit(rank: Int(rank), summary: s))
        }
        for row in inexact {
            guard let s = Self.summary(Array(row.dropLast())), s.module.namespace == ns else { continue }
            let rank = ModuleSearch.rank(s, terms: terms, rawText: rawText, readmeMatch: (row.last?.int ?? 0) != 0)
            if rank > 0 { top.insert(ModuleSearch.Hit(rank: rank, summary: s)) }
        }
        return top.hits
    }
}
