import Foundation
import Logging
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegTesting
import Testing

extension MotoBackedTests {
    /// Listing and search read module summaries: the DynamoDB calls per request do not grow with the
    /// number of versions, and none is a Scan.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct ListingCallCountTests {
        static let reads = ["GetItem", "Query", "Scan", "BatchGetItem"]

        /// The calls one request makes, by operation.
        static func calls(_ counter: CountingHTTPClient, _ body: () async throws -> Void) async throws -> [String: Int] {
            let before = counter.lock.withLock { counter.operations }
            try await body()
            let after = counter.lock.withLock { counter.operations }
            return after.reduce(into: [:]) { d, e in if e.value != before[e.key] { d[e.key] = e.value - (before[e.key] ?? 0) } }
        }

        @Test func listingCallsDoNotGrowWithVersions() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let counter = CountingHTTPClient()
            let client = AWSClient(
                http: counter,
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
                region: "us-east-1",
                environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05),
                timeout: 60
            )
            let dynamo = DynamoDBClient(client: client)
            try await dynamo.createTable("listing")
            let store = DynamoDBMetadataStore(dynamo: dynamo, table: "listing")
            let storage = try S3ArchiveStorage(s3: S3Client(client: client), bucket: "unused", prefix: "", stagingDirectory: NSTemporaryDirectory())
            let service = RegistryService(store: store, storage: storage, canonicalizer: TarGzCanonicalizer())
            let reader = try await store.createStaticToken(try Identity.token(named: "reader"), hash: String(repeating: "d", count: 64), createdAt: 1)
            let caller = Principal(identity: reader)
            // Three namespaces; the caller may download in two.
            for ns in ["alpha", "bravo"] {
                try await store.putGrant(
                    Grant(namespace: try Namespace(ns), identity: reader, permissions: Permissions(download: true)),
                    mode: .upsert
                )
            }
            let modules = try ["alpha", "bravo", "hidden"].flatMap { ns in
                try ["net", "dns"].map { try ModuleAddress(namespace: ns, name: $0, system: "aws") }
            }
            func record(_ m: ModuleAddress, _ v: String) throws -> ModuleVersionRecord {
                ModuleVersionRecord(
                    module: m,
                    version: try Version(v),
                    location: ArchiveLocation(key: "k.tar.gz"),
                    sha256: String(repeating: "a", count: 64),
                    size: 1,
                    publishedAt: 1
                )
            }
            // 12 versions through the store (summaries kept in the same transactions) ...
            for m in modules { for i in 0..<2 { try await store.insertVersion(try record(m, "1.\(i).0")) } }
            // A module the replaced tool wrote (no summary), listed once import-legacy refreshed it.
            let old = try ModuleAddress(namespace: "alpha", name: "old", system: "aws")
            func measure() async throws -> [[String: Int]] {
                var out: [[String: Int]] = []
                for query in [
                    ModuleQuery(), ModuleQuery(namespace: try Namespace("alpha")), ModuleQuery(text: "net"), ModuleQuery(offset: 2, limit: 1),
                ] {
                    var page: Page<ModuleSummary>?
                    out.append(try await Self.calls(counter) { page = try await service.list(query, caller: caller) })
                    #expect(page?.items.allSatisfy { $0.module.namespace.value != "hidden" } == true, "a namespace without a grant is not listed")
                }
                return out
            }
            let small = try await measure()
            let all = try await service.list(ModuleQuery(), caller: caller)
            #expect(all.items.map(\.module.description) == ["alpha/dns/aws", "alpha/net/aws", "bravo/dns/aws", "bravo/net/aws"])
            #expect(all.items.allSatisfy { $0.latest.description == "1.1.0" && $0.versionCount == 2 })
            // ... then about 1 000 more, written as the replaced tool writes them (no summaries), and
            // the summaries refreshed as `tfreg import-legacy` does.
            for m in modules + [old] {
                for i in 2..<170 {
                    // The replaced tool's version item (seed layout).
                    let item: DynamoDBItem = [
                        "pk": .s(m.namespace.value), "sk": .s("Module~\(m.namespace)~\(m.name)~\(m.system)~1.\(i).0"),
                        "namespace": .s(m.namespace.value), "name": .s(m.name), "system": .s(m.system), "version": .s("1.\(i).0"),
                        "bucket": .s("theirs"), "key": .s("m/1.\(i).0.zip"),
                    ]
                    try await dynamo.putItem(table: "listing", item: item)
                }
                try await store.refreshSummary(of: m)
            }
            let large = try await measure()
            let after = try await service.list(ModuleQuery(), caller: caller)
            #expect(after.items.map(\.module.description) == ["alpha/dns/aws", "alpha/net/aws", "alpha/old/aws", "bravo/dns/aws", "bravo/net/aws"])
            #expect(after.items.allSatisfy { $0.latest.description == "1.169.0" && $0.versionCount == ($0.module == old ? 168 : 170) })
            for (i, (s, l)) in zip(small, large).enumerated() {
                #expect(s == l, "the same calls at 12 and 1 020 versions: \(s) vs \(l)")
                #expect(l["Scan"] == nil, "no Scan on the request path: \(l)")
                let reads = Self.reads.reduce(0) { $0 + (l[$1] ?? 0) }
                // Directory + (grant + summaries) per namespace at most, summaries being a page Query
                // and the `Limit 1` Query that finds no summary left under the old key; a search
                // (query 2) reads the summaries (one Query) and the README words of each namespace
                // the caller may read (one Query each).
                #expect(reads <= 1 + 3 + 2 * 2, "bounded reads per page (query \(i)): \(l)")
            }
        }
    }
}
