import ArgumentParser
import Glibc
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal
import TFRegSystem

/// Options shared by every command that opens the registry's store: SQLite + a local directory by
/// default, a DynamoDB table with --table/TABLE_NAME, S3 archives with --storage s3://BUCKET/PREFIX.
struct StoreOptions: ParsableArguments {
    @Option(help: "Directory for the database, archives and keys (env: TFREG_DATA_DIR; default $XDG_DATA_HOME/tfreg or ~/.local/share/tfreg).")
    var dataDir: String?

    @Option(
        help:
            "DynamoDB table for metadata instead of SQLite (env: TABLE_NAME, also TABLE). AWS credentials and region come from the usual AWS variables and profiles."
    )
    var table: String?

    static let dataDirectory = Setting("--data-dir", env: "TFREG_DATA_DIR")
    static let tableSetting = Setting("--table", env: "TABLE_NAME")

    var resolvedDataDirectory: String { Self.dataDirectory.text(dataDir)?.value ?? Env.defaultDataDirectory }
    /// TABLE is the replaced tool's name for TABLE_NAME.
    var resolvedTable: String? { Self.tableSetting.text(table)?.value ?? Env.value("TABLE") }

    /// Why this data directory: the flag, the variable (and the file it came from), or the default.
    var dataDirectorySource: String {
        if dataDir != nil { return "--data-dir" }
        if Env.value("TFREG_DATA_DIR") != nil { return Env.source("TFREG_DATA_DIR") }
        return "the default; no --data-dir or TFREG_DATA_DIR"
    }

    /// Whether the data directory was named (flag or variable) rather than the default.
    var dataDirectoryGiven: Bool { dataDir != nil || Env.value("TFREG_DATA_DIR") != nil }

    /// Why this table: the flag or the variable that named it.
    var tableSource: String {
        if table != nil { return "--table" }
        return Env.value("TABLE_NAME") != nil ? Env.source("TABLE_NAME") : Env.source("TABLE")
    }

    /// The store in a few words, as every command that opens one says on standard error.
    var summary: String {
        if let table = resolvedTable { return "DynamoDB table \(table) (\(tableSource))" }
        return "data dir \(resolvedDataDirectory) (\(dataDirectorySource))"
    }

    /// Names the store on standard error, so that a command run against the wrong one says so.
    func announce() { printError(summary) }

    /// Refuses to go on when the data directory holds no registry, unless `creating` (serve, --init):
    /// a mistyped or forgotten --data-dir must not quietly start a new, empty registry.
    func requireLocalRegistry(creating: Bool = false) throws {
        let dir = resolvedDataDirectory
        guard !creating, !FileSystem.exists(dir + "/registry.db") else { return }
        throw RegistryError.misconfigured(
            "the data directory",
            explanation:
                "no registry in data dir \(dir) (no registry.db; from \(dataDirectorySource)): point --data-dir or TFREG_DATA_DIR at the registry's directory (the service's is in its environment, e.g. /etc/tfreg/tfreg.env), give --table for DynamoDB, or create a new registry here with --init (tfreg serve also creates one)"
        )
    }

    /// Owners the data directory and its keys may have besides the caller: root, and, when root runs
    /// the CLI, the service user (the Debian package's /var/lib/tfreg belongs to `tfreg`).
    static var trustedOwners: Set<uid_t> {
        var owners: Set<uid_t> = [0]
        if geteuid() == 0, let pw = getpwnam(EnvironmentFile.serviceUser) { owners.insert(pw.pointee.pw_uid) }
        return owners
    }

    /// Refuses (exit 78) a data directory another user could change: the directory itself (a link to
    /// it is followed: that is where the administrator put it), `keys/`, `tmp/` and `archives/` (never
    /// links) must belong to the caller or a trusted owner and not be group- or world-writable; key
    /// files must be 0600-like regular files. Whoever can write there could replace the keys, plant
    /// links for a root-run CLI to follow, or remove archives. Missing entries are fine (made later).
    static func checkDataDirectory(_ dir: String) throws(CLIError) {
        let owners = trustedOwners
        let directories = FileSystem.Trust(otherOwners: owners, forbiddenMode: 0o022)
        do {
            _ = try directories.check(dir, kind: .directory, followingLink: true)
            for sub in ["keys", "tmp", "archives"] { _ = try directories.check(dir + "/" + sub, kind: .directory) }
            for key in ["archive-url.key", "iam-token.key", "iam-token.key.previous"] {
                _ = try KeyFile.trust(otherOwners: owners).check(dir + "/keys/" + key, kind: .file)
            }
            // The database and SQLite's files beside it: another user's file (or a link SQLite and
            // the mode fix-up would follow) is refused before SQLite opens anything.
            let files = FileSystem.Trust(otherOwners: owners, forbiddenMode: 0o022)
            for db in ["registry.db", "registry.db-wal", "registry.db-shm"] { _ = try files.check(dir + "/" + db, kind: .file) }
            try checkAncestors(of: dir, owners: owners)
        } catch {
            throw .configuration("refusing data dir \(dir): \(error)")
        }
    }

    /// Every directory above the data directory (after links are resolved): whoever can write one of
    /// them can rename the data directory away and put their own in its place. Each must belong to the
    /// caller or a trusted owner and be writable by nobody else, unless it has the sticky bit (as /tmp
    /// has: others may not rename what is not theirs).
    static func checkAncestors(of dir: String, owners: Set<uid_t>) throws(UntrustedPath) {
        guard let resolved = realpath(dir, nil) else { return }
        var path = String(cString: resolved)
        free(resolved)
        while let slash = path.utf8.lastIndex(of: UInt8(ascii: "/")) {
            path = slash == path.utf8.startIndex ? "/" : String(path[..<slash])
            var st = stat()
            guard stat(path, &st) == 0 else { return }
            func untrusted(_ reason: UntrustedPath.Reason) -> UntrustedPath {
                UntrustedPath(path: path, reason: reason, kind: .directory, fixMode: 0o755)
            }
            guard st.st_uid == geteuid() || owners.contains(st.st_uid) else { throw untrusted(.owner(st.st_uid)) }
            guard st.st_mode & 0o022 == 0 || st.st_mode & S_ISVTX != 0 else { throw untrusted(.mode(st.st_mode)) }
            if path == "/" { return }
        }
    }

    /// Creates the data directory (0700: database, archives and keys are nobody else's) and checks it.
    static func prepareDataDirectory(_ dir: String) throws {
        try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o700))
        try checkDataDirectory(dir)
    }

    func openLocal() throws -> (SQLiteMetadataStore, FileArchiveStorage) {
        try requireLocalRegistry()
        let dir = resolvedDataDirectory
        try Self.checkDataDirectory(dir)
        let storage = try FileArchiveStorage(root: dir)
        let store = try SQLiteMetadataStore(path: dir + "/registry.db")
        return (store, storage)
    }

    /// Fails fast, naming the table and region, when the table does not exist or cannot be read
    /// with these credentials (one DescribeTable at start).
    static func checkTable(_ store: DynamoDBMetadataStore) async throws {
        let status: String?
        do { status = try await store.dynamo.tableStatus(store.table) } catch {
            throw DynamoDBMetadataStore.map(error, table: store.table, region: store.dynamo.client.region)
        }
        guard let status else {
            throw RegistryError.misconfigured(
                "the metadata table",
                explanation:
                    "DynamoDB table \(store.table) does not exist in region \(store.dynamo.client.region): check --table/TABLE_NAME and AWS_REGION"
            )
        }
        guard status == "ACTIVE" || status == "UPDATING" else {
            throw RegistryError.misconfigured(
                "the metadata table",
                explanation: "DynamoDB table \(store.table) in \(store.dynamo.client.region) is \(status), not ACTIVE"
            )
        }
    }

    /// Where the table's versions keep their archives (one Scan page: `archivePlacement()`), refusing
    /// archives in the data directory (no --storage/TFREG_STORAGE) when versions point at objects in
    /// S3: the local directory cannot read them, so each such version would answer 404. `serve` and
    /// `serve --check-config` call it at start.
    static func checkArchivePlacement(_ store: DynamoDBMetadataStore, storage: String?) async throws -> ArchivePlacement {
        let placement = try await store.archivePlacement()
        guard storage == nil, placement.versionsInUserBuckets > 0 else { return placement }
        let buckets = placement.userBuckets.map { "s3://" + $0 }.joined(separator: ", ")
        throw CLIError.configuration(
            "DynamoDB table \(store.table) holds versions whose archives are objects in S3 (\(placement.versionsInUserBuckets)\(placement.complete ? "" : " or more") version(s), in \(buckets.isEmpty ? "buckets with invalid names" : buckets); registered by the replaced tool or with create), and archives are set to the data directory, which cannot serve them: each would answer 404. Set --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE) to the registry's own bucket; these versions are then served from where they are (tfreg import-legacy can copy them into it later)"
        )
    }

    /// The metadata store alone (grant management), named on standard error. A local registry must
    /// exist unless `creating` (`grant create --init`).
    func openMetadata(creating: Bool = false) throws -> any MetadataStore {
        if let table = resolvedTable {
            let store = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: try AWSSetup.client()), table: try AWSSetup.validTable(table))
            announce()
            return store
        }
        try requireLocalRegistry(creating: creating)
        announce()
        let dir = resolvedDataDirectory
        try Self.prepareDataDirectory(dir)
        return try SQLiteMetadataStore(path: dir + "/registry.db")
    }

    /// Metadata and archive storage for `serve` (which creates a new local registry: `creating`) and
    /// `import-legacy`. `storage` is nil (local directory) or s3://BUCKET/PREFIX. `metrics`: where AWS
    /// calls are counted (`serve --metrics-listen`).
    func open(storage url: String?, creating: Bool, metrics: (any MetricsSink)? = nil) throws -> (any MetadataStore, any ArchiveStorage) {
        if resolvedTable == nil { try requireLocalRegistry(creating: creating) }
        let dir = resolvedDataDirectory
        try Self.prepareDataDirectory(dir)
        let table = try resolvedTable.map(AWSSetup.validTable)
        let aws = table != nil || url != nil ? try AWSSetup.client(metrics: metrics) : nil
        let store: any MetadataStore =
            if let table, let aws { DynamoDBMetadataStore(dynamo: DynamoDBClient(client: aws), table: table) } else {
                try SQLiteMetadataStore(path: dir + "/registry.db")
            }
        let storage: any ArchiveStorage
        if let url, let aws {
            let (bucket, prefix) = try S3ArchiveStorage.parse(url)
            let staging = dir + "/tmp"
            try RegistryError.storage(FileSystem.makeDirectories(staging, mode: 0o750))
            storage = try S3ArchiveStorage(s3: S3Client(client: aws), bucket: bucket, prefix: prefix, stagingDirectory: staging)
        } else {
            storage = try FileArchiveStorage(root: dir)
        }
        return (store, storage)
    }
}
