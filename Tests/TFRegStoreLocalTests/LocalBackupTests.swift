import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegStoreLocal

/// Backup and restore carry every kind of stored file the database references — module archives,
/// their documentation, provider zips, SHA256SUMS and signatures — verified by SHA-256; a version whose
/// file went missing while the backup ran (deleted, then collected) is left out of the copy.
@Suite final class LocalBackupTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    /// Stores `bytes` as a blob of `kind` through the storage, as publishing does.
    func put(_ storage: FileArchiveStorage, _ bytes: [UInt8], _ kind: BlobKind) async throws -> ProviderBlob {
        let path = storage.stagingDirectory + "/test-" + Hex.encode(SecureRandom.bytes(6))
        try FileSystem.writeAtomically(path, bytes, mode: 0o640)
        let staged = StagedArchive(path: path, size: Int64(bytes.count), sha256: Hex.encode(SHA256.hash(bytes)))
        let location = try await storage.put(staged, kind: kind)
        return ProviderBlob(location: location, sha256: staged.sha256, size: staged.size)
    }

    /// A data directory with one documented module version and two provider versions.
    func registry(_ data: String) async throws -> (SQLiteMetadataStore, FileArchiveStorage, [ProviderVersionRecord]) {
        let storage = try FileArchiveStorage(root: data)
        let store = try SQLiteMetadataStore(path: data + "/registry.db")
        let archive = try await put(storage, Array("module archive".utf8), .moduleArchive)
        let docs = try await put(storage, Array(#"{"root":{}}"#.utf8), .moduleDocs)
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        try await store.insertVersion(
            ModuleVersionRecord(
                module: module,
                version: try Version("1.0.0"),
                location: archive.location,
                sha256: archive.sha256,
                size: archive.size,
                publishedAt: 1
            )
        )
        _ = try await store.setDocumentation(docsKey: docs.location.key, description: nil, version: try Version("1.0.0"), of: module)
        var providers: [ProviderVersionRecord] = []
        for v in ["1.0.0", "1.1.0"] {
            var r = try MetadataStoreConformance.providerRecord(try ProviderAddress(namespace: "acme", type: "demo"), v)
            r.packages[0].zip = try await put(storage, Array("linux zip \(v)".utf8), .providerPackage)
            r.packages[1].zip = try await put(storage, Array("darwin zip \(v)".utf8), .providerPackage)
            r.shasums = try await put(storage, Array("sums \(v)".utf8), .providerShasums)
            r.signature = try await put(storage, Array("signature \(v)".utf8), .providerSignature)
            try await store.insertProviderVersion(r)
            providers.append(r)
        }
        return (store, storage, providers)
    }

    func files(_ r: ProviderVersionRecord) -> [ProviderBlob] { r.packages.map(\.zip) + [r.shasums, r.signature] }

    @Test func everyStoredFileIsBackedUpAndRestored() async throws {
        let data = dir.path + "/data"
        let (_, _, providers) = try await registry(data)
        let report = try await LocalBackup.backup(dataDirectory: data, to: dir.path + "/backup")
        #expect(report.versions == 1 && report.providerVersions == 2 && report.dropped.isEmpty)
        // 2 module files + 2 × 4 provider files, each byte for byte.
        for blob in providers.flatMap(files) {
            #expect(FileSystem.read(dir.path + "/backup/archives/" + blob.location.key) == FileSystem.read(data + "/archives/" + blob.location.key))
        }
        let moduleBytes = Int64("module archive".utf8.count + #"{"root":{}}"#.utf8.count)
        #expect(report.bytes == moduleBytes + providers.flatMap(files).reduce(0) { $0 + $1.size })

        let restored = dir.path + "/restored"
        let back = try await LocalBackup.restore(from: dir.path + "/backup", into: restored, force: false)
        #expect(back.versions == 1 && back.providerVersions == 2 && back.bytes == report.bytes)
        let store = try SQLiteMetadataStore(path: restored + "/registry.db")
        let module = try #require(try await store.allVersions(in: nil).first)
        let docsKey = try #require(module.docsKey)
        #expect(FileSystem.read(restored + "/archives/" + docsKey) == Array(#"{"root":{}}"#.utf8))
        #expect(FileSystem.read(restored + "/archives/" + module.location.key) == Array("module archive".utf8))
        let restoredProviders = try await store.allProviderVersions(in: nil)
        #expect(restoredProviders.count == 2)
        for r in restoredProviders {
            for blob in files(r) {
                let bytes = try #require(FileSystem.read(restored + "/archives/" + blob.location.key), "\(blob.location.key)")
                #expect(Hex.encode(SHA256.hash(bytes)) == blob.sha256)
            }
        }
    }

    @Test func aCorruptProviderFileInTheBackupStopsTheRestoreBeforeAnythingIsWritten() async throws {
        let data = dir.path + "/data"
        let (_, _, providers) = try await registry(data)
        _ = try await LocalBackup.backup(dataDirectory: data, to: dir.path + "/backup")
        let victim = dir.path + "/backup/archives/" + providers[1].signature.location.key
        try FileSystem.writeAtomically(victim, Array("forged".utf8), mode: 0o640)
        let restored = dir.path + "/restored"
        let error = await #expect(throws: RegistryError.self) {
            try await LocalBackup.restore(from: dir.path + "/backup", into: restored, force: false)
        }
        #expect(error?.message.contains("provider acme/demo 1.1.0") == true, "\(String(describing: error))")
        #expect(!FileSystem.exists(restored + "/registry.db"))
    }

    /// Documentation is derived from the archive: a missing documentation file (an old one collected
    /// after `tfreg reindex`) costs the copy the documentation only, never the version.
    @Test func aMissingDocumentationFileKeepsTheVersion() async throws {
        let data = dir.path + "/data"
        let (store, _, _) = try await registry(data)
        let docsKey = try #require(try await store.allVersions(in: nil).first?.docsKey)
        #expect(unlink(data + "/archives/" + docsKey) == 0)
        let report = try await LocalBackup.backup(dataDirectory: data, to: dir.path + "/backup")
        #expect(report.dropped.isEmpty && report.versions == 1 && report.undocumented == ["acme/vpc/aws 1.0.0"])
        let snapshot = try SQLiteMetadataStore(path: dir.path + "/backup/registry.db")
        let kept = try #require(try await snapshot.allVersions(in: nil).first)
        #expect(kept.docsKey == nil && kept.version.description == "1.0.0")
        let back = try await LocalBackup.restore(from: dir.path + "/backup", into: dir.path + "/restored", force: false)
        #expect(back.versions == 1 && back.providerVersions == 2)
    }

    @Test func aProviderVersionWhoseFileWasCollectedIsLeftOutOfTheBackup() async throws {
        let data = dir.path + "/data"
        let (_, _, providers) = try await registry(data)
        // As if 1.0.0 were deleted and gc had removed one of its zips while the backup started.
        #expect(unlink(data + "/archives/" + providers[0].packages[1].zip.location.key) == 0)
        let report = try await LocalBackup.backup(dataDirectory: data, to: dir.path + "/backup")
        #expect(report.dropped == ["provider acme/demo 1.0.0"] && report.providerVersions == 1 && report.versions == 1)
        let snapshot = try SQLiteMetadataStore(path: dir.path + "/backup/registry.db")
        #expect(try await snapshot.allProviderVersions(in: nil).map(\.version.description) == ["1.1.0"])
        // Its other files were not copied; the backup restores.
        #expect(!FileSystem.exists(dir.path + "/backup/archives/" + providers[0].packages[0].zip.location.key))
        let back = try await LocalBackup.restore(from: dir.path + "/backup", into: dir.path + "/restored", force: false)
        #expect(back.providerVersions == 1)
    }
}
