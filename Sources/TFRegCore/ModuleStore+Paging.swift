/// Paged listing and ranked search over one namespace's summaries: what `RegistryService.list` asks
/// each readable namespace for, so a page costs what the page needs, not what the namespace holds.
/// These defaults derive both from `moduleSummaries(in:)` and `modulesWithReadme(matching:in:)`
/// (read the namespace, keep the first / the best `count`): the in-memory store uses both, DynamoDB
/// the search (its listing page is a `Limit` Query on summaries keyed in module order,
/// `DynamoDBMetadataStore+Summaries`). SQLite answers both with one indexed query each
/// (`SQLiteMetadataStore+Summaries`).
extension ModuleStore {
    public func moduleSummaries(in namespace: Namespace, system: String?, first count: Int) async throws(RegistryError) -> [ModuleSummary] {
        guard count > 0 else { return [] }
        var out: [ModuleSummary] = []
        for s in try await moduleSummaries(in: namespace) where system == nil || s.module.system == system {
            out.append(s)
            if out.count == count { break }
        }
        return out
    }

    public func searchModules(
        terms: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit] {
        try await searchByReading(terms: terms, rawText: rawText, in: namespace, system: system, first: count)
    }

    /// The default `searchModules`: reads the namespace's summaries and README matches, ranks every
    /// summary with `ModuleSearch.rank` and keeps the best `count` (a store with an index uses it for
    /// the queries its index cannot answer exactly).
    public func searchByReading(
        terms: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit] {
        guard count > 0 else { return [] }
        let summaries = try await moduleSummaries(in: namespace)
        let readme = terms.isEmpty || summaries.isEmpty ? [] : try await modulesWithReadme(matching: terms, in: namespace)
        var top = ModuleSearch.TopK(capacity: count)
        for s in summaries where system == nil || s.module.system == system {
            let rank = ModuleSearch.rank(s, terms: terms, rawText: rawText, readmeMatch: readme.contains(s.module))
            if rank > 0 { top.insert(ModuleSearch.Hit(rank: rank, summary: s)) }
        }
        return top.hits
    }
}
