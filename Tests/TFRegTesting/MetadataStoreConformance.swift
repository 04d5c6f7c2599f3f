import TFRegCore

/// One behavioural suite every `MetadataStore` must pass: `InMemoryMetadataStore` (TFRegCoreTests),
/// SQLite (TFRegStoreLocalTests) and DynamoDB on moto (IntegrationTests). One section per protocol
/// the store composes, each in its own file: `moduleStore` (`+Modules`), `grantStore` (`+Grants`),
/// `tokenStore` (`+Tokens`), `auditStore` (`+Audit`); `run` runs them all. A `ProviderStore` gets a `+Providers` section.
/// Each check throws `ConformanceFailure` describing the first broken expectation.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

public enum MetadataStoreConformance {
    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }

    static func requireValue<T>(_ value: T?, _ what: String = "value") throws -> T {
        guard let value else { throw ConformanceFailure("expected a \(what)") }
        return value
    }

    static func record(_ m: ModuleAddress, _ v: String, at: Int64 = 1) throws -> ModuleVersionRecord {
        ModuleVersionRecord(
            module: m,
            version: try Version(v),
            location: ArchiveLocation(key: "\(m)/\(v)/x.tar.gz"),
            sha256: String(repeating: "a", count: 64),
            size: 10,
            publishedAt: at,
            publishedBy: "token:t"
        )
    }

    /// Writes a grant the way data from before token ids looks (`token:NAME`, not checked against any
    /// token): older tfreg's items in DynamoDB, rows the SQLite migration left as orphans.
    public typealias LegacyGrantWriter = @Sendable (Grant) async throws -> Void

    /// Runs every section against a fresh, empty store: one per protocol `MetadataStore` composes.
    public static func run(_ store: any MetadataStore, writeLegacyGrant: LegacyGrantWriter) async throws {
        try await moduleStore(store)
        try await grantStore(store)
        try await tokenStore(store, writeLegacyGrant: writeLegacyGrant)
        try await auditStore(store)
        try await providerStore(store)  // issue 20
    }

    static func refused(_ code: RegistryError.Code, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            throw ConformanceFailure("\(what) must fail")
        } catch let e as RegistryError {
            try expect(e.code == code, "\(what) must be .\(code), got \(e)")
        }
    }

}
