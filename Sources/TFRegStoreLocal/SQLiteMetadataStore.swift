import TFRegCore
import TFRegSystem

#if canImport(Glibc)
import Glibc
#endif

/// `MetadataStore` on one SQLite file: WAL journal (readers never block the writer), a busy
/// timeout for other processes (`tfreg grant` writes while `tfreg serve` runs), `synchronous=FULL`
/// so a registered version survives power loss, and a schema versioned with `PRAGMA user_version`.
public final class SQLiteMetadataStore: MetadataStore {
    private let connection: SQLiteConnection
    private let cache: ReadCache?
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
                        if i == Self.summariesMigration { try Self.fillSummaries(db) }
                        try db.execute("PRAGMA user_version = \(i + 1)")
                    }
                }
            }
            cache = cached ? try ReadCache(path: path) : nil
        } catch {
            throw RegistryError(.unavailable, "the metadata database cannot be opened: \(error.message)", detail: "\(path): \(error)")
        }
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

    // MARK: Versions

    /// `module_versions` as `record(_:)` reads it.
    enum VersionColumn: Int, SQLColumns {
        case namespace, name, system, version, bucket, key, sha256, size, publishedAt, publishedBy
        case deprecatedAt, deprecatedBy, deprecationReason, deprecationReplacement
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
            deprecation: deprecation
        )
    }

    public func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord] {
        let params: [SQLValue] = [.text(module.namespace.value), .text(module.name), .text(module.system)]
        let load = { () async throws(RegistryError) -> [ModuleVersionRecord] in
            try await self.run { db throws(SQLiteError) in
                try db.query("SELECT \(Self.versionColumns) FROM module_versions WHERE namespace = ? AND name = ? AND system = ?", params)
                    .compactMap(Self.record)
            }
        }
        guard let cache else { return try await load() }
        return try await cache.versions(module.description, load: load)
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
        ]
        let precedence: [SQLValue] = [.text(r.module.namespace.value), .text(r.module.name), .text(r.module.system), .text(r.version.precedenceKey)]
        do {
            try await connection.run { db throws(SQLiteError) in
                try db.transaction { () throws(SQLiteError) in
                    // The precedence row is the lock: a second `1.0.0+b`, or a deleted number, fails here.
                    _ = try db.query("INSERT INTO version_precedences (namespace, name, system, precedence) VALUES (?,?,?,?)", precedence)
                    _ = try db.query("INSERT INTO module_versions (\(Self.versionColumns)) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)", params)
                    try Self.writeSummary(db, r.module)
                }
            }
        } catch {
            if error.isConstraint { throw .conflict("version \(r.version) of module \(r.module) already exists; versions are immutable") }
            throw Self.map(error)
        }
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

    // MARK: Grants

    /// `grants` as `grant(_:)` reads it.
    private enum GrantColumn: Int, SQLColumns {
        case namespace, identity, download, upload, createGrant, deleteGrant
    }

    private static func grant(_ row: SQLRow) -> Grant? {
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

    private static let grantColumns = GrantColumn.selectList

    public func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant? {
        let params: [SQLValue] = [.text(namespace.value), .text(identity.value)]
        let load = { () async throws(RegistryError) -> Grant? in
            try await self.run { db throws(SQLiteError) in
                try db.query("SELECT \(Self.grantColumns) FROM grants WHERE namespace = ? AND identity = ?", params).first.flatMap(Self.grant)
            }
        }
        guard let cache else { return try await load() }
        return try await cache.grant("\(namespace.value)\u{0}\(identity.value)", load: load)
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

    // MARK: Static tokens

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
