import TFRegAWS
import TFRegCore

/// Module summaries on DynamoDB (see the item table in `DynamoDBMetadataStore`):
///
/// - `pk = NAMESPACE`, `sk = ModuleSummary~NAME~SYSTEM`: namespace, name, system, latest,
///   latest_published_at, latest_published_by, latest_deprecated, version_count, updated_at,
///   description, downloads, source (the latest version's repository URL, when it has one), revision. Listing a namespace is one Query on this prefix.
/// - `pk = ModuleNamespaces~`, `sk = NAMESPACE`: the directory of namespaces that hold summaries, for
///   the all-namespaces listing (one Query; `~` is outside the namespace grammar, so no namespace's
///   partition can be this one). Written with a module's first summary, never removed.
///
/// A summary is computed from the module's versions (`ModuleSummary.of`) and written in the same
/// TransactWriteItems as the version change, guarded by its `revision`: a writer reads the revision
/// first, then the versions, and the write succeeds only if no one changed the summary meanwhile
/// (else it retries), so concurrent publishes of one module cannot leave a summary that misses one.
///
/// Tables written before summaries (by an older tfreg or by the replaced tool) have none: such a
/// module is listed from its next publish, delete or deprecation, or once `tfreg import-legacy` has
/// run (it refreshes every module's summary). The request path never scans to find them.
extension DynamoDBMetadataStore {
    static let summaryPrefix = "ModuleSummary~"
    static let namespaceDirectory = "ModuleNamespaces~"
    /// Writers that lose the revision race this many times give up with `.unavailable`.
    static let summaryAttempts = 8

    static func summarySK(_ m: ModuleAddress) -> String { "\(summaryPrefix)\(m.name)~\(m.system)" }

    /// What a writer read before computing a module's new summary.
    struct SummaryBase {
        var module: ModuleAddress
        /// nil: no summary item exists.
        var revision: Int64?
        var description: String
        var downloads: Int64
        /// The summary as stored (nil: none, or unreadable).
        var current: ModuleSummary?
        /// The module's versions, read after the revision; nil when the writer did not need them.
        var records: [ModuleVersionRecord]?

        /// The summary of `records` (the module's live versions after a change), keeping what only
        /// the summary holds (description, downloads).
        func summary(of records: [ModuleVersionRecord]) -> ModuleSummary? {
            ModuleSummary.of(records, description: description, downloads: downloads)
        }
    }

    static func summary(_ item: DynamoDBItem) -> ModuleSummary? {
        guard let ns = item["namespace"]?.string, let name = item["name"]?.string, let system = item["system"]?.string,
            let module = try? ModuleAddress(namespace: ns, name: name, system: system),
            let latest = item["latest"]?.string.flatMap({ try? Version($0) }), let at = item["latest_published_at"]?.int,
            let count = item["version_count"]?.int, let updated = item["updated_at"]?.int
        else { return nil }
        return ModuleSummary(
            module: module,
            latest: latest,
            latestPublishedAt: at,
            latestPublishedBy: item["latest_published_by"]?.string,
            latestDeprecated: item["latest_deprecated"]?.bool ?? false,
            versionCount: Int(clamping: count),
            updatedAt: updated,
            description: item["description"]?.string ?? "",
            downloads: item["downloads"]?.int ?? 0,
            source: item["source"]?.string
        )
    }

    /// Reads the summary's revision, then (unless `readingVersions` is false and a readable summary
    /// exists) the module's versions — in this order: see the type's comment. A publish adds to the
    /// summary it read (`ModuleSummary.adding`), so its cost does not grow with the module's versions.
    func summaryBase(_ module: ModuleAddress, readingVersions: Bool = true) async throws(RegistryError) -> SummaryBase {
        let item = try await wrapAWS { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(module.namespace.value), "sk": .s(Self.summarySK(module))])
        }
        let current = item.flatMap(Self.summary).flatMap { $0.module == module ? $0 : nil }
        return SummaryBase(
            module: module,
            revision: item.map { $0["revision"]?.int ?? 0 },
            description: item?["description"]?.string ?? "",
            downloads: item?["downloads"]?.int ?? 0,
            current: current,
            records: readingVersions || current == nil ? try await versions(of: module) : nil
        )
    }

    /// The transaction items that make the stored summary `next` (nil: the module has no live version
    /// left), on condition that it is still at `base.revision`.
    func summaryWrites(_ base: SummaryBase, summary next: ModuleSummary?) -> [DynamoDBClient.TransactItem] {
        let m = base.module
        let key: DynamoDBItem = ["pk": .s(m.namespace.value), "sk": .s(Self.summarySK(m))]
        let condition =
            base.revision.map { DynamoDBClient.Expression("revision = :rev", values: [":rev": .n(String($0))]) }
            ?? DynamoDBClient.Expression("attribute_not_exists(pk)")
        guard let s = next else {
            return base.revision == nil ? [] : [.delete(table: table, key: key, condition: condition)]
        }
        var item = key
        item["namespace"] = .s(m.namespace.value)
        item["name"] = .s(m.name)
        item["system"] = .s(m.system)
        item["latest"] = .s(s.latest.description)
        item["latest_published_at"] = .n(String(s.latestPublishedAt))
        if let by = s.latestPublishedBy { item["latest_published_by"] = .s(by) }
        item["latest_deprecated"] = .bool(s.latestDeprecated)
        item["version_count"] = .n(String(s.versionCount))
        item["updated_at"] = .n(String(s.updatedAt))
        item["description"] = .s(s.description)
        item["downloads"] = .n(String(s.downloads))
        if let x = s.source { item["source"] = .s(x) }
        item["revision"] = .n(String((base.revision ?? 0) &+ 1))
        // The namespace's directory entry is written with the module's first summary (an entry is
        // never removed, so later writes need not repeat it: one write unit less per publish).
        let directory: [DynamoDBClient.TransactItem] =
            base.revision == nil ? [.put(table: table, item: ["pk": .s(Self.namespaceDirectory), "sk": .s(m.namespace.value)], condition: nil)] : []
        return [.put(table: table, item: item, condition: condition)] + directory
    }

    public func moduleSummary(of module: ModuleAddress) async throws(RegistryError) -> ModuleSummary? {
        let item = try await wrapAWS { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(module.namespace.value), "sk": .s(Self.summarySK(module))])
        }
        return item.flatMap(Self.summary).flatMap { $0.module == module ? $0 : nil }
    }

    /// `UpdateItem ADD downloads :n, revision :one` on the summary item, only if it exists (no item is
    /// created for a module without a summary: the count is dropped, as that module is not listed).
    public func addDownloads(_ count: Int64, to module: ModuleAddress) async throws(RegistryError) {
        do {
            _ = try await dynamo.updateItem(
                table: table,
                key: ["pk": .s(module.namespace.value), "sk": .s(Self.summarySK(module))],
                update: .init("ADD downloads :n, revision :one", values: [":n": .n(String(count)), ":one": .n("1")]),
                condition: .init("attribute_exists(pk)")
            )
        } catch  where error.kind == .conditionalCheckFailed {
            return
        } catch {
            throw map(error)
        }
    }

    public func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary] {
        try await wrapAWS { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(namespace.value), ":prefix": .s(Self.summaryPrefix)]
                )
            )
        }.compactMap(Self.summary).filter { $0.module.namespace == namespace }.sorted { $0.module < $1.module }
    }

    public func summaryNamespaces() async throws(RegistryError) -> [Namespace] {
        try await wrapAWS { () async throws(AWSError) in
            try await dynamo.query(table: table, keyCondition: .init("pk = :pk", values: [":pk": .s(Self.namespaceDirectory)]))
        }.compactMap { $0["sk"]?.string.flatMap { try? Namespace($0) } }.sorted()
    }

    public func refreshSummary(of module: ModuleAddress) async throws(RegistryError) {
        for _ in 0..<Self.summaryAttempts {
            let base = try await summaryBase(module)
            let writes = summaryWrites(base, summary: base.summary(of: base.records ?? []))
            guard !writes.isEmpty else { return }
            do {
                try await dynamo.transactWrite(writes)
                return
            } catch {
                if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" { continue }
                throw map(error)
            }
        }
        throw Self.summaryContention(module)
    }

    static func summaryContention(_ module: ModuleAddress) -> RegistryError {
        .unavailable("the metadata table", detail: "the summary of \(module) kept changing during \(summaryAttempts) attempts")
    }

    func wrapAWS<T>(_ body: () async throws(AWSError) -> T) async throws(RegistryError) -> T {
        do { return try await body() } catch { throw map(error) }
    }
}

extension DynamoDBMetadataStore {
    /// Deprecation and archive replacement write the version item alone (one PutItem) and then bring
    /// the summary up to date. The change itself has succeeded by then: a refresh that fails is not
    /// reported as its failure; it leaves the summary's `latest_deprecated` stale until the module's
    /// next write or `tfreg import-legacy`.
    func refreshSummaryAfterChange(of module: ModuleAddress) async {
        _ = try? await refreshSummary(of: module)
    }
}

/// README words for search: `pk = NAMESPACE`, `sk = ModuleReadme~NAME~SYSTEM`, `words` (distinct
/// lowercased words, at most `ModuleSearch.maximumWordBytes`: an item stays far below DynamoDB's
/// 400 KB). A search reads them with one Query of the namespace's partition on this prefix (never a
/// Scan) and matches in memory, beside the summaries' Query; its cost grows with the namespace's
/// modules. Kept apart from the summary so listings never read them.
///
/// Paged listing and ranked search (`moduleSummaries(in:system:first:)`, `searchModules`) use the
/// defaults of `ModuleStore+Paging`: one Query of the namespace's summaries (plus one of its README
/// words for a search), then the first / best `count` kept (a top-K: the answer is bounded by the
/// page, the read is not). A page cannot stop early on the key here: the sort key
/// `ModuleSummary~NAME~SYSTEM` orders `a_b` and `ab` before `a` (`~` sorts after every name
/// character) where the module order (`ns/a/…` < `ns/a_b/…`) does not, so the first items by key
/// are not the first modules. Reading a page with `Limit` needs summaries keyed in module order
/// (`NAME/SYSTEM`), a data migration left for later.
extension DynamoDBMetadataStore {
    static let readmePrefix = "ModuleReadme~"

    public func setReadmeWords(_ words: String, of module: ModuleAddress) async throws(RegistryError) {
        try await wrapAWS { () async throws(AWSError) in
            try await dynamo.putItem(
                table: table,
                item: [
                    "pk": .s(module.namespace.value), "sk": .s("\(Self.readmePrefix)\(module.name)~\(module.system)"),
                    "name": .s(module.name), "system": .s(module.system), "words": .s(words),
                ],
                condition: nil
            )
        }
    }

    public func modulesWithReadme(matching terms: [String], in namespace: Namespace) async throws(RegistryError) -> Set<ModuleAddress> {
        let items = try await wrapAWS { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init("pk = :pk AND begins_with(sk, :prefix)", values: [":pk": .s(namespace.value), ":prefix": .s(Self.readmePrefix)])
            )
        }
        var out: Set<ModuleAddress> = []
        for item in items {
            guard let name = item["name"]?.string, let system = item["system"]?.string, let words = item["words"]?.string,
                let module = try? ModuleAddress(namespace: namespace.value, name: name, system: system)
            else { continue }
            let set = Set(words.split(separator: " "))
            if terms.allSatisfy({ set.contains(Substring($0)) }) { out.insert(module) }
        }
        return out
    }
}
