import Logging
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegCore

/// Search (`RegistryService.list` with a text): ranked address > description > README, filtered,
/// paged, and deny by default exactly as listing.
@Suite final class ModuleSearchTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }
    let store = InMemoryMetadataStore()
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))
    let logger = Logger(label: "t")

    func publish(_ service: RegistryService, _ address: String, readme: String?, description: String? = nil) async throws {
        let parts = address.split(separator: "/").map(String.init)
        let module = try ModuleAddress(namespace: parts[0], name: parts[1], system: parts[2])
        let path = dir.path + "/\(parts[1])-\(parts[2]).partial"
        try FileSystem.writeExclusive(path, Array(address.utf8), mode: 0o600)
        let documenter = FixedDocumenter(ModuleDocs(root: ModuleDocs.Part(path: "", readme: readme)))
        let s = RegistryService(store: store, storage: service.storage, canonicalizer: CopyAsCanonical(), clock: TestClock(), documenter: documenter)
        _ = try await s.publish(
            StagedArchive(path: path, size: Int64(address.utf8.count), sha256: String(repeating: "e", count: 64)),
            version: try Version("1.0.0"),
            of: module,
            caller: writer,
            details: PublishDetails(description: description),
            logger: logger
        )
    }

    @Test func rankedByAddressThenDescriptionThenReadme() async throws {
        for ns in ["acme", "hidden"] {
            try await store.putGrant(
                Grant(namespace: try Namespace(ns), identity: writer.identity, permissions: Permissions(download: ns == "acme", upload: true)),
                mode: .upsert
            )
        }
        let blobs = MemoryBlobStore(stagingDirectory: dir.path)
        let service = RegistryService(store: store, storage: blobs, canonicalizer: CopyAsCanonical(), clock: TestClock())
        try await publish(service, "acme/network/aws", readme: "Builds a network.\n\nWith a **vpc** inside.")
        try await publish(service, "acme/dns/aws", readme: "Zones.", description: "Private zones for every vpc")
        try await publish(service, "acme/vpc/google", readme: "The VPC for GCP.")
        try await publish(service, "acme/other/aws", readme: "Nothing relevant.")
        try await publish(service, "hidden/vpc/aws", readme: "vpc")

        let page = try await service.list(ModuleQuery(text: "VPC"), caller: writer)
        #expect(page.items.map(\.module.description) == ["acme/vpc/google", "acme/dns/aws", "acme/network/aws"])
        // A word only in a README is found; a namespace without download never is.
        let readmeOnly = try await service.list(ModuleQuery(text: "inside"), caller: writer)
        #expect(readmeOnly.items.map(\.module.description) == ["acme/network/aws"])
        #expect(try await service.list(ModuleQuery(text: "vpc inside"), caller: writer).items.count == 1, "every term")
        #expect(try await service.list(ModuleQuery(text: "vpc", system: "aws"), caller: writer).items.count == 2)
        let paged = try await service.list(ModuleQuery(text: "vpc", offset: 1, limit: 1), caller: writer)
        #expect(paged.items.map(\.module.name) == ["dns"] && paged.nextOffset == 2 && paged.previousOffset == 0)
        await #expect(throws: RegistryError.forbidden("")) {
            try await service.list(ModuleQuery(namespace: try Namespace("hidden"), text: "vpc"), caller: self.writer)
        }
        await #expect(throws: RegistryError.unauthenticated("")) { try await service.list(ModuleQuery(text: "vpc"), caller: nil) }
        // Syntax of any query language is only text.
        for hostile in ["\"", "vpc\" OR \"", "NEAR(vpc other)", "vpc*", "^vpc", "name:vpc", "\u{0}", "(((", String(repeating: "x ", count: 500)] {
            _ = try await service.list(ModuleQuery(text: hostile), caller: writer)
        }
        #expect(ModuleSearch.terms("a\u{0}b \"c\" OR d*") == ["a", "b", "c", "or", "d"])
        #expect(ModuleSearch.terms(String(repeating: "w ", count: 100)).count == 1)
        #expect(ModuleSearch.words(ofReadme: String(repeating: "word ", count: 100_000)) == "word")
    }
}
