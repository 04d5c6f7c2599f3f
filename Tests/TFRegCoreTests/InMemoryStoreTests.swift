import TFRegCore
import TFRegTesting
import Testing

@Suite struct InMemoryStoreTests {
    /// The test double keeps the contract the real stores keep (token binding included).
    @Test func conformance() async throws {
        let store = InMemoryMetadataStore()
        try await MetadataStoreConformance.run(store) { g in await store.insertLegacyGrant(g) }
    }

    /// A new second spelling of a module or namespace is refused by the insert itself.
    @Test func refusesSecondSpelling() async throws {
        try await MetadataStoreConformance.refusesSecondSpelling(InMemoryMetadataStore())
    }
}
