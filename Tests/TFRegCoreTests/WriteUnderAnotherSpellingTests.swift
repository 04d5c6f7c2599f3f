import Logging
import TFRegCore
import TFRegTesting
import Testing

/// Issue 19: `tfreg deprecate`/`delete` (and their API routes) of a module given in another letter
/// case than it was published under act on the stored module, as reads do; a caller refused on the
/// namespace gets its 403 before any spelling lookup.
@Suite struct WriteUnderAnotherSpellingTests {
    let logger = Logger(label: "t")
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))
    let reader = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/reader"))
    let stored = try! ModuleAddress(namespace: "acme", name: "Vpc", system: "aws")

    func setUp() async throws -> (InMemoryMetadataStore, RegistryService) {
        let store = InMemoryMetadataStore()
        for (who, upload) in [(writer, true), (reader, false)] {
            try await store.putGrant(
                Grant(namespace: try Namespace("acme"), identity: who.identity, permissions: Permissions(download: true, upload: upload)),
                mode: .upsert
            )
        }
        for v in ["1.0.0", "1.1.0"] {
            try await store.insertVersion(
                ModuleVersionRecord(
                    module: stored,
                    version: try Version(v),
                    location: ArchiveLocation(key: "\(stored)/\(v).tar.gz"),
                    sha256: String(repeating: "a", count: 64),
                    size: 1,
                    publishedAt: 1
                )
            )
        }
        return (store, RegistryService(store: store))
    }

    func code(_ body: () async throws(RegistryError) -> Void) async -> RegistryError.Code? {
        do {
            try await body()
            return nil
        } catch { return error.code }
    }

    @Test func deprecateAndDeleteActOnTheStoredSpelling() async throws {
        let (store, service) = try await setUp()
        let lower = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let marked = try await service.deprecate(try Version("1.0.0"), of: lower, reason: "use net", replacement: nil, caller: writer, logger: logger)
        #expect(marked.module == stored && marked.deprecation?.reason == "use net")
        #expect(try await store.version(try Version("1.0.0"), of: stored)?.deprecation?.reason == "use net")
        let cleared = try await service.deprecate(try Version("1.0.0"), of: lower, reason: nil, replacement: nil, caller: writer, logger: logger)
        #expect(cleared.module == stored && cleared.deprecation == nil)
        try await service.deleteVersion(
            try Version("1.1.0"),
            of: try ModuleAddress(namespace: "acme", name: "VPC", system: "aws"),
            caller: writer,
            logger: logger
        )
        #expect(try await store.versions(of: stored).map(\.version.description) == ["1.0.0"])
        #expect(await store.auditLog.last?.target == "acme/Vpc/aws@1.1.0", "the audit names the stored module")
        // Still 404: an unknown version under another spelling, an unknown module.
        #expect(
            await code { () async throws(RegistryError) in
                try await service.deleteVersion(try! Version("9.0.0"), of: lower, caller: writer, logger: logger)
            } == .notFound
        )
        let other = try ModuleAddress(namespace: "acme", name: "vpcs", system: "aws")
        #expect(
            await code { () async throws(RegistryError) in
                _ = try await service.deprecate(try! Version("1.0.0"), of: other, reason: "x", replacement: nil, caller: writer, logger: logger)
            } == .notFound
        )
    }

    @Test func refusedBeforeAnySpellingLookup() async throws {
        let (store, service) = try await setUp()
        let lower = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let before = await store.summaryNamespaceReads
        #expect(
            await code { () async throws(RegistryError) in
                try await service.deleteVersion(try! Version("1.0.0"), of: lower, caller: reader, logger: logger)
            } == .forbidden
        )
        #expect(
            await code { () async throws(RegistryError) in
                _ = try await service.deprecate(try! Version("1.0.0"), of: lower, reason: "x", replacement: nil, caller: reader, logger: logger)
            } == .forbidden
        )
        #expect(
            await code { () async throws(RegistryError) in
                try await service.deleteVersion(try! Version("1.0.0"), of: lower, caller: nil, logger: logger)
            } == .unauthenticated
        )
        #expect(await store.summaryNamespaceReads == before, "no spelling lookup for a refused caller")
        #expect(try await store.versions(of: stored).count == 2)
        #expect(try await store.version(try Version("1.0.0"), of: stored)?.deprecation == nil)
    }
}
