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
            try writeSearchText(db, module, description: nil)
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
        try writeSearchText(db, module, description: s.description)
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
                // By the module's row id (`module_search_ids`): a lookup, not a scan of every README.
                let id = try Self.searchID(db, key)
                try db.query("DELETE FROM module_readmes WHERE rowid = ?", [.integer(id)])
                try db.query(
                    "INSERT INTO module_readmes (rowid, namespace, name, system, words) VALUES (?,?,?,?,?)",
                    [.integer(id)] + key + [.text(words)]
                )
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
/// - Search (`searchByIndex`), tier by tier as `ModuleSearch.rank` orders them:
///   - Address (3) and description (2): candidates from the trigram index `module_summary_text`
///     (migration 10: every needle of 3 characters or more somewhere in the lowercased address or
///     description), then exactness where it was: SQL ranks the ASCII rows (`instr` on the
///     candidates, `ORDER BY rank DESC, module LIMIT n`), `ModuleSearch.rank` the candidates whose
///     description has other characters or a CR (the index holds Swift's lowercasing, so it never
///     misses what Swift finds). The index is global: when the candidates (every namespace's)
///     outnumber the namespace's rows (`fewerMatches`, cost about the smaller), the namespace is
///     scanned instead. Cost: about the smaller of the candidates and the namespace.
///   - README only (1), asked only when tiers 3 and 2 fill less than the page: its first rows in
///     module order, from a window of the namespace in module order (4 × the rows needed + 32 on
///     `module_summaries_order`, 4× larger a round), each README checked by rowid and by its
///     module's columns in `module_readmes`, stopping at the last row needed; it ends with the rows
///     needed, with the whole namespace, or, when the word's README matches (all namespaces) are
///     fewer than the window, with the FTS5 result joined and sorted. Cost: about the smallest of
///     the rows walked to the last match needed, the namespace and the matches.
///   - A query whose needles are all shorter than 3 characters (a trigram index cannot find them)
///     uses the scan of `searchByScanning`: each summary row of the namespace visited inside
///     SQLite (`instr` in C, only matches decoded), so its cost grows with the namespace.
///   - Query text with non-ASCII characters is ranked by reading (`searchByReading`).
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
        // Per row, by the module's id (a lookup, like the window's): an uncorrelated `IN` would
        // read the words' README matches in every namespace (the FTS5 table is global).
        let inReadme =
            readme
            ? """
            EXISTS (SELECT 1 FROM module_search_ids k CROSS JOIN module_readmes WHERE k.namespace = module_summaries.namespace
            AND k.name = module_summaries.name AND k.system = module_summaries.system AND module_readmes.rowid = k.id
            AND module_readmes MATCH ?4 AND module_readmes.namespace = k.namespace AND module_readmes.name = k.name
            AND module_readmes.system = k.system)
            """ : "0"
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
        // A trigram index finds substrings of 3 characters or more: one such needle narrows the
        // candidates; a query of only shorter needles scans the namespace.
        guard needles.contains(where: { $0.utf8.count >= 3 }) else {
            return try await searchByScanning(terms: terms, needles: needles, rawText: rawText, in: namespace, system: system, first: count)
        }
        return try await searchByIndex(terms: terms, needles: needles, rawText: rawText, in: namespace, system: system, first: count)
    }

    /// `needle` as one FTS5 string (`"` doubled inside): never an operator, a column filter or a prefix.
    static func ftsString(_ needle: String) -> String {
        var out = "\""
        for ch in needle { out += ch == "\"" ? "\"\"" : String(ch) }
        return out + "\""
    }

    /// The search before the trigram index: every row of the namespace visited inside SQLite (used
    /// for queries whose needles are all shorter than 3 characters).
    func searchByScanning(
        terms: [String],
        needles: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit] {
        let readme = !terms.isEmpty
        let match = terms.map(Self.ftsString).joined(separator: " ")
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

/// The indexes search reads candidates from (migration 10): `module_search_ids` gives each module
/// one row id, used by both FTS5 tables, so a module's README or text row is found, replaced or
/// checked by rowid; `module_summary_text` is a trigram index (every 3-character substring) over
/// each summary's address and description, written with the summary in `writeSummary`.
extension SQLiteMetadataStore {
    /// The index in `migrations` of `searchIndexes` (`fillSearchText` runs right after it).
    static let searchIndexMigration = 9

    /// Idempotent (as migration 9), so a schema version set back runs it again harmlessly: README rows
    /// keep the newest per module, whose rowid becomes the module's id; the trigram index is filled by
    /// `fillSearchText` (the description as Swift lowercases it, which SQL cannot compute).
    static let searchIndexes = """
        CREATE TABLE IF NOT EXISTS module_search_ids (
            id INTEGER PRIMARY KEY, namespace TEXT NOT NULL, name TEXT NOT NULL, system TEXT NOT NULL,
            UNIQUE (namespace, name, system)
        );
        DELETE FROM module_readmes WHERE rowid NOT IN (SELECT max(rowid) FROM module_readmes GROUP BY namespace, name, system);
        INSERT OR IGNORE INTO module_search_ids (id, namespace, name, system) SELECT rowid, namespace, name, system FROM module_readmes;
        CREATE VIRTUAL TABLE IF NOT EXISTS module_summary_text USING fts5(address, description, tokenize = 'trigram case_sensitive 1');
        """

    /// The row id of `key` (namespace, name, system) in both FTS5 tables, created on first use.
    static func searchID(_ db: SQLiteConnection, _ key: [SQLValue]) throws(SQLiteError) -> Int64 {
        try db.query("INSERT OR IGNORE INTO module_search_ids (namespace, name, system) VALUES (?,?,?)", key)
        guard let id = try db.query("SELECT id FROM module_search_ids WHERE namespace = ? AND name = ? AND system = ?", key).first?.first?.int
        else { throw SQLiteError(code: 1, message: "no search id for a module") }
        return id
    }

    /// What the trigram index holds of a text: Swift's `lowercased()` (what `ModuleSearch.rank`
    /// compares), with the two characters canonically equivalent to an ASCII one that `lowercased`
    /// keeps (U+037E is ';', U+1FEF is '`'; the Kelvin sign already becomes 'k') replaced by it.
    /// Swift's `contains` compares characters by canonical equivalence, so an ASCII needle it finds
    /// in the description is then a substring of these bytes too: the index never misses a match
    /// (it may offer a candidate Swift rejects, such as "e" before a combining accent).
    static func indexedText(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for u in text.lowercased().unicodeScalars {
            switch u.value {
            case 0x37E: out.append(";")
            case 0x1FEF: out.append("`")
            default: out.append(u)
            }
        }
        return String(out)
    }

    /// Replaces the module's row in `module_summary_text` (removes it when `description` is nil: no
    /// summary). Inside the caller's transaction.
    static func writeSearchText(_ db: SQLiteConnection, _ module: ModuleAddress, description: String?) throws(SQLiteError) {
        let id = try searchID(db, [.text(module.namespace.value), .text(module.name), .text(module.system)])
        try db.query("DELETE FROM module_summary_text WHERE rowid = ?", [.integer(id)])
        guard let description else { return }
        try db.query(
            "INSERT INTO module_summary_text (rowid, address, description) VALUES (?,?,?)",
            [.integer(id), .text(module.description.lowercased()), .text(indexedText(description))]
        )
    }

    /// Fills `module_summary_text` from every summary (migration 10's second half).
    static func fillSearchText(_ db: SQLiteConnection) throws(SQLiteError) {
        for row in try db.query("SELECT namespace, name, system, description FROM module_summaries") {
            guard row.count == 4, let ns = row[0].string, let name = row[1].string, let sys = row[2].string,
                let module = try? ModuleAddress(namespace: ns, name: name, system: sys)
            else { continue }
            try writeSearchText(db, module, description: row[3].string ?? "")
        }
    }

    /// `SummaryColumn.selectList` read from the table aliased `s`.
    static let summaryColumnsOfS = SummaryColumn.selectList.split(separator: ", ").map { "s." + $0 }.joined(separator: ", ")

    /// The summary rows (alias `s`) joined to `module_search_ids` (alias `k`) from the FTS5 table
    /// `fts` whose `MATCH ?4` drives the query: only matching rows are visited. `sameModule`: the
    /// FTS5 row's own namespace, name and system columns must be the module's too (`module_readmes`:
    /// a tfreg from before migration 10 inserts README rows with SQLite's automatic rowid, which may
    /// be another module's id).
    static func fromIndex(_ fts: String, filtered: Bool, sameModule: Bool = false) -> String {
        let own = sameModule ? " AND \(fts).namespace = k.namespace AND \(fts).name = k.name AND \(fts).system = k.system" : ""
        return """
            FROM \(fts) CROSS JOIN module_search_ids k CROSS JOIN module_summaries s
            WHERE \(fts) MATCH ?4 AND k.id = \(fts).rowid AND k.namespace = ?1\(own)
            AND s.namespace = k.namespace AND s.name = k.name AND s.system = k.system\(filtered ? " AND s.system = ?3" : "")
            """
    }

    /// The indexed search's queries. Parameters: `?1` namespace, `?2` a count, `?3` the system (when
    /// `filtered`), `?4` the FTS5 match, `?5…` the needles.
    /// - `ranked`, `inexact`: the address and description tiers (3 and 2) from the trigram
    ///   candidates (every long needle somewhere in the address or description), ranked in SQL
    ///   where it ranks exactly (as `searchQueries`), the others returned for `ModuleSearch.rank`.
    /// - `readmeWindow`: among the first `?2` rows of the namespace in module order
    ///   (`module_summaries_order`), the first `?5` whose README matches (`?4`, checked by rowid in
    ///   `module_readmes`).
    /// - `readmeSet`: the first `?2` rows in module order among those whose README matches, read
    ///   from the FTS5 result (for terms too rare for the window to find enough).
    static func indexQueries(needles: Int, filtered: Bool) -> (ranked: String, inexact: String, readmeWindow: String, readmeSet: String) {
        let address = "lower(s.namespace || '/' || s.name || '/' || s.system)"
        let inAddress = (0..<needles).map { "instr(\(address), ?\($0 + 5)) > 0" }.joined(separator: " AND ")
        let inDescription = (0..<needles).map { "instr(lower(s.description), ?\($0 + 5)) > 0" }.joined(separator: " AND ")
        let inexact = "(length(s.description) != length(CAST(s.description AS BLOB)) OR instr(s.description, char(13)) > 0)"
        let text = fromIndex("module_summary_text", filtered: filtered)
        let ranked = """
            SELECT * FROM (SELECT \(summaryColumnsOfS), CASE WHEN \(inAddress) THEN 3 WHEN \(inDescription) THEN 2 ELSE 0 END AS rank
            \(text) AND NOT \(inexact))
            WHERE rank > 0 ORDER BY rank DESC, name || '/' || system LIMIT ?2
            """
        // The window is a subquery with its own LIMIT (never flattened): its rows come in module
        // order and the outer LIMIT stops at the `?5`th match.
        let window = """
            SELECT \(SummaryColumn.selectList)
            FROM (SELECT \(summaryColumnsOfS), k.id AS id FROM module_summaries s CROSS JOIN module_search_ids k
            WHERE s.namespace = ?1\(filtered ? " AND s.system = ?3" : "")
            AND k.namespace = s.namespace AND k.name = s.name AND k.system = s.system
            ORDER BY s.name || '/' || s.system LIMIT ?2) w
            WHERE EXISTS (SELECT 1 FROM module_readmes WHERE module_readmes MATCH ?4 AND module_readmes.rowid = w.id
            AND module_readmes.namespace = w.namespace AND module_readmes.name = w.name AND module_readmes.system = w.system) LIMIT ?5
            """
        let set =
            "SELECT \(summaryColumnsOfS) \(fromIndex("module_readmes", filtered: filtered, sameModule: true)) ORDER BY s.name || '/' || s.system LIMIT ?2"
        return (ranked, "SELECT \(summaryColumnsOfS) \(text) AND \(inexact)", window, set)
    }

    /// Counts the rows of the FTS5 table `fts` matching `?1` (in every namespace), up to `?2`.
    static func matchCount(_ fts: String) -> String {
        "SELECT count(*) FROM (SELECT 1 FROM \(fts) WHERE \(fts) MATCH ?1 LIMIT ?2)"
    }

    /// Counts the summaries of namespace `?1`, up to `?2` (on its key: a count stops at the limit).
    static let namespaceRowCount = "SELECT count(*) FROM (SELECT 1 FROM module_summaries WHERE namespace = ?1 LIMIT ?2)"

    static func count(_ db: SQLiteConnection, _ sql: String, _ params: [SQLValue]) throws(SQLiteError) -> Int64 {
        try db.query(sql, params).first?.first?.int ?? 0
    }

    /// Whether `fts` has no more rows matching `match` (in every namespace: the indexes are global)
    /// than namespace `ns` has summaries. Both are counted up to a limit that grows 4× a round, and
    /// the first below it ends the count: the cost is about the smaller of the two, so a needle
    /// common in the registry costs a small namespace its rows, not the registry's matches.
    static func fewerMatches(_ db: SQLiteConnection, in fts: String, _ match: String, thanRowsOf ns: String) throws(SQLiteError) -> Bool {
        var limit: Int64 = 64
        while true {
            let rows = try count(db, namespaceRowCount, [.text(ns), .integer(limit)])
            if rows < limit { return try count(db, matchCount(fts), [.text(match), .integer(rows + 1)]) <= rows }
            if try count(db, matchCount(fts), [.text(match), .integer(limit)]) < limit { return true }
            limit = limit.multipliedReportingOverflow(by: 4).overflow ? .max : limit * 4
        }
    }

    /// `needed` × `times` + `plus`, saturating.
    static func scaled(_ needed: Int, times: Int, plus: Int) -> Int {
        let (product, o1) = needed.multipliedReportingOverflow(by: times)
        let (sum, o2) = product.addingReportingOverflow(plus)
        return o1 || o2 ? .max : sum
    }

    /// The search through the indexes: the address and description tiers from the trigram
    /// candidates; then, only when they fill less than the page, the README tier in module order
    /// (its first rows: from a window of the namespace when the words are common, from the FTS5
    /// result when they are rare). Cost grows with the candidates and the page, not the namespace;
    /// a namespace with fewer rows than the trigram candidates (in every namespace) is scanned
    /// instead (`searchByScanning`), so it never costs more than its rows.
    func searchByIndex(
        terms: [String],
        needles: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit] {
        let textMatch = needles.filter { $0.utf8.count >= 3 }.map(Self.ftsString).joined(separator: " ")
        let readmeMatch = terms.map(Self.ftsString).joined(separator: " ")
        let sys = system.map(SQLValue.text) ?? .null
        let ns = namespace
        let params: [SQLValue] = [.text(ns.value), .integer(Int64(clamping: count)), sys, .text(textMatch)] + needles.map(SQLValue.text)
        let queries = Self.indexQueries(needles: needles.count, filtered: system != nil)
        let indexed: [ModuleSearch.Hit]? = try await run { db throws(SQLiteError) in
            guard try Self.fewerMatches(db, in: "module_summary_text", textMatch, thanRowsOf: ns.value) else { return nil }
            var top = ModuleSearch.TopK(capacity: count)
            var textHits = 0
            for row in try db.query(queries.ranked, params) {
                guard let rank = row.last?.int, let s = Self.summary(Array(row.dropLast())), s.module.namespace == ns else { continue }
                top.insert(ModuleSearch.Hit(rank: Int(rank), summary: s))
                textHits += 1
            }
            for row in try db.query(queries.inexact, Array(params.prefix(4))) {
                guard let s = Self.summary(row), s.module.namespace == ns else { continue }
                let rank = ModuleSearch.rank(s, terms: terms, rawText: rawText, readmeMatch: false)
                if rank > 0 {
                    top.insert(ModuleSearch.Hit(rank: rank, summary: s))
                    textHits += 1
                }
            }
            // Tiers 3 and 2 precede every README-only hit: a full page of them ends the search.
            guard !terms.isEmpty, textHits < count else { return top.hits }
            // The first `needed` README matches in module order hold the first `count` README-only
            // hits: at most `textHits` of them rank higher (and are in `top` already).
            let needed = count.addingReportingOverflow(textHits).overflow ? Int.max : count + textHits
            // A window of the namespace in module order, each README checked by rowid, stopping at
            // the `needed`th match; 4 × `needed` + 32 rows at first, 4× larger a round. It ends when it
            // holds `needed` matches or the whole namespace, or when the word has fewer matches (in
            // every namespace) than the window has rows: then the FTS5 result. Cost: about the
            // smallest of the rows walked to the `needed`th match, the namespace and the matches.
            let needs = Int64(clamping: needed)
            var window = Int64(clamping: Self.scaled(needed, times: 4, plus: 32))
            var rows: [SQLRow] = []
            while true {
                rows = try db.query(queries.readmeWindow, [.text(ns.value), .integer(window), sys, .text(readmeMatch), .integer(needs)])
                if rows.count >= needed { break }
                // The window held the whole namespace: these are all its matches.
                if try Self.count(db, Self.namespaceRowCount, [.text(ns.value), .integer(window)]) < window { break }
                if try Self.count(db, Self.matchCount("module_readmes"), [.text(readmeMatch), .integer(window)]) < window {
                    rows = try db.query(queries.readmeSet, [.text(ns.value), .integer(needs), sys, .text(readmeMatch)])
                    break
                }
                window = window.multipliedReportingOverflow(by: 4).overflow ? .max : window * 4
            }
            for row in rows {
                guard let s = Self.summary(row), s.module.namespace == ns,
                    ModuleSearch.rank(s, terms: terms, rawText: rawText, readmeMatch: true) == 1
                else { continue }
                top.insert(ModuleSearch.Hit(rank: 1, summary: s))
            }
            return top.hits
        }
        if let indexed { return indexed }
        return try await searchByScanning(terms: terms, needles: needles, rawText: rawText, in: namespace, system: system, first: count)
    }
}
