import Logging
import TFRegCrypto
import TFRegJSON
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegCore

/// Documentation at publish (`RegistryService+Documentation`): extracted once from the canonical
/// archive, stored as a `.moduleDocs` blob the record names, read back by `moduleDetail`; never a
/// reason for a publish to fail. Plus the docs JSON codec, README descriptions and publish details.
@Suite final class ModuleDocumentationTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }
    let store = InMemoryMetadataStore()
    let module = try! ModuleAddress(namespace: "team-a", name: "vpc", system: "aws")
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))
    let logger = Logger(label: "t")

    func service(_ blobs: MemoryBlobStore, documenter: (any ModuleDocumenter)?) async throws -> RegistryService {
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: writer.identity, permissions: Permissions(download: true, upload: true)),
            mode: .upsert
        )
        return RegistryService(store: store, storage: blobs, canonicalizer: CopyAsCanonical(), clock: TestClock(), documenter: documenter)
    }

    func staged(_ name: String) throws -> StagedArchive {
        let path = dir.path + "/" + name + ".partial"
        try FileSystem.writeExclusive(path, Array("archive bytes".utf8), mode: 0o600)
        return StagedArchive(path: path, size: 13, sha256: String(repeating: "e", count: 64))
    }

    @Test func publishStoresDocumentationAndReadsItBack() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let documenter = FixedDocumenter(FixedDocumenter.sample)
        let service = try await service(blobs, documenter: documenter)
        let record = try await service.publish(
            try staged("a"),
            version: try Version("1.0.0"),
            of: module,
            caller: writer,
            details: PublishDetails(source: "https://git.example.com/team-a/vpc"),
            logger: logger
        )
        let json = FixedDocumenter.sample.jsonValue.serialized()
        let address = try #require(BlobAddress(sha256: Hex.encode(SHA256.hash(json)), kind: .moduleDocs))
        #expect(record.docsKey == address.key)
        #expect(address.key.hasSuffix(".json"))
        #expect(await blobs.object(at: ArchiveLocation(key: address.key))?.bytes == json)
        #expect(record.description == "Creates a VPC with subnets across zones.")
        #expect(record.source == "https://git.example.com/team-a/vpc")
        #expect(await documenter.calls == 1)
        #expect(FileSystem.list(dir.path).isEmpty, "the archive's and the docs' staged files are gone")
        // Stored with the record; the summary shows the latest version's description and source.
        let stored = try #require(try await store.version(try Version("1.0.0"), of: module))
        #expect(stored.docsKey == record.docsKey && stored.description == record.description)
        let summary = try #require(try await store.moduleSummaries(in: module.namespace).first)
        #expect(summary.description == record.description && summary.source == record.source)
        // Read back, not computed again.
        let detail = try await service.moduleDetail(module, version: nil, caller: writer)
        #expect(detail.docs == FixedDocumenter.sample)
        #expect(detail.description == record.description && detail.source == record.source)
        #expect(await documenter.calls == 1, "the read path never runs the documenter")
        #expect(FileSystem.list(dir.path).isEmpty, "reading the docs leaves no staged file")
    }

    @Test func givenDescriptionWinsAndBadDetailsAreRefusedBeforeAnythingIsStored() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let service = try await service(blobs, documenter: FixedDocumenter(FixedDocumenter.sample))
        let record = try await service.publish(
            try staged("b"),
            version: try Version("1.0.0"),
            of: module,
            caller: writer,
            details: PublishDetails(description: "  Our VPC.  "),
            logger: logger
        )
        #expect(record.description == "Our VPC.")
        for bad in ["javascript:alert(1)", "https://", "ftp://x", "https://user@evil", "https://a b", "https://x/\"onmouseover"] {
            await #expect(throws: RegistryError.badRequest("")) {
                try await service.publish(
                    try self.staged("bad"),
                    version: try Version("2.0.0"),
                    of: self.module,
                    caller: self.writer,
                    details: PublishDetails(source: bad),
                    logger: self.logger
                )
            }
        }
        await #expect(throws: RegistryError.badRequest("")) {
            try await service.publish(
                try self.staged("bad"),
                version: try Version("2.0.0"),
                of: self.module,
                caller: self.writer,
                details: PublishDetails(description: "evil\u{202E}txt"),
                logger: self.logger
            )
        }
        #expect(FileSystem.list(dir.path).isEmpty, "a refused publish leaves no staged file")
        #expect(try await store.versions(of: module).count == 1)
    }

    @Test func withoutADocumenterOrWritableStorageThePublishStillSucceeds() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let none = try await service(blobs, documenter: nil)
        let plain = try await none.publish(try staged("c"), version: try Version("1.0.0"), of: module, caller: writer, logger: logger)
        #expect(plain.docsKey == nil && plain.description == nil)
        #expect(try await none.moduleDetail(module, version: nil, caller: writer).docs == nil)
        // Documentation that cannot be read back (a damaged blob) is logged and left out, not a 500.
        let service = try await service(blobs, documenter: FixedDocumenter(FixedDocumenter.sample))
        let record = try await service.publish(try staged("d"), version: try Version("1.1.0"), of: module, caller: writer, logger: logger)
        let location = try #require(record.docsLocation)
        await blobs.seed(location, bytes: Array("{\"format\":1}".utf8), sha256: String(repeating: "f", count: 64), recordedSHA256: nil)
        let detail = try await service.moduleDetail(module, version: try Version("1.1.0"), caller: writer)
        #expect(detail.docs == nil && detail.record.docsKey == record.docsKey)
    }

    @Test func reindexFillsVersionsStoredBefore() async throws {
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let documenter = FixedDocumenter(FixedDocumenter.sample)
        let service = try await service(blobs, documenter: documenter)
        let archive = ArchiveLocation(key: BlobAddress(sha256: String(repeating: "1", count: 64), kind: .moduleArchive)!.key)
        await blobs.seed(archive, bytes: Array("old".utf8), sha256: String(repeating: "1", count: 64), recordedSHA256: nil)
        let old = ModuleVersionRecord(
            module: module,
            version: try Version("0.9.0"),
            location: archive,
            sha256: String(repeating: "1", count: 64),
            size: 3,
            publishedAt: 1
        )
        try await store.insertVersion(old)
        #expect(service.canReindex(old))
        let updated = try #require(try await service.reindex(old, maximumBytes: 1 << 20, by: LocalOperator(user: "op", host: "h"), logger: logger))
        #expect(updated.docsKey != nil && updated.description == "Creates a VPC with subnets across zones.")
        #expect(try await store.version(try Version("0.9.0"), of: module)?.docsKey == updated.docsKey)
        #expect(try await service.reindex(updated, maximumBytes: 1 << 20, by: LocalOperator(user: "op", host: "h"), logger: logger) == nil)
        #expect(await documenter.calls == 1)
        #expect(FileSystem.list(dir.path).isEmpty)
        // A user's object is not the registry's canonical copy: import-legacy first.
        let legacy = ModuleVersionRecord(
            module: module,
            version: try Version("0.8.0"),
            location: try ArchiveLocation.external(bucket: "users-bucket", key: "m.tar.gz"),
            sha256: "a",
            size: 1,
            publishedAt: 1
        )
        #expect(!service.canReindex(legacy))
        await #expect(throws: RegistryError.badRequest("")) {
            try await service.reindex(legacy, maximumBytes: 1 << 20, by: LocalOperator(user: "op", host: "h"), logger: self.logger)
        }
    }

    @Test func docsJSONRoundTripsAndIsReadStrictly() throws {
        let bytes = FixedDocumenter.sample.jsonValue.serialized()
        #expect(try ModuleDocs(jsonBytes: bytes) == FixedDocumenter.sample)
        let text = String(decoding: bytes, as: UTF8.self)
        #expect(text.contains("\"default\":\"{\\\"team\\\":\\\"a\\\"}\""), "default stays a JSON-encoded string: \(text.prefix(400))")
        let hostile: [String] = [
            "", "null", "[]", "{}", "{\"format\":2,\"root\":{},\"submodules\":[],\"examples\":[]}",
            String(text.dropLast()),
            text.replacing("\"format\":1", with: "\"format\":1,\"format\":1"),
            text.replacing("\"sensitive\":false", with: "\"sensitive\":\"no\""),
            text.replacing("\"path\":\"\"", with: "\"path\":\"\",\"extra\":1"),
            String(repeating: "[", count: 10_000),
        ]
        for h in hostile {
            #expect(throws: RegistryError.internalError("")) { try ModuleDocs(jsonBytes: Array(h.utf8)) }
        }
    }

    @Test func descriptionIsTheReadmesFirstParagraphAsPlainText() {
        #expect(FixedDocumenter.sample.root.readme.flatMap(ModuleDocs.description(fromReadme:)) == "Creates a VPC with subnets across zones.")
        #expect(ModuleDocs.description(fromReadme: "") == nil)
        #expect(ModuleDocs.description(fromReadme: "# Title only\n\n<!-- note\nstill -->\n") == nil)
        #expect(ModuleDocs.description(fromReadme: "Title\n=====\n\nThe `vpc` module, *fast* and __safe__.\n") == "The vpc module, fast and safe.")
        #expect(ModuleDocs.description(fromReadme: "```hcl\nmodule x {}\n```\n\nAfter ![img](x.png) code.") == "After code.")
        #expect(ModuleDocs.description(fromReadme: "Hidden\u{202E}\u{0007} text") == "Hidden text")
        let long = ModuleDocs.description(fromReadme: String(repeating: "word ", count: 1000)) ?? ""
        #expect(long.utf8.count <= PublishDetails.maximumDescriptionLength && !long.isEmpty)
    }

    @Test func sourceURLs() {
        for good in ["https://github.com/a/b", "http://git.example.com:8080/x?y=1#z", "HTTPS://example.com"] {
            #expect(PublishDetails.isHTTPURL(good), "\(good)")
        }
        for bad in [
            "", "github.com/a/b", "javascript:alert(1)", "https://", "https:///x", "https://u:p@h/x", "https://h/<script>", "https://h/\u{0}",
            "https://h/é",
        ] {
            #expect(!PublishDetails.isHTTPURL(bad), "\(bad)")
        }
        #expect(!PublishDetails.isHTTPURL("https://h/" + String(repeating: "a", count: 3000)))
    }
}
