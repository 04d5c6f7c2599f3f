import Glibc
import Logging
import Synchronization
import TFRegCore
import TFRegCrypto
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegStoreLocal

@Suite final class SQLiteStoreTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    @Test(arguments: [true, false])
    func conformance(cached: Bool) async throws {
        let path = dir.path + "/c-\(cached).db"
        let store = try SQLiteMetadataStore(path: path, cached: cached)
        try await MetadataStoreConformance.run(store) { g in
            let raw = try SQLiteConnection(path: path, readOnly: false)
            let p = g.permissions
            _ = try raw.sync { db throws(SQLiteError) in
                try db.query(
                    "INSERT INTO grants (namespace, identity, download, upload, create_grant, delete_grant) VALUES (?,?,?,?,?,?)",
                    [
                        .text(g.namespace.value), .text(g.identity.value), .integer(p.download ? 1 : 0), .integer(p.upload ? 1 : 0),
                        .integer(p.createGrant ? 1 : 0), .integer(p.deleteGrant ? 1 : 0),
                    ]
                )
            }
        }
    }

    /// A new second spelling of a module or namespace is refused inside the insert's transaction.
    @Test func refusesSecondSpelling() async throws {
        try await MetadataStoreConformance.refusesSecondSpelling(try SQLiteMetadataStore(path: dir.path + "/case.db"))
    }

    /// Schema 8 (names are case-insensitive) opens a database that already holds two spellings of one
    /// module: its index is not unique, both spellings stay readable and publishable, a third is refused.
    @Test func migrationKeepsExistingSecondSpelling() async throws {
        let path = dir.path + "/v7.db"
        let lower = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let upper = try ModuleAddress(namespace: "Acme", name: "VPC", system: "aws")
        do {
            let store = try SQLiteMetadataStore(path: path)
            try await store.insertVersion(record(lower, "1.0.0"))
        }
        do {
            let raw = try SQLiteConnection(path: path, readOnly: false)
            try raw.sync { db throws(SQLiteError) in
                try db.execute(
                    """
                    DROP INDEX version_precedences_folded;
                    PRAGMA user_version = 7;
                    INSERT INTO version_precedences (namespace, name, system, precedence) VALUES ('Acme', 'VPC', 'aws', '1.0.0');
                    INSERT INTO module_versions (namespace, name, system, version, key, sha256, size, published_at)
                        VALUES ('Acme', 'VPC', 'aws', '1.0.0', 'k', '\(String(repeating: "a", count: 64))', 1, 1);
                    """
                )
            }
        }
        let store = try SQLiteMetadataStore(path: path)
        #expect(try store.schemaVersion == SQLiteMetadataStore.migrations.count)
        try await store.refreshSummary(of: upper)
        #expect(try await store.versions(of: lower).count == 1)
        #expect(try await store.versions(of: upper).count == 1)
        try await store.insertVersion(record(lower, "1.1.0"))
        try await store.insertVersion(record(upper, "1.1.0"))
        #expect(try await store.storedSpelling(of: lower) == lower)
        #expect(try await store.storedSpelling(of: upper) == upper)
        let third = try ModuleAddress(namespace: "acme", name: "Vpc", system: "aws")
        #expect(try await store.storedSpelling(of: third) == upper, "a third spelling reads the first of the stored ones in order")
        await #expect(throws: RegistryError.self) { try await store.insertVersion(self.record(third, "2.0.0")) }
    }

    func record(_ m: ModuleAddress, _ v: String) throws -> ModuleVersionRecord {
        ModuleVersionRecord(
            module: m,
            version: try Version(v),
            location: ArchiveLocation(key: "k"),
            sha256: String(repeating: "a", count: 64),
            size: 1,
            publishedAt: 1
        )
    }

    /// Schema 3 binds existing grants to the tokens holding their names; grants for names no token
    /// holds stay orphans that apply to nothing, and a new token of that name does not get them.
    @Test func migrationBindsGrantsToTokens() async throws {
        let path = dir.path + "/v2.db"
        do {
            let raw = try SQLiteConnection(path: path, readOnly: false)
            try raw.sync { db throws(SQLiteError) in
                for sql in SQLiteMetadataStore.migrations.prefix(2) { try db.execute(sql) }
                try db.execute("PRAGMA user_version = 2")
                try db.execute(
                    """
                    INSERT INTO static_tokens (identity, sha256, created_at) VALUES ('token:ci', '\(String(repeating: "a", count: 64))', 1);
                    INSERT INTO grants VALUES ('acme', 'token:ci', 1, 1, 0, 0);
                    INSERT INTO grants VALUES ('other', 'token:ci', 1, 0, 0, 0);
                    INSERT INTO grants VALUES ('acme', 'token:newhire', 1, 1, 1, 1);
                    INSERT INTO grants VALUES ('acme', 'arn:aws:iam::123456789012:role/deployer', 1, 0, 0, 0);
                    """
                )
            }
        }
        let store = try SQLiteMetadataStore(path: path)
        #expect(try store.schemaVersion == SQLiteMetadataStore.migrations.count)
        let acme = try Namespace("acme")
        let ci = try #require(try await store.staticTokenIdentity(hash: String(repeating: "a", count: 64)))
        #expect(ci.tokenName == (try Identity.token(named: "ci")) && ci.tokenID?.count == 16, "\(ci)")
        #expect(try await store.grants(for: ci).map(\.namespace.value) == ["acme", "other"])
        #expect(try await store.grant(for: ci, in: acme)?.permissions == Permissions(download: true, upload: true))
        #expect(try await store.grant(for: try Identity("arn:aws:iam::123456789012:role/deployer"), in: acme)?.permissions.download == true)
        // The grant written for a token that never existed binds to nothing, and blocks the name.
        let newhire = try Identity.token(named: "newhire")
        #expect(try await store.orphanGrants(named: newhire).count == 1)
        await #expect(throws: RegistryError.conflict("")) {
            try await store.createStaticToken(newhire, hash: String(repeating: "b", count: 64), createdAt: 2)
        }
        let token = try await store.createStaticToken(newhire, hash: String(repeating: "b", count: 64), createdAt: 2, discardingOrphans: true)
        #expect(try await store.grants(for: token).isEmpty)
        #expect(try await store.grants(in: acme).count == 2)
    }

    /// Schema 4 adds module summaries and fills them from the versions already stored, so a database
    /// written before them lists every module at once.
    @Test func migrationFillsModuleSummaries() async throws {
        let path = dir.path + "/v3.db"
        do {
            let raw = try SQLiteConnection(path: path, readOnly: false)
            try raw.sync { db throws(SQLiteError) in
                for sql in SQLiteMetadataStore.migrations.prefix(3) { try db.execute(sql) }
                try db.execute("PRAGMA user_version = 3")
                for (ns, name, v, at) in [
                    ("acme", "net", "1.0.0", 1), ("acme", "net", "1.2.0-rc.1", 3), ("acme", "net", "1.1.0", 2), ("beta", "dns", "0.1.0-a", 4),
                ] {
                    try db.query(
                        "INSERT INTO module_versions (namespace, name, system, version, key, sha256, size, published_at, published_by) VALUES (?,?,'aws',?,'k','s',1,?,'token:t')",
                        [.text(ns), .text(name), .text(v), .integer(Int64(at))]
                    )
                }
                // A row a hand-edited database may hold: skipped, not fatal.
                try db.query(
                    "INSERT INTO module_versions (namespace, name, system, version, key, sha256, size, published_at) VALUES ('bad ns','x','aws','1.0.0','k','s',1,1)"
                )
            }
        }
        let store = try SQLiteMetadataStore(path: path)
        #expect(try store.schemaVersion == SQLiteMetadataStore.migrations.count)
        #expect(try await store.summaryNamespaces().map(\.value) == ["acme", "beta"])
        let acme = try await store.moduleSummaries(in: try Namespace("acme"))
        #expect(acme.map { "\($0.module) \($0.latest) \($0.versionCount) \($0.updatedAt)" } == ["acme/net/aws 1.1.0 3 3"])
        #expect(try await store.moduleSummaries(in: try Namespace("beta")).map(\.latest.description) == ["0.1.0-a"])
    }

    /// The server's cached reads see writes made by another connection (the `tfreg grant` CLI) at once:
    /// a revoked token or removed grant never keeps working from the cache.
    @Test func cacheSeesWritesFromAnotherConnection() async throws {
        let path = dir.path + "/shared.db"
        let server = try SQLiteMetadataStore(path: path)
        let cli = try SQLiteMetadataStore(path: path, cached: false)
        let ns = try Namespace("acme")
        let name = try Identity.token(named: "ci")
        // The id a token will get is not known before it is created: the cached negative is for the name.
        let digest = String(repeating: "e", count: 64)
        let m = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")

        #expect(try await server.grant(for: name, in: ns) == nil)  // a cached negative
        #expect(try await server.staticTokenIdentity(hash: digest) == nil)
        let id = try await cli.createStaticToken(name, hash: digest, createdAt: 0)
        #expect(try await server.grant(for: id, in: ns) == nil)  // a cached negative for the token
        try await cli.putGrant(Grant(namespace: ns, identity: name, permissions: Permissions(download: true)), mode: .create)
        #expect(try await server.staticTokenIdentity(hash: digest) == id)
        #expect(try await server.grant(for: id, in: ns)?.permissions.download == true)
        #expect(try await server.versions(of: m).isEmpty)
        // Warm every cache entry, then change each from the other connection.
        for _ in 0..<3 {
            _ = try await server.staticTokenIdentity(hash: digest)
            _ = try await server.grant(for: id, in: ns)
        }
        try await cli.putGrant(Grant(namespace: ns, identity: id, permissions: Permissions(upload: true)), mode: .update)
        #expect(try await server.grant(for: id, in: ns)?.permissions == Permissions(upload: true))
        try await cli.insertVersion(
            ModuleVersionRecord(module: m, version: try Version("1.0.0"), location: ArchiveLocation(key: "k"), sha256: "s", size: 1, publishedAt: 0)
        )
        #expect(try await server.versions(of: m).count == 1)
        #expect(try await cli.deleteStaticToken(name))
        #expect(try await server.staticTokenIdentity(hash: digest) == nil)
        #expect(try await server.grant(for: id, in: ns) == nil)
        // And the server's own writes invalidate its own cache.
        _ = try await server.tombstoneVersion(try Version("1.0.0"), of: m, at: 1, by: nil)
        #expect(try await server.versions(of: m).isEmpty)
    }

    @Test func schemaIsVersionedAndDataSurvivesReopen() async throws {
        let path = dir.path + "/r.db"
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        do {
            let store = try SQLiteMetadataStore(path: path)
            #expect(try store.schemaVersion == SQLiteMetadataStore.migrations.count)
            try await store.insertVersion(
                ModuleVersionRecord(
                    module: m,
                    version: try Version("1.0.0"),
                    location: ArchiveLocation(key: "k"),
                    sha256: "s",
                    size: 3,
                    publishedAt: 9
                )
            )
        }
        let reopened = try SQLiteMetadataStore(path: path)
        #expect(try reopened.schemaVersion == SQLiteMetadataStore.migrations.count)
        #expect(try await reopened.versions(of: m).count == 1)
    }

    @Test func refusesNewerSchema() throws {
        let path = dir.path + "/future.db"
        _ = try SQLiteMetadataStore(path: path)
        _ = system("sqlite3 '\(path)' 'PRAGMA user_version = 99'")
        #expect(throws: RegistryError.unavailable("", detail: nil)) { try SQLiteMetadataStore(path: path) }
    }

    @Test func unreadableDatabaseIsUnavailable() {
        #expect(throws: RegistryError.unavailable("", detail: nil)) { try SQLiteMetadataStore(path: "/nonexistent-dir/x.db") }
    }
}

/// Stores the upload's bytes as they are (these tests are about storage, not archive contents).
struct AcceptAnything: ArchiveCanonicalizer {
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive {
        guard let bytes = FileSystem.read(input) else { throw .badRequest("unreadable") }
        try RegistryError.storage(FileSystem.writeAtomically(output, bytes, mode: 0o640))
        return CanonicalArchive(size: Int64(bytes.count), sha256: Hex.encode(SHA256.hash(bytes)), entries: 1)
    }
}

@Suite final class FileArchiveStorageTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    func stage(_ storage: FileArchiveStorage, _ name: String, _ bytes: String) -> StagedArchive {
        let path = storage.stagingDirectory + "/" + name
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o640)
        _ = write(fd, bytes, bytes.utf8.count)
        close(fd)
        return StagedArchive(path: path, size: Int64(bytes.utf8.count), sha256: Hex.encode(SHA256.hash(Array(bytes.utf8))))
    }

    @Test func contentAddressedWriteOnceAndSettle() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/data")
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let staged = stage(storage, "upload-1.partial", "abc")
        let loc = try await storage.put(staged, kind: .moduleArchive)
        #expect(loc.key == "sha256/\(staged.sha256.prefix(2))/\(staged.sha256).tar.gz")
        #expect(FileSystem.exists(staged.path), "the staged file stays until settle")
        try await storage.settle(staged, at: loc)
        #expect(!FileSystem.exists(staged.path))
        #expect(try await storage.localFile(for: loc).size == 3)
        // Write-once: a second put under the same key never replaces the file, even with other bytes
        // claiming the same digest.
        let liar = StagedArchive(path: stage(storage, "upload-2.partial", "xyz").path, size: 3, sha256: staged.sha256)
        _ = try await storage.put(liar, kind: .moduleArchive)
        #expect(FileSystem.read(storage.archivesDirectory + "/" + loc.key) == Array("abc".utf8))
        // settle puts the archive back when a concurrent gc removed it before the row appeared.
        let again = stage(storage, "upload-3.partial", "abc")
        _ = try await storage.put(again, kind: .moduleArchive)
        try await storage.remove(loc)
        try await storage.settle(again, at: loc)
        #expect(FileSystem.read(storage.archivesDirectory + "/" + loc.key) == Array("abc".utf8))
        #expect(!FileSystem.exists(again.path))
    }

    /// Whoever can write the archives directory could plant a symbolic link at an archive's key (to a
    /// key file, /etc/shadow): the storage never serves, stats or stages through a link it did not create.
    @Test func aLinkPlantedAtAnArchiveKeyIsNeverFollowed() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/links")
        let secret = dir.path + "/secret"
        try FileSystem.writeAtomically(secret, Array("top secret".utf8), mode: 0o600)
        let digest = String(repeating: "ab", count: 32)
        let loc = ArchiveLocation(key: "sha256/ab/\(digest).tar.gz")
        try FileSystem.makeDirectories(storage.archivesDirectory + "/sha256/ab", mode: 0o750)
        #expect(symlink(secret, storage.archivesDirectory + "/" + loc.key) == 0)
        await #expect(throws: RegistryError.self) { _ = try await storage.localFile(for: loc) }
        #expect(try await storage.head(loc) == nil)
        #expect(try await storage.get(loc, limit: 1 << 20) == nil)
    }

    @Test func garbageCollectionRemovesOnlyWhatNoVersionReferences() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/gc")
        let store = InMemoryMetadataStore()
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        func publish(_ v: String, _ bytes: String) async throws -> ArchiveLocation {
            let s = stage(storage, "upload-\(v).partial", bytes)
            let loc = try await storage.put(s, kind: .moduleArchive)
            try await store.insertVersion(
                ModuleVersionRecord(module: m, version: try Version(v), location: loc, sha256: s.sha256, size: s.size, publishedAt: 0)
            )
            try await storage.settle(s, at: loc)
            return loc
        }
        let kept = try await publish("1.0.0", "kept")
        let gone = try await publish("2.0.0", "gone")
        _ = try await store.tombstoneVersion(try Version("2.0.0"), of: m, at: 1, by: nil)
        var old = [timespec(tv_sec: 1000, tv_nsec: 0), timespec(tv_sec: 1000, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, storage.archivesDirectory + "/" + gone.key, &old, 0)
        // A stale upload left by a killed process, and a fresh one that is still being written.
        let stale = stage(storage, "upload-stale.partial", "x").path
        _ = utimensat(AT_FDCWD, stale, &old, 0)
        let fresh = stage(storage, "upload-fresh.partial", "y").path
        let now = SystemClock().now()
        let dry = try await LocalGarbageCollector.collect(
            store: store,
            storage: storage,
            graceSeconds: 600,
            stagingGraceSeconds: 600,
            now: now,
            dryRun: true
        )
        #expect(dry.unreferenced.map(\.key) == [gone.key] && dry.removedArchives == 0)
        #expect(FileSystem.exists(storage.archivesDirectory + "/" + gone.key) && FileSystem.exists(stale))
        let report = try await LocalGarbageCollector.collect(
            store: store,
            storage: storage,
            graceSeconds: 600,
            stagingGraceSeconds: 600,
            now: now,
            dryRun: false
        )
        #expect(report.removedArchives == 1 && report.removedBytes == 4 && report.staleStaging == ["upload-stale.partial"])
        #expect(!FileSystem.exists(storage.archivesDirectory + "/" + gone.key) && !FileSystem.exists(stale))
        #expect(FileSystem.exists(storage.archivesDirectory + "/" + kept.key) && FileSystem.exists(fresh))
        // A gc killed after moving a referenced archive aside: the next gc puts it back, and removes
        // an unreferenced leftover.
        let keptPath = storage.archivesDirectory + "/" + kept.key
        #expect(rename(keptPath, keptPath + ".gc-4242") == 0)
        let leftover = storage.archivesDirectory + "/sha256/00/" + String(repeating: "0", count: 64) + ".tar.gz.gc-4242"
        _ = mkdir(storage.archivesDirectory + "/sha256/00", 0o750)
        #expect(FileSystem.exists(keptPath + ".gc-4242"))
        let fd = open(leftover, O_WRONLY | O_CREAT, 0o640)
        close(fd)
        let recovered = try await LocalGarbageCollector.collect(
            store: store,
            storage: storage,
            graceSeconds: 600,
            stagingGraceSeconds: 600,
            now: now,
            dryRun: false
        )
        #expect(recovered.restored == [kept.key] && FileSystem.exists(keptPath) && !FileSystem.exists(leftover))
        // Referenced again between listing and removal: put back.
        let moved = try await storage.removeUnreferenced(kept.key) { () throws(RegistryError) -> Bool in true }
        #expect(!moved && FileSystem.exists(storage.archivesDirectory + "/" + kept.key))
    }

    /// The race the review reproduced (2 of ~280 rounds): a delete racing a publish of identical bytes
    /// left a listed version whose archive was gone. Now, with a gc running in the same rounds (and no
    /// grace period, to make the race as likely as possible): never a listed version without its file.
    /// (The window is narrow; `gcBetweenPutAndInsertCannotLoseTheArchive` forces it deterministically.)
    @Test func deletePublishAndGCRaceNeverLoseAnArchive() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/race")
        let store = try SQLiteMetadataStore(path: dir.path + "/race.db")
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let service = RegistryService(store: store, storage: storage, canonicalizer: AcceptAnything())
        let principal = Principal(identity: try Identity("arn:aws:iam::123456789012:role/t"))
        try await store.putGrant(
            Grant(namespace: m.namespace, identity: principal.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        let logger = Logger(label: "race")
        func staged(_ i: Int) -> StagedArchive { stage(storage, "upload-\(i).partial", "identical bytes in every round") }
        _ = try await service.publish(staged(0), version: try Version("1.0.0"), of: m, caller: principal, logger: logger)
        for round in 1...500 {
            let previous = try Version("1.0.\(round - 1)")
            let next = try Version("1.0.\(round)")
            let s = staged(round)
            async let deleted: Void = service.deleteVersion(previous, of: m, caller: principal, logger: logger)
            async let published = service.publish(s, version: next, of: m, caller: principal, logger: logger)
            async let collected = LocalGarbageCollector.collect(
                store: store,
                storage: storage,
                graceSeconds: -1,
                now: SystemClock().now(),
                dryRun: false
            )
            _ = try await (deleted, published, collected)
            for r in try await store.allVersions(in: nil) {
                #expect(
                    FileSystem.exists(storage.archivesDirectory + "/" + r.location.key),
                    "round \(round): \(r.version) is listed without its archive"
                )
            }
        }
        #expect(try await store.versions(of: m).map(\.version.description) == ["1.0.500"])
    }

    /// The same race, forced: a gc runs exactly between the publish's `put` (which found the bytes
    /// already stored for a deleted version) and its row insert. Without `settle` re-linking, the new
    /// version would be listed without an archive.
    @Test func gcBetweenPutAndInsertCannotLoseTheArchive() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/forced")
        let store = try SQLiteMetadataStore(path: dir.path + "/forced.db")
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let hooked = HookedStorage(inner: storage) {
            let report = try? await LocalGarbageCollector.collect(
                store: store,
                storage: storage,
                graceSeconds: -1,
                now: SystemClock().now(),
                dryRun: false
            )
            precondition(report?.removedArchives == 1, "the forced gc must remove the deleted version's copy")
        }
        let service = RegistryService(store: store, storage: hooked, canonicalizer: AcceptAnything())
        let principal = Principal(identity: try Identity("arn:aws:iam::123456789012:role/t"))
        try await store.putGrant(
            Grant(namespace: m.namespace, identity: principal.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        let logger = Logger(label: "forced")
        let plain = RegistryService(store: store, storage: storage, canonicalizer: AcceptAnything())
        _ = try await plain.publish(
            stage(storage, "a.partial", "same bytes"),
            version: try Version("1.0.0"),
            of: m,
            caller: principal,
            logger: logger
        )
        try await plain.deleteVersion(try Version("1.0.0"), of: m, caller: principal, logger: logger)
        let r = try await service.publish(
            stage(storage, "b.partial", "same bytes"),
            version: try Version("1.0.1"),
            of: m,
            caller: principal,
            logger: logger
        )
        #expect(hooked.calls.withLock { $0 } == 1)
        #expect(FileSystem.exists(storage.archivesDirectory + "/" + r.location.key), "1.0.1 is listed without its archive")
    }

    /// Issue 17, finding 4, forced: `tfreg gc --grace-seconds 0` runs between a live `serve`'s `put`
    /// and its row insert. It removed the staged canonical file (its writer, this process, is alive)
    /// and the just-linked archive, so `settle` could not store it again: a 503 and a listed version
    /// without its archive.
    @Test func gcWithGraceZeroBetweenPutAndInsertLeavesTheLiveUploadAlone() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/forced0")
        let store = try SQLiteMetadataStore(path: dir.path + "/forced0.db")
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let hooked = HookedStorage(inner: storage) {
            _ = try? await LocalGarbageCollector.collect(
                store: store,
                storage: storage,
                graceSeconds: 0,
                stagingGraceSeconds: 0,
                now: SystemClock().now() + 1,
                dryRun: false
            )
        }
        let service = RegistryService(store: store, storage: hooked, canonicalizer: AcceptAnything())
        let principal = Principal(identity: try Identity("arn:aws:iam::123456789012:role/t"))
        try await store.putGrant(
            Grant(namespace: m.namespace, identity: principal.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        let r = try await service.publish(
            stage(storage, "upload-\(getpid())-0123abcd.partial", "live upload"),
            version: try Version("1.0.0"),
            of: m,
            caller: principal,
            logger: Logger(label: "forced0")
        )
        #expect(FileSystem.exists(storage.archivesDirectory + "/" + r.location.key), "1.0.0 is listed without its archive")
    }

    /// Issue 17, finding 4: 500 rounds of uploads (named as `serve` names them, three distinct
    /// contents, so deleted bytes come back), deletes, and a gc with grace 0 looping beside them.
    /// No upload may fail and no listed version may lack its archive.
    @Test func uploadsDeletesAndGCWithGraceZeroNeverLoseAnArchive() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/race0")
        let store = try SQLiteMetadataStore(path: dir.path + "/race0.db")
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let service = RegistryService(store: store, storage: storage, canonicalizer: AcceptAnything())
        let principal = Principal(identity: try Identity("arn:aws:iam::123456789012:role/t"))
        try await store.putGrant(
            Grant(namespace: m.namespace, identity: principal.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        let logger = Logger(label: "race0")
        let done = Mutex(false)
        let gcRuns = Mutex(0)
        let gcFailures = Mutex<[String]>([])
        let collector = Task {
            while !done.withLock({ $0 }) {
                do {
                    _ = try await LocalGarbageCollector.collect(
                        store: store,
                        storage: storage,
                        graceSeconds: 0,
                        stagingGraceSeconds: 0,
                        now: SystemClock().now() + 1,
                        dryRun: false
                    )
                    gcRuns.withLock { $0 += 1 }
                } catch {
                    gcFailures.withLock { $0.append("\(error)") }
                }
                await Task.yield()
            }
        }
        var failures: [String] = []
        var listed = Set<String>()
        for round in 0..<500 {
            let s = stage(storage, "upload-\(getpid())-\(round).partial", "bytes \(round % 3)")
            do {
                async let published = service.publish(s, version: try Version("1.0.\(round)"), of: m, caller: principal, logger: logger)
                if round > 0, round % 2 == 0 {
                    try await service.deleteVersion(try Version("1.0.\(round - 1)"), of: m, caller: principal, logger: logger)
                }
                _ = try await published
            } catch {
                failures.append("round \(round): \(error)")
            }
            for r in try await store.allVersions(in: nil) where !FileSystem.exists(storage.archivesDirectory + "/" + r.location.key) {
                listed.insert("\(r.version)")
            }
        }
        done.withLock { $0 = true }
        await collector.value
        #expect(failures.isEmpty, "\(failures.count) uploads failed: \(failures.prefix(3))")
        #expect(listed.isEmpty, "listed without their archive: \(listed.sorted())")
        #expect(gcFailures.withLock { $0 }.isEmpty)
        #expect(gcRuns.withLock { $0 } > 0)
    }

    /// Issue 17, finding 4: a gc leaves another running gc's moved-aside file alone (that one may be
    /// about to put it back); a dead one's is recovered as before.
    @Test func recoveryLeavesALiveCollectorsFileAlone() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/overlap")
        let store = InMemoryMetadataStore()
        let live = storage.archivesDirectory + "/sha256/11/" + String(repeating: "1", count: 64) + ".tar.gz.gc-\(getppid())"
        let dead = storage.archivesDirectory + "/sha256/22/" + String(repeating: "2", count: 64) + ".tar.gz.gc-999999999"
        for path in [live, dead] {
            try FileSystem.makeDirectories(String(path[..<path.lastIndex(of: "/")!]), mode: 0o750)
            try FileSystem.writeExclusive(path, Array("aside".utf8), mode: 0o640)
        }
        _ = try await LocalGarbageCollector.collect(store: store, storage: storage, graceSeconds: 0, now: SystemClock().now(), dryRun: false)
        #expect(FileSystem.exists(live), "removed the file a running gc had moved aside")
        #expect(!FileSystem.exists(dead))
    }

    /// Staged files: a live writer's are kept at any age, a dead writer's go at once, others by age.
    @Test func stagingIsJudgedByItsWriter() throws {
        let storage = try FileArchiveStorage(root: dir.path + "/staging")
        var old = [timespec(tv_sec: 1000, tv_nsec: 0), timespec(tv_sec: 1000, tv_nsec: 0)]
        let names = ["upload-\(getpid())-a.partial", "upload-\(getppid())-b.partial.canonical", "import-999999999-c.partial", "other.partial"]
        for name in names {
            _ = stage(storage, name, "x")
            _ = utimensat(AT_FDCWD, storage.stagingDirectory + "/" + name, &old, 0)
        }
        _ = stage(storage, "fresh.partial", "y")
        let removed = storage.removeStaleStaging(olderThan: 3600, now: SystemClock().now())
        #expect(removed.sorted() == ["import-999999999-c.partial", "other.partial"])
        // A Lambda cold start: no writer can run (a restarted runtime may even reuse its predecessor's
        // pid, this one's here), so every staged file goes, the fresh one included.
        let all = FileArchiveStorage.removeStaleStaging(in: storage.stagingDirectory, olderThan: 0, now: SystemClock().now(), noWriterRuns: true)
        #expect(Set(all) == ["fresh.partial", "upload-\(getpid())-a.partial", "upload-\(getppid())-b.partial.canonical"])
    }

    /// Concurrent uploads of 1.0.0+b0 … 1.0.0+b19 registered 2–4 releases; the store now has exactly one winner.
    @Test func concurrentBuildMetadataHasExactlyOneWinner() async throws {
        let store = try SQLiteMetadataStore(path: dir.path + "/builds.db")
        for round in 0..<25 {
            let m = try ModuleAddress(namespace: "ns", name: "r\(round)", system: "aws")
            let results = await withTaskGroup(of: Bool.self) { group in
                for b in 0..<20 {
                    group.addTask {
                        let r = ModuleVersionRecord(
                            module: m,
                            version: try! Version("1.0.0+b\(b)"),
                            location: ArchiveLocation(key: "k\(b)"),
                            sha256: "s",
                            size: 1,
                            publishedAt: 0
                        )
                        do {
                            try await store.insertVersion(r)
                            return true
                        } catch { return false }
                    }
                }
                var wins = 0
                for await ok in group where ok { wins += 1 }
                return wins
            }
            #expect(results == 1, "round \(round): \(results) winners")
            #expect(try await store.versions(of: m).count == 1)
        }
    }

    /// Issue 18, item 2: archives stored under an older tfreg's layout (`NS/NAME/SYSTEM/VERSION/SHA256.tar.gz`)
    /// are not migrated. A version that references one is still delivered, served and readable, and gc
    /// keeps it; an unreferenced file of that layout is collected like any other of its kind, and a
    /// file of no known kind is left alone.
    @Test func archivesUnderTheOldLayoutAreDeliveredAndKept() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/old-layout")
        let store = InMemoryMetadataStore()
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let bytes = Array("bytes an older tfreg stored".utf8)
        let digest = Hex.encode(SHA256.hash(bytes))
        let key = "ns/n/aws/1.0.0/\(digest).tar.gz"
        let orphan = "ns/n/aws/0.9.0/\(String(repeating: "e", count: 64)).tar.gz"
        let unknown = "ns/n/aws/notes.txt"
        var old = [timespec(tv_sec: 1000, tv_nsec: 0), timespec(tv_sec: 1000, tv_nsec: 0)]
        for (k, content) in [(key, bytes), (orphan, Array("gone".utf8)), (unknown, Array("?".utf8))] {
            let path = storage.archivesDirectory + "/" + k
            try FileSystem.makeDirectories(String(path[..<path.lastIndex(of: "/")!]), mode: 0o750)
            try FileSystem.writeExclusive(path, content, mode: 0o640)
            _ = utimensat(AT_FDCWD, path, &old, 0)
        }
        let record = ModuleVersionRecord(
            module: m,
            version: try Version("1.0.0"),
            location: ArchiveLocation(key: key),
            sha256: digest,
            size: Int64(bytes.count),
            publishedAt: 0
        )
        try await store.insertVersion(record)
        #expect(!storage.isCanonicalKey(key), "an old key is not a content address: import-legacy re-canonicalizes it")
        #expect(try await storage.delivery(of: record.location, sha256: digest, expiresIn: 60) == .servedByRegistry)
        #expect(try await storage.localFile(for: record.location).size == Int64(bytes.count))
        #expect(try await storage.head(record.location)?.size == Int64(bytes.count))
        let copy = try #require(try await storage.get(record.location, limit: 1 << 20))
        #expect(copy.sha256 == digest && copy.size == Int64(bytes.count))
        _ = unlink(copy.path)

        let report = try await LocalGarbageCollector.collect(store: store, storage: storage, graceSeconds: 0, now: SystemClock().now(), dryRun: false)
        #expect(report.unreferenced.map(\.key) == [orphan] && report.removedArchives == 1, "\(report)")
        #expect(FileSystem.read(storage.archivesDirectory + "/" + key) == bytes, "the referenced old-layout archive is kept")
        #expect(!FileSystem.exists(storage.archivesDirectory + "/" + orphan))
        #expect(FileSystem.exists(storage.archivesDirectory + "/" + unknown), "a file of no known kind is not gc's")
        #expect(try await storage.localFile(for: record.location).size == Int64(bytes.count), "still served after gc")
    }

    /// The content address of every kind: digest only, the kind's extension, write-once.
    @Test func putStoresAtTheBlobAddress() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/address")
        let staged = stage(storage, "upload-a.partial", "abc")
        for kind in BlobKind.allCases {
            let location = try await storage.put(staged, kind: kind)
            #expect(location == ArchiveLocation(key: BlobAddress(sha256: staged.sha256, kind: kind)!.key))
            #expect(location.key.hasPrefix("sha256/\(staged.sha256.prefix(2))/") && location.key.hasSuffix(kind.fileExtension))
            #expect(storage.isCanonicalKey(location.key) && BlobKind.of(key: location.key) == kind)
        }
        try await storage.settle(staged, at: ArchiveLocation(key: BlobAddress(sha256: staged.sha256, kind: .moduleArchive)!.key))
        #expect(BlobAddress(sha256: "ABC", kind: .moduleArchive) == nil, "only a lowercase hex SHA-256 is an address")
    }

    @Test(arguments: ["../../etc/passwd", "/etc/passwd", "a/../b", "a//b", "", "a/./b", "a\\b", "x y"])
    func unsafeKeysNeverTouchTheFilesystem(_ key: String) async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/data2")
        #expect(!FileArchiveStorage.isSafeKey(key))
        await #expect(throws: RegistryError.notFound("")) { try await storage.localFile(for: ArchiveLocation(key: key)) }
    }

    /// Issue 22, item 2: a version the replaced tool registered (archive in a user's bucket) on a registry
    /// whose storage is a local directory is the registry's misconfiguration, said so, never a 404 that
    /// tells Terraform the version has no archive.
    @Test func aVersionInABucketIsAMisconfigurationNotNotFound() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/bucketed")
        let location = try ArchiveLocation.external(bucket: "users-bucket", key: "m/vpc.tar.gz")
        let record = ModuleVersionRecord(
            module: try ModuleAddress(namespace: "ns", name: "n", system: "aws"),
            version: try Version("1.0.0"),
            location: location,
            sha256: String(repeating: "0", count: 64),
            size: 1,
            publishedAt: 0
        )
        let delivery = await #expect(throws: RegistryError.self) {
            try await storage.delivery(of: record.location, sha256: record.sha256, expiresIn: 60)
        }
        #expect(delivery?.code == .misconfigured && "\(delivery!)".contains("TFREG_STORAGE"), "\(String(describing: delivery))")
        let file = await #expect(throws: RegistryError.self) { try await storage.localFile(for: location) }
        #expect(file?.code == .misconfigured, "\(String(describing: file))")
    }
}

/// Runs `afterPut` between `put` and the caller's next step, to force an interleaving.
final class HookedStorage: BlobStore, @unchecked Sendable {
    let inner: FileArchiveStorage
    let afterPut: @Sendable () async -> Void
    let calls = Mutex(0)
    init(inner: FileArchiveStorage, afterPut: @escaping @Sendable () async -> Void) {
        self.inner = inner
        self.afterPut = afterPut
    }
    var stagingDirectory: String { inner.stagingDirectory }
    var registersExistingObjects: Bool { inner.registersExistingObjects }
    var acceptsWrites: Bool { inner.acceptsWrites }
    func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation {
        let l = try await inner.put(staged, kind: kind)
        calls.withLock { $0 += 1 }
        await afterPut()
        return l
    }
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) { try await inner.settle(staged, at: location) }
    func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? { try await inner.head(location) }
    func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? { try await inner.get(location, limit: limit) }
    func remove(_ location: ArchiveLocation) async throws(RegistryError) { try await inner.remove(location) }
    func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        try await inner.delivery(of: location, sha256: sha256, expiresIn: seconds)
    }
    func isCanonicalKey(_ key: String) -> Bool { inner.isCanonicalKey(key) }
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile { try await inner.localFile(for: location) }
}

/// Issue 17, finding 5: whoever can write the data directory links `registry.db-shm` (or `-wal`) to
/// someone else's file; opening the store (as root, as administrators run the CLI) must neither change
/// that file's mode nor use it.
@Suite struct SQLiteFileModeTests {
    @Test(arguments: ["-shm", "-wal"])
    func aPlantedLinkIsRefusedAndItsTargetUntouched(_ suffix: String) throws {
        let tmp = TemporaryDirectory("tfreg-planted")
        defer { tmp.remove() }
        let db = tmp.path + "/registry.db"
        _ = try SQLiteMetadataStore(path: db)
        let target = tmp.path + "/x"
        try FileSystem.writeExclusive(target, Array("setuid binary".utf8), mode: 0o755)
        _ = unlink(db + suffix)
        #expect(symlink(target, db + suffix) == 0)
        #expect(throws: RegistryError(.misconfigured, "")) { _ = try SQLiteMetadataStore(path: db) }
        var st = stat()
        #expect(stat(target, &st) == 0 && st.st_mode & 0o7777 == 0o755, "the link's target was chmodded")
        #expect(FileSystem.read(target) == Array("setuid binary".utf8))
    }
}
