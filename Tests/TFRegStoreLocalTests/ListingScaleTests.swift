import TFRegCore
import TFRegTesting
import Testing

@testable import TFRegStoreLocal

/// Issue 19, scale: listing and search pages equal the algorithm before stores paged (the oracle in
/// `MetadataStoreConformance.Oracle`) across namespaces, grants, filters and pages, on SQLite and
/// the in-memory store; SQLite's page reads the same rows at 100 and 10 000 modules.
@Suite final class ListingScaleTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }
    let reader = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/reader"))

    /// Three namespaces ('n1-x/' sorts before 'n1/'), the caller may download from two.
    func populate(_ store: any MetadataStore) async throws {
        for ns in ["n1", "n1-x", "hidden"] {
            try await store.putGrant(
                Grant(namespace: try Namespace(ns), identity: reader.identity, permissions: Permissions(download: ns != "hidden")),
                mode: .upsert
            )
            var n = 0
            for name in MetadataStoreConformance.pagingNames {
                for (j, system) in MetadataStoreConformance.pagingSystems.enumerated() where (n + j + ns.count) % 3 != 2 {
                    let m = try ModuleAddress(namespace: ns, name: name, system: system)
                    var r = ModuleVersionRecord(
                        module: m,
                        version: try Version("1.0.\(j)"),
                        location: ArchiveLocation(key: "\(m)/x.tar.gz"),
                        sha256: String(repeating: "a", count: 64),
                        size: 10,
                        publishedAt: Int64(n)
                    )
                    let d = MetadataStoreConformance.pagingDescriptions
                    r.description = d[(n * 5 + j + ns.count) % d.count]
                    try await store.insertVersion(r)
                    let w = MetadataStoreConformance.pagingReadmes[(n + j) % MetadataStoreConformance.pagingReadmes.count]
                    if !w.isEmpty { try await store.setReadmeWords(ModuleSearch.words(ofReadme: w), of: m) }
                    n += 1
                }
            }
        }
    }

    @Test(arguments: ["sqlite", "memory"])
    func servicePagesEqualTheOracle(_ kind: String) async throws {
        let store: any MetadataStore = kind == "sqlite" ? try SQLiteMetadataStore(path: dir.path + "/pages.db") : InMemoryMetadataStore()
        try await populate(store)
        let service = RegistryService(store: store)
        var compared = 0
        for ns in [nil, try Namespace("n1")] {
            for text in [nil, "net", "a", "zones", "Réseau", "-", "/", "K", "\" OR \"", "aws", "vpc peering"] {
                for system in [nil, "aws"] {
                    for (offset, limit) in [(0, 1), (0, 7), (1, 3), (5, 5), (20, 100), (60, 2), (1000, 15), (0, 0), (-3, -1)] {
                        let q = ModuleQuery(namespace: ns, text: text, system: system, offset: offset, limit: limit)
                        let page = try await service.list(q, caller: reader)
                        let expected = try await MetadataStoreConformance.Oracle.list(store, q, caller: reader)
                        #expect(page.items == expected.items, "\(kind) \(q): \(page.items.map(\.module)) vs \(expected.items.map(\.module))")
                        #expect((page.nextOffset != nil) == expected.more, "\(kind) \(q): next \(String(describing: page.nextOffset))")
                        #expect(page.items.allSatisfy { $0.module.namespace.value != "hidden" })
                        compared += 1
                    }
                }
            }
        }
        #expect(compared == 2 * 11 * 2 * 9)
        let all = try await service.list(ModuleQuery(limit: 100), caller: reader)
        #expect(all.items.count == 39 && all.items.first?.module.namespace.value == "n1-x", "'n1-x/' sorts before 'n1/'")
    }

    /// Writes `count` summary rows into `namespace` in one transaction (as many publishes would).
    func fill(_ path: String, _ namespace: String, _ count: Int) throws {
        let raw = try SQLiteConnection(path: path, readOnly: false)
        try raw.sync { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) in
                for i in 0..<count {
                    try db.query(
                        """
                        INSERT INTO module_summaries (namespace, name, system, latest, latest_published_at, latest_published_by,
                            latest_deprecated, version_count, updated_at, description, downloads)
                        VALUES (?, ?, ?, '1.0.0', 1, NULL, 0, 1, 1, ?, 0)
                        """,
                        [.text(namespace), .text("m\(i)"), .text(i % 2 == 0 ? "aws" : "gcp"), .text(i % 10 == 0 ? "network module" : "other")]
                    )
                }
            }
        }
    }

    /// A page of 15 reads as many rows (SQLite virtual-machine steps) at 10 000 modules as at 100; the
    /// plan is the index `module_summaries_order`, with no sort of the namespace.
    @Test func aListingPageCostsTheSameAt100And10000Modules() async throws {
        let path = dir.path + "/scale.db"
        let store = try SQLiteMetadataStore(path: path)
        try fill(path, "small", 100)
        try fill(path, "large", 10_000)
        let raw = try SQLiteConnection(path: path, readOnly: false)
        for filtered in [false, true] {
            let sql = SQLiteMetadataStore.pageQuery(filtered: filtered)
            func steps(_ ns: String, offset: Int) throws -> (rows: Int, steps: Int) {
                var params: [SQLValue] = [.text(ns), .integer(Int64(offset + 16))]
                if filtered { params.append(.text("aws")) }
                let r = try raw.sync { db throws(SQLiteError) in try db.queryCountingSteps(sql, params) }
                return (r.rows.count, r.steps)
            }
            let small = try steps("small", offset: 0)
            let large = try steps("large", offset: 0)
            #expect(small.rows == 16 && large.rows == 16)
            #expect(large.steps <= small.steps, "filtered \(filtered): \(large.steps) steps at 10 000 vs \(small.steps) at 100")
            // A later page costs what it skips, not what the namespace holds.
            let later = try steps("large", offset: 30)
            #expect(later.steps < small.steps * 4, "offset 30: \(later.steps) steps")
            let plan = try raw.sync { db throws(SQLiteError) in
                try db.query("EXPLAIN QUERY PLAN " + sql, [.text("large"), .integer(16)] + (filtered ? [.text("aws")] : []))
            }.compactMap { $0.last?.string }.joined(separator: "; ")
            #expect(plan.contains("module_summaries_order") && !plan.contains("TEMP B-TREE"), "plan: \(plan)")
        }
        // The page through the store: module order, the first 3 of 10 000.
        let page = try await store.moduleSummaries(in: try Namespace("large"), system: nil, first: 3)
        #expect(page.map(\.module.name) == ["m0", "m1", "m10"])
        // Search: only matches come back to Swift (a top 16 of the 1 000 "network" descriptions).
        let hits = try await store.searchModules(terms: ["network"], rawText: "network", in: try Namespace("large"), system: nil, first: 16)
        #expect(hits.count == 16 && hits.allSatisfy { $0.rank == 2 } && hits.first?.summary.module.name == "m0")
        let (ranked, _) = SQLiteMetadataStore.searchQueries(needles: 1, readme: true, filtered: false)
        let plan = try raw.sync { db throws(SQLiteError) in
            try db.query("EXPLAIN QUERY PLAN " + ranked, [.text("large"), .integer(16), .null, .text("\"network\""), .text("network")])
        }.compactMap { $0.last?.string }.joined(separator: "; ")
        #expect(plan.contains("namespace=?"), "search reads one namespace by its key: \(plan)")
    }
}
