import TFRegCore

/// The `ModuleStore` paging section (issue 19, scale): a store's page of summaries and its ranked
/// search equal what the algorithm before them gave (`Oracle`: read every summary of the namespace,
/// rank each with `ModuleSearch.rank`, sort, slice) on a generated namespace whose names, systems,
/// descriptions and README words are chosen to trip orderings ('-' and '_' around '/'), case
/// folding (non-ASCII, the Kelvin sign, CR LF) and FTS5 syntax.
extension MetadataStoreConformance {
    /// The algorithm listing and search used before stores paged: the oracle of this section and of
    /// the service-level tests.
    public enum Oracle {
        public static func page(_ store: any ModuleStore, _ ns: Namespace, system: String?, first: Int) async throws -> [ModuleSummary] {
            Array(
                try await store.moduleSummaries(in: ns).sorted { $0.module < $1.module }.filter { system == nil || $0.module.system == system }
                    .prefix(max(first, 0))
            )
        }

        public static func search(_ store: any ModuleStore, _ ns: Namespace, text: String, system: String?) async throws -> [ModuleSearch.Hit] {
            let terms = ModuleSearch.terms(text)
            let summaries = try await store.moduleSummaries(in: ns).filter { system == nil || $0.module.system == system }
            let readme = terms.isEmpty ? [] : try await store.modulesWithReadme(matching: terms, in: ns)
            var ranked: [ModuleSearch.Hit] = []
            for s in summaries {
                let rank = ModuleSearch.rank(s, terms: terms, rawText: text, readmeMatch: readme.contains(s.module))
                if rank > 0 { ranked.append(ModuleSearch.Hit(rank: rank, summary: s)) }
            }
            return ranked.sorted { $0.rank != $1.rank ? $0.rank > $1.rank : $0.summary.module < $1.summary.module }
        }
    }

    /// Names that sort differently by `name, system` than by `name/system`, several systems, and
    /// descriptions SQL cannot fold as Swift does.
    public static let pagingNames = ["a", "a-b", "a_b", "a0", "ab", "net", "net-core", "net_x", "netx", "Vpc", "vpc-peering", "dns", "z"]
    public static let pagingSystems = ["aws", "gcp", "azurerm"]
    public static let pagingDescriptions = [
        "", "Network core for vpc", "Réseau privé", "ÉCOLE des réseaux", "\u{212A}8s cluster", "line\r\nbreak", "dns zones",
        "a-b / slash", "NEAR(net dns) OR \"x\"", "NET*",
        // Characters canonically equivalent to ASCII ones (Swift's `contains` finds ";;;" and "```").
        "semi\u{37E}\u{37E}\u{37E} grave `\u{1FEF}`",
    ]
    public static let pagingReadmes = ["", "subnets zones network", "ecole réseau", "dns near or", "vpc peering across zones"]

    /// Queries: plain, several terms, address-only and README-only words, FTS5 operators, quotes,
    /// `*`, punctuation only, CR/LF/NUL, non-ASCII, nine terms, 1 KiB of punctuation.
    public static let pagingQueries = [
        "net", "a", "b", "a-b", "a_b", "-", "/", "_", "aws", "network dns", "Réseau", "école", "ecole", "ÉCOLE", "K", "\u{212A}", "k", "line",
        "\r\n", "\n", "\r", "\"", "\" OR \"", "NEAR(net dns)", "net*", "*", "AND", "or not", "zones", "subnets zones", "vpc/aws", "VPC", "zzz",
        "\0", "x\0y", "a b c d e f g h i j", String(repeating: "!?*\"()-", count: 150), " ", "é", "peering across",
        // Short needles beside long ones, words across the address separator, folded non-ASCII.
        "k8s", "8s cluster", "ge/ne", "conf page net", "ne", ";;;", "```", "--", "network", "réseaux", "net core", "privé",
    ]

    static func paging(_ store: any ModuleStore) async throws {
        let ns = try Namespace("conf-page")
        var n = 0
        for name in pagingNames {
            for (j, system) in pagingSystems.enumerated() where (n + j) % 3 != 2 {
                let m = try ModuleAddress(namespace: ns.value, name: name, system: system)
                var r = try record(m, "1.0.\(j)", at: Int64(n))
                r.description = pagingDescriptions[(n * 7 + j) % pagingDescriptions.count]
                try await store.insertVersion(r)
                let words = pagingReadmes[(n * 3 + j) % pagingReadmes.count]
                if !words.isEmpty { try await store.setReadmeWords(ModuleSearch.words(ofReadme: words), of: m) }
                n += 1
            }
        }
        for system in [nil, "aws", "gcp", "none"] {
            for first in [0, 1, 2, 5, 11, 1000] {
                let page = try await store.moduleSummaries(in: ns, system: system, first: first)
                let expected = try await Oracle.page(store, ns, system: system, first: first)
                try expect(page == expected, "page of \(first) (system \(system ?? "any")): \(page.map(\.module)) vs \(expected.map(\.module))")
            }
            // Every query unfiltered, a few per system filter (DynamoDB on moto reads two Queries per
            // search: this section stays within seconds there).
            for text in system == nil ? pagingQueries : ["net", "a", "K", "zones", "-", "é"] {
                let all = try await Oracle.search(store, ns, text: text, system: system)
                for first in [0, 1, 3, 1000] {
                    let hits = try await store.searchModules(
                        terms: ModuleSearch.terms(text),
                        rawText: text,
                        in: ns,
                        system: system,
                        first: first
                    )
                    let expected = Array(all.prefix(first))
                    try expect(
                        hits == expected,
                        "search \(text.debugDescription) first \(first) (system \(system ?? "any")): "
                            + "\(hits.map { "\($0.rank) \($0.summary.module)" }) vs \(expected.map { "\($0.rank) \($0.summary.module)" })"
                    )
                }
            }
        }
        let everything = try await Oracle.search(store, ns, text: "1", system: nil)
        try expect(everything.isEmpty, "a digit only in versions matches nothing")
        try expect(try await Oracle.search(store, ns, text: "net", system: nil).count >= 4, "the generated namespace has matches")
    }
}

extension MetadataStoreConformance.Oracle {
    /// `RegistryService.list` as it was before stores paged: every readable namespace's summaries read,
    /// filtered, sorted (search: ranked) and sliced. Returns the page's modules and whether there is a
    /// next page.
    public static func list(_ store: any MetadataStore, _ query: ModuleQuery, caller: Principal) async throws -> (items: [ModuleSummary], more: Bool)
    {
        let limit = min(max(query.limit, 1), ModuleQuery.maximumLimit)
        let offset = max(query.offset, 0)
        var namespaces: [Namespace] = []
        if let ns = query.namespace {
            namespaces = [ns]
        } else {
            for ns in try await store.summaryNamespaces().sorted(by: { $0.value + "/" < $1.value + "/" })
            where try await store.grant(for: caller.identity, in: ns)?.permissions.download == true {
                namespaces.append(ns)
            }
        }
        var all: [ModuleSummary] = []
        if let text = query.text {
            var hits: [ModuleSearch.Hit] = []
            for ns in namespaces { hits += try await search(store, ns, text: text, system: query.system) }
            all = hits.sorted(by: ModuleSearch.Hit.precedes).map(\.summary)
        } else {
            for ns in namespaces { all += try await page(store, ns, system: query.system, first: .max) }
        }
        return (Array(all.dropFirst(offset).prefix(limit)), all.count > offset + limit)
    }
}
