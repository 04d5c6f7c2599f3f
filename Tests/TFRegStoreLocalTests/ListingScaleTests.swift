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

    /// Writes `count` summary rows into `namespace` in one transaction (as many publishes would), with
    /// their search text and README words: "everywhere" in every README, "rare" in those of m5 and
    /// m50; three more modules `vpc-peering-N` (an address match of a few).
    func fill(_ path: String, _ namespace: String, _ count: Int) throws {
        let raw = try SQLiteConnection(path: path, readOnly: false)
        try raw.sync { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) in
                let modules =
                    (0..<count).map { i in ("m\(i)", i % 2 == 0 ? "aws" : "gcp", i % 10 == 0 ? "network module" : "other", i) }
                    + (0..<3).map { k in ("vpc-peering-\(k)", "aws", "other", -1) }
                for (name, system, description, i) in modules {
                    let key: [SQLValue] = [.text(namespace), .text(name), .text(system)]
                    try db.query(
                        """
                        INSERT INTO module_summaries (namespace, name, system, latest, latest_published_at, latest_published_by,
                            latest_deprecated, version_count, updated_at, description, downloads)
                        VALUES (?, ?, ?, '1.0.0', 1, NULL, 0, 1, 1, ?, 0)
                        """,
                        key + [.text(description)]
                    )
                    let module = try! ModuleAddress(namespace: namespace, name: name, system: system)
                    try SQLiteMetadataStore.writeSearchText(db, module, description: description)
                    let id = try SQLiteMetadataStore.searchID(db, key)
                    try db.query(
                        "INSERT INTO module_readmes (rowid, namespace, name, system, words) VALUES (?,?,?,?,?)",
                        [.integer(id)] + key + [.text(i == 5 || i == 50 ? "everywhere rare words" : "everywhere words")]
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
        try await aSearchPageCostsTheSameAt100And10000Modules(store, raw)
        // Search: only matches come back to Swift (a top 16 of the 1 000 "network" descriptions).
        let hits = try await store.searchModules(terms: ["network"], rawText: "network", in: try Namespace("large"), system: nil, first: 16)
        #expect(hits.count == 16 && hits.allSatisfy { $0.rank == 2 } && hits.first?.summary.module.name == "m0")
        let (ranked, _) = SQLiteMetadataStore.searchQueries(needles: 1, readme: true, filtered: false)
        let plan = try raw.sync { db throws(SQLiteError) in
            try db.query("EXPLAIN QUERY PLAN " + ranked, [.text("large"), .integer(16), .null, .text("\"network\""), .text("network")])
        }.compactMap { $0.last?.string }.joined(separator: "; ")
        #expect(plan.contains("namespace=?"), "search reads one namespace by its key: \(plan)")
    }

    /// Issue 19, scale: a search page reads (SQLite virtual-machine steps, over every statement of the
    /// search) no more at 10 000 modules than at 100 for an address match of a few modules, a word in
    /// every README and a rare README word; each page equals the oracle. The scan used for needles
    /// shorter than 3 characters is measured beside it (it grows: the figure is printed).
    func aSearchPageCostsTheSameAt100And10000Modules(_ store: SQLiteMetadataStore, _ raw: SQLiteConnection) async throws {
        func search(_ ns: String, _ text: String, first: Int = 16) async throws -> (hits: [ModuleSearch.Hit], steps: Int) {
            try store.connection.sync { $0.stepCounter = 0 }
            let hits = try await store.searchModules(
                terms: ModuleSearch.terms(text),
                rawText: text,
                in: try Namespace(ns),
                system: nil,
                first: first
            )
            let steps = try store.connection.sync { db in
                defer { db.stepCounter = nil }
                return db.stepCounter ?? -1
            }
            let expected = try await MetadataStoreConformance.Oracle.search(store, try Namespace(ns), text: text, system: nil)
            #expect(hits == Array(expected.prefix(first)), "\(ns) \(text): \(hits.map { "\($0.rank) \($0.summary.module)" })")
            return (hits, steps)
        }
        for (text, first, count) in [("peering", 16, 3), ("everywhere", 16, 16), ("rare", 16, 2), ("vpc peering 1", 5, 1)] {
            let small = try await search("small", text, first: first)
            let large = try await search("large", text, first: first)
            #expect(small.hits.count == count && large.hits.count == count, "\(text): \(small.hits.count), \(large.hits.count) hits")
            // The same work at both sizes, give or take the B-tree depths of a larger table.
            #expect(
                large.steps <= small.steps + small.steps / 5 + 50,
                "\(text) first \(first): \(large.steps) steps at 10 000 vs \(small.steps) at 100"
            )
            #expect(large.steps < 10_000, "\(text) first \(first): \(large.steps) steps")
            // The scan every search was before the index, for the record.
            try store.connection.sync { $0.stepCounter = 0 }
            let terms = ModuleSearch.terms(text)
            _ = try await store.searchByScanning(terms: terms, needles: terms, rawText: text, in: try Namespace("large"), system: nil, first: first)
            let scan = try store.connection.sync { db in
                defer { db.stepCounter = nil }
                return db.stepCounter ?? -1
            }
            #expect(scan > large.steps * 10, "\(text): the scan took \(scan) steps")
            print("search \(text.debugDescription) first \(first): \(small.steps) steps at 100 modules, \(large.steps) at 10 000 (scan: \(scan))")
        }
        // Deeper pages equal the oracle too (the window grows with the page, not the namespace).
        #expect(try await search("large", "everywhere", first: 300).hits.count == 300)
        #expect(try await search("large", "network", first: 40).hits.count == 40)
        // Ranks: the three address matches first, then README-only matches in module order.
        let peering = try await search("large", "peering").hits
        #expect(peering.map(\.rank) == [3, 3, 3] && peering.first?.summary.module.name == "vpc-peering-0")
        let rare = try await search("large", "rare").hits
        #expect(rare.map(\.summary.module.name) == ["m5", "m50"] && rare.allSatisfy { $0.rank == 1 })
        // A 2-character needle scans: its cost grows with the namespace (documented; printed here).
        let short = (try await search("small", "m7"), try await search("large", "m7"))
        print("search \"m7\" (scan): \(short.0.steps) steps at 100 modules, \(short.1.steps) at 10 000")
        #expect(short.1.steps > short.0.steps * 10, "the scan reads the namespace")
    }
}
