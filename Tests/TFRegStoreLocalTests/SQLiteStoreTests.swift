import TFRegCore
import TFRegTesting
import Testing
@testable import TFRegStoreLocal

#if canImport(Glibc)
import Glibc
#endif

@Suite final class SQLiteStoreTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    @Test(arguments: [true, false])
    func conformance(cached: Bool) async throws {
        try await MetadataStoreConformance.run(try SQLiteMetadataStore(path: dir.path + "/c-\(cached).db", cached: cached))
    }

    /// The server's cached reads see writes made by another connection (the `tfreg grant` CLI) at once:
    /// a revoked token or removed grant never keeps working from the cache.
    @Test func cacheSeesWritesFromAnotherConnection() async throws {
        let path = dir.path + "/shared.db"
        let server = try SQLiteMetadataStore(path: path)
        let cli = try SQLiteMetadataStore(path: path, cached: false)
        let ns = try Namespace("acme")
        let id = try Identity.token(named: "ci")
        let digest = String(repeating: "e", count: 64)
        let m = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")

        #expect(try await server.grant(for: id, in: ns) == nil)  // a cached negative
        try await cli.createStaticToken(id, hash: digest, createdAt: 0)
        try await cli.putGrant(Grant(namespace: ns, identity: id, permissions: Permissions(download: true)), mode: .create)
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
        try await cli.insertVersion(ModuleVersionRecord(module: m, version: try Version("1.0.0"), location: ArchiveLocation(key: "k"), sha256: "s", size: 1, publishedAt: 0))
        #expect(try await server.versions(of: m).count == 1)
        #expect(try await cli.deleteStaticToken(id))
        #expect(try await server.staticTokenIdentity(hash: digest) == nil)
        #expect(try await server.grant(for: id, in: ns) == nil)
        // And the server's own writes invalidate its own cache.
        _ = try await server.deleteVersion(try Version("1.0.0"), of: m)
        #expect(try await server.versions(of: m).isEmpty)
    }

    @Test func schemaIsVersionedAndDataSurvivesReopen() async throws {
        let path = dir.path + "/r.db"
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        do {
            let store = try SQLiteMetadataStore(path: path)
            #expect(try store.schemaVersion == SQLiteMetadataStore.migrations.count)
            try await store.insertVersion(ModuleVersionRecord(module: m, version: try Version("1.0.0"), location: ArchiveLocation(key: "k"), sha256: "s", size: 3, publishedAt: 9))
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

@Suite final class FileArchiveStorageTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    @Test func putMovesAtomicallyAndRemoveDeletes() async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/data")
        let staged = storage.stagingDirectory + "/upload-1.partial"
        let fd = open(staged, O_WRONLY | O_CREAT, 0o640)
        _ = write(fd, "abc", 3)
        close(fd)
        let m = try ModuleAddress(namespace: "ns", name: "n", system: "aws")
        let loc = try await storage.put(StagedArchive(path: staged, size: 3, sha256: String(repeating: "f", count: 64)), module: m, version: try Version("1.0.0+b.1"))
        #expect(loc.key == "ns/n/aws/1.0.0+b.1/" + String(repeating: "f", count: 64) + ".tar.gz")
        #expect(!FileSystem.exists(staged))
        let file = try await storage.localFile(for: loc)
        #expect(file.size == 3)
        try await storage.remove(loc)
        await #expect(throws: RegistryError.notFound("")) { try await storage.localFile(for: loc) }
        try await storage.remove(loc)  // idempotent
    }

    @Test(arguments: ["../../etc/passwd", "/etc/passwd", "a/../b", "a//b", "", "a/./b", "a\\b", "x y"])
    func unsafeKeysNeverTouchTheFilesystem(_ key: String) async throws {
        let storage = try FileArchiveStorage(root: dir.path + "/data2")
        #expect(!FileArchiveStorage.isSafeKey(key))
        await #expect(throws: RegistryError.notFound("")) { try await storage.localFile(for: ArchiveLocation(key: key)) }
    }
}
