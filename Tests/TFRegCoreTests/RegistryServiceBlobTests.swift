import Logging
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegCore

/// Copies the input as its canonical form, under a fixed digest (no hashing in this target).
struct CopyAsCanonical: ArchiveCanonicalizer {
    static let digest = String(repeating: "c", count: 64)
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive {
        let bytes = FileSystem.read(input) ?? []
        do { try FileSystem.writeExclusive(output, bytes, mode: 0o640) } catch { throw .internalError("\(error)") }
        return CanonicalArchive(size: Int64(bytes.count), sha256: Self.digest, entries: 1)
    }
}

/// What `RegistryService` does with a `BlobStore`'s verbs: the import policy of `create` and
/// `import-legacy` (`importCopy`), and the module named in an upstream mismatch.
@Suite final class RegistryServiceBlobTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }
    let store = InMemoryMetadataStore()
    let module = try! ModuleAddress(namespace: "team-a", name: "vpc", system: "aws")
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))
    let users = try! ArchiveLocation.external(bucket: "users-bucket", key: "m/vpc.tar.gz")
    let expected = String(repeating: "a", count: 64)
    let bytes = Array("the user's archive".utf8)

    func service(_ blobs: MemoryBlobStore) async throws -> RegistryService {
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: writer.identity, permissions: Permissions(download: true, upload: true)),
            mode: .upsert
        )
        return RegistryService(store: store, storage: blobs, canonicalizer: CopyAsCanonical(), clock: TestClock())
    }

    func register(_ service: RegistryService, _ version: String) async throws -> ModuleVersionRecord {
        try await service.register(
            existing: users,
            expectedSHA256: expected,
            maximumBytes: 1 << 20,
            version: try Version(version),
            of: module,
            caller: writer,
            logger: Logger(label: "t")
        )
    }

    @Test func createImportsTheRegistrysOwnCopy() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let service = try await service(blobs)
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: expected)
        let record = try await register(service, "1.0.0")
        let own = BlobAddress(sha256: CopyAsCanonical.digest, kind: .moduleArchive)!
        #expect(record.location == ArchiveLocation(key: own.key) && record.sha256 == CopyAsCanonical.digest)
        #expect(await blobs.object(at: record.location)?.bytes == bytes)
        #expect(FileSystem.list(dir.path).isEmpty, "every staged file is gone")
    }

    @Test func createRefusesWhatDoesNotMatch() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let service = try await service(blobs)
        let missing = await #expect(throws: RegistryError.badRequest("")) { try await self.register(service, "1.0.0") }
        #expect(missing?.message == "s3://users-bucket/m/vpc.tar.gz does not exist")
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: nil)
        let unrecorded = await #expect(throws: RegistryError.badRequest("")) { try await self.register(service, "1.0.0") }
        #expect(unrecorded?.message.contains("has no SHA-256 checksum") == true)
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: String(repeating: "b", count: 64))
        let recorded = await #expect(throws: RegistryError.badRequest("")) { try await self.register(service, "1.0.0") }
        #expect(recorded?.message.contains("does not match expected_checksum") == true)
        // S3's record says the right digest, but the bytes read are other ones (overwritten between).
        await blobs.seed(users, bytes: bytes, sha256: String(repeating: "d", count: 64), recordedSHA256: expected)
        let overwritten = await #expect(throws: RegistryError.badRequest("")) { try await self.register(service, "1.0.0") }
        #expect(overwritten?.message.contains("was it overwritten?") == true)
        let large = MemoryBlobStore(stagingDirectory: dir.path)
        await large.seed(users, bytes: bytes, sha256: expected, recordedSHA256: expected)
        await #expect(throws: RegistryError(.payloadTooLarge, "")) {
            try await self.service(large).register(
                existing: self.users,
                expectedSHA256: self.expected,
                maximumBytes: 3,
                version: try Version("1.0.0"),
                of: self.module,
                caller: self.writer,
                logger: Logger(label: "t")
            )
        }
        #expect(try await store.versions(of: module).isEmpty && FileSystem.list(dir.path).isEmpty)
    }

    @Test func withoutABucketOfItsOwnTheVersionReferencesTheUsersObject() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path, acceptsWrites: false)
        let service = try await service(blobs)
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: expected)
        let record = try await register(service, "1.0.0")
        #expect(record.location == users && record.sha256 == expected)
        // The owner overwrites it: the download names the module's version and the object, never serves it.
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: String(repeating: "e", count: 64))
        let e = await #expect(throws: RegistryError(.upstreamMismatch, "")) {
            try await service.download(try Version("1.0.0"), of: self.module, caller: self.writer, expiresIn: 60)
        }
        #expect(e?.message.hasPrefix("the archive of team-a/vpc/aws 1.0.0: s3://users-bucket/m/vpc.tar.gz changed after it was registered") == true)
    }

    @Test func aLocalDirectoryRefusesCreate() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path, registersExistingObjects: false)
        let service = try await service(blobs)
        await blobs.seed(users, bytes: bytes, sha256: expected, recordedSHA256: expected)
        let e = await #expect(throws: RegistryError.badRequest("")) { try await self.register(service, "1.0.0") }
        #expect(e?.message.contains("publish with the upload endpoint instead of create") == true)
    }
}
