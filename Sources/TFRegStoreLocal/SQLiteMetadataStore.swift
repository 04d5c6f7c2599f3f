import Glibc
import TFRegCore
import TFRegSystem

/// `MetadataStore` on one SQLite file: WAL journal (readers never block the writer), a busy
/// timeout for other processes (`tfreg grant` writes while `tfreg serve` runs), `synchronous=FULL`
/// so a registered version survives power loss, and a schema versioned with `PRAGMA user_version`.
public final class SQLiteMetadataStore: MetadataStore, CacheReporting {
    let connection: SQLiteConnection
    let cache: ReadCache?
    public let path: String

    /// Schema migrations; entry N brings `user_version` from N to N+1. Append only.
    public static let migrations: [String] = [
        """
        CREATE TABLE module_versions (
            namespace TEXT NOT NULL, name TEXT NOT NULL, system TEXT NOT NULL, version TEXT NOT NULL,
            bucket TEXT, key TEXT NOT NULL, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
            published_at INTEGER NOT NULL, published_by TEXT,
            PRIMARY KEY (namespace, name, system, version)
        ) WITHOUT ROWID;
        CREATE TABLE grants (
            namespace TEXT NOT NULL, identity TEXT NOT NULL,
            download INTEGER NOT NULL, upload INTEGER NOT NULL,
            create_grant INTEGER NOT NULL, delete_grant INTEGER NOT NULL,
            PRIMARY KEY (namespace, identity)
        ) WITHOUT ROWID;
        CREATE INDEX grants_by_identity ON grants (identity);
        CREATE TABLE static_tokens (
            identity TEXT PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """,
        // 2: deprecation marks; tombstones of deleted versions; one row per precedence (the version
        // without build metadata), kept after a delete, so that the store itself refuses a second
        // `1.0.0+b` and any reuse of a deleted number. Existing duplicates (possible before this
        // migration) keep their rows; the first precedence row wins.
        """
        ALTER TABLE module_versions ADD COLUMN deprecated_at INTEGER;
        ALTER TABLE module_versions ADD COLUMN deprecated_by TEXT;
        ALTER TABLE module_versions ADD COLUMN deprecation_reason TEXT;
        ALTER TABLE module_versions ADD COLUMN deprecation_replacement TEXT;
        CREATE TABLE version_tombstones (
            namespace TEXT NOT NULL, name TEXT NOT NULL, system TEXT NOT NULL, version TEXT NOT NULL,
            sha256 TEXT NOT NULL, deleted_at INTEGER NOT NULL, deleted_by TEXT,
            PRIMARY KEY (namespace, name, system, version)
        ) WITHOUT ROWID;
        CREATE TABLE version_precedences (
            namespace TEXT NOT NULL, name TEXT NOT NULL, system TEXT NOT NULL, precedence TEXT NOT NULL,
            PRIMARY KEY (namespace, name, system, precedence)
        ) WITHOUT ROWID;
        INSERT OR IGNORE INTO version_precedences (namespace, name, system, precedence)
            SELECT namespace, name, system, CASE WHEN instr(version, '+') > 0 THEN substr(version, 1, instr(version, '+') - 1) ELSE version END
            FROM module_versions;
        """,
        // 3: grants belong to one token, not to a name. Every token gets a random id that is never
        // reused; its grants move from `token:NAME` to `token:NAME#ID`. Grants for a name no token
        // holds (orphans) stay under `token:NAME`, which no token authenticates as any more, so they
        // never apply; `grant create --new-token NAME` refuses while they exist.
        """
        ALTER TABLE static_tokens ADD COLUMN id TEXT;
        UPDATE static_tokens SET id = lower(hex(randomblob(8)));
        UPDATE grants SET identity = identity || '#' || (SELECT id FROM static_tokens t WHERE t.identity = grants.identity)
            WHERE identity IN (SELECT identity FROM static_tokens);
        """,
        // 4: one summary row per module for listing and search (`SQLiteMetadataStore+Summaries`),
        // filled from the existing versions right after the table is created.
        summariesTable,
        // 5: what a version says about itself (description, source URL) and where its documentation
        // blob is; the summary shows the latest version's source; README words for search in an FTS5
        // table (`+Summaries`). Existing rows have none (`tfreg reindex` fills docs, descriptions and
        // README words).
        """
        ALTER TABLE module_versions ADD COLUMN description TEXT;
        ALTER TABLE module_versions ADD COLUMN source TEXT;
        ALTER TABLE module_versions ADD COLUMN docs_key TEXT;
        ALTER TABLE module_summaries ADD COLUMN source TEXT;
        CREATE VIRTUAL TABLE module_readmes USING fts5(namespace UNINDEXED, name UNINDEXED, system UNINDEXED, words, tokenize = 'unicode61');
        """,
        // 6: the audit trail (`SQLiteMetadataStore+Audit`): one row per event, read by namespace
        // ('' for events of no namespace) and time.
        auditTable,
        // 7 (issue 20): provider versions and signing keys (`SQLiteMetadataStore+Providers`).
        providersTable,
        // 8 (issue 19): names are case-insensitive. An index on the ASCII-folded address (SQLite's
        // `lower` folds ASCII only, the whole grammar) over precedence rows, which outlive deletes, so
        // `insertVersion` refuses a new second spelling of a module or namespace in its transaction.
        // Not unique: a database that already holds two spellings opens as before and both stay
        // readable and publishable under their own spelling (`tfreg modules list` shows both; an
        // operator merges them by publishing the versions under one and deleting the other's).
        "CREATE INDEX version_precedences_folded ON version_precedences (lower(namespace), lower(name), system);",
        // 9 (issue 19, scale): listing pages in module order (`ns/name/system`, which is not
        // `ORDER BY name, system`: '-' sorts before '/') straight from an index, reading only the
        // rows of the page (`moduleSummaries(in:system:first:)`).
        summariesOrderIndex,
        // 10 (issue 19, scale): search reads candidates from indexes, not the namespace
        // (`SQLiteMetadataStore+Summaries`): one row id per module for both FTS5 tables, a trigram
        // index over each summary's address and description (filled by `fillSearchText` right after),
        // duplicate README rows dropped and the kept ones given their module's id.
        searchIndexes,
    ]

    /// Opens (creating and migrating) the database. `cached` enables the read cache for the hot
    /// lookups; it is exact (see `ReadCache`), so only tests of the uncached path turn it off.
    public init(path: String, cached: Bool = true, readOnly: Bool = false) throws(RegistryError) {
        self.path = path
        if !readOnly { try Self.restrictFileModes(path) }
        do throws(SQLiteError) {
            connection = try SQLiteConnection(path: path, readOnly: readOnly)
            if readOnly {
                // Inspection only (check-config): no pragmas that write, no migrations.
                cache = nil
                let current = Int(try connection.sync { db throws(SQLiteError) in try db.query("PRAGMA user_version").first?.first?.int ?? 0 })
                guard current <= Self.migrations.count else {
                    throw SQLiteError(
                        code: 1,
                        message: "database schema \(current) is newer than this tfreg (\(Self.migrations.count)); upgrade tfreg"
                    )
                }
                return
            }
            try connection.sync { db throws(SQLiteError) in
                try db.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
                try db.transaction { () throws(SQLiteError) in
                    let current = Int(try db.query("PRAGMA user_version").first?.first?.int ?? 0)
                    guard current <= Self.migrations.count else {
                        throw SQLiteError(
                            code: 1,
                            message: "database schema \(current) is newer than this tfreg (\(Self.migrations.count)); upgrade tfreg"
                        )
                    }
                    for (i, sql) in Self.migrations.enumerated().dropFirst(current) {
                        try db.execute(sql)
                        try db.execute("PRAGMA user_version = \(i + 1)")
                    }
                    // Summaries are written with today's columns: filled once every migration ran.
                    if current <= Self.summariesMigration {
                        try Self.fillSummaries(db)
                    } else if current <= Self.searchIndexMigration {
                        try Self.fillSearchText(db)
                    }
                }
            }
            cache = cached ? try ReadCache(path: path) : nil
        } catch {
            throw RegistryError(.unavailable, "the metadata database cannot be opened: \(error.message)", detail: "\(path): \(error)")
        }
    }

    /// The read cache's hits and misses per part (none when opened without a cache).
    public var cacheCounters: [CacheCounters] {
        cache.map { [$0.tokenCounters, $0.grantCounters, $0.versionCounters] } ?? []
    }

    /// The database holds token hashes and grants: owner-only (0600), whatever the umask and the
    /// directory's mode. SQLite creates `-wal` and `-shm` with the database file's mode, so the file is
    /// created 0600 before SQLite opens it; existing files (from older versions) are tightened.
    /// Never through a symbolic link: whoever can write the data directory could point `-shm` at a
    /// file of root's, and an administrator's CLI run as root would change its mode. A link is
    /// refused (SQLite, which opens its files with `O_NOFOLLOW`, could not use it either).
    static func restrictFileModes(_ path: String) throws(RegistryError) {
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK, 0o600)
        if fd >= 0 { close(fd) }
        for file in [path, path + "-wal", path + "-shm"] {
            do { try FileSystem.restrictMode(file, to: 0o600) } catch { throw RegistryError(error) }
        }
    }

    public var schemaVersion: Int {
        get throws(RegistryError) {
            try wrap { () throws(SQLiteError) in
                try connection.sync { db throws(SQLiteError) in Int(try db.query("PRAGMA user_version").first?.first?.int ?? 0) }
            }
        }
    }

    private func wrap<T>(_ body: () throws(SQLiteError) -> T) throws(RegistryError) -> T {
        do { return try body() } catch { throw Self.map(error) }
    }

    func run<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(SQLiteError) -> T) async throws(RegistryError) -> T {
        do { return try await connection.run(body) } catch { throw Self.map(error) }
    }

    static func map(_ e: SQLiteError) -> RegistryError {
        if e.isConstraint { return .conflict("the item already exists") }
        return .unavailable("the metadata database", detail: e.description)
    }

    func backupConnection(to path: String) async throws(RegistryError) {
        try await run { db throws(SQLiteError) in try db.backup(to: path) }
    }
}
