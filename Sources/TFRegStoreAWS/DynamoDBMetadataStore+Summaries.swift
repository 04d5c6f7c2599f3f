import TFRegAWS
import TFRegCore

/// Module summaries on DynamoDB (see the item table in `DynamoDBMetadataStore`):
///
/// - `pk = NAMESPACE`, `sk = ModuleSummary/NAME/SYSTEM`: namespace, name, system, latest,
///   latest_published_at, latest_published_by, latest_deprecated, version_count, updated_at,
///   description, downloads, source (the latest version's repository URL, when it has one), revision.
///   The key after the prefix is the module address after `NAMESPACE/`, so within a partition key
///   order (UTF-8 bytes) is module order (`ModuleAddress <`, the address compared as a string; names
///   are ASCII): a listing page is a Query with `Limit` that stops once it has the page.
/// - `pk = ModuleNamespaces~`, `sk = NAMESPACE`: the directory of namespaces that hold summaries, for
///   the all-namespaces listing (one Query; `~` is outside the namespace grammar, so no namespace's
///   partition can be this one). Written with a module's first summary, never removed.
///
/// A summary is computed from the module's versions (`ModuleSummary.of`) and written in the same
/// TransactWriteItems as the version change, guarded by its `revision`: a writer reads the revision
/// first, then the versions, and the write succeeds only if no one changed the summary meanwhile
/// (else it retries), so concurrent publishes of one module cannot leave a summary that misses one.
///
/// **Summaries under the old key.** tfreg before this layout keyed summaries
/// `ModuleSummary~NAME~SYSTEM`, whose order is not module order (`~` sorts after every name
/// character, so `a_b`, `ab`, `a0` came before `a`). They are moved, never rewritten in place:
/// - a writer that finds no summary under the new key reads the old one and writes the new item and
///   deletes the old one in the same transaction, each under its own revision condition (so the
///   guard keeps its meaning across the move); a module moves at its next publish, delete or
///   deprecation, or when `refreshSummary` runs (`tfreg import-legacy` does every module);
/// - readers of a namespace check with one `Limit 1` Query whether any old-key summary is left; if
///   so they read both prefixes in one Query (`begins_with(sk, "ModuleSummary")`: both, nothing
///   else) and merge, preferring the new item for a module that has both; if not, the page is the
///   `Limit` Query above. A point read (`moduleSummary(of:)`) and a download count fall back to the
///   old key when the new one is missing.
/// - an older binary still serving the table writes the old key again for a module it changes (it
///   sees no summary there): readers then list the module once, from its new item (stale by that
///   change until the module's next delete or deprecation by this tfreg, or `import-legacy`: a
///   publish reads the new key only, so as not to pay a read per publish for the move); a delete and
///   `refreshSummary` read both keys, recompute the summary from the versions, add the old item's
///   downloads to the new one and delete the old item (both items when no version is left). An older
///   binary that deletes a module's last version after the move touches only the old key: the new
///   item lists the module until `import-legacy`, which refreshes every module that has a version or
///   a summary. Hence: run `tfreg import-legacy` once after the last older binary is stopped (README,
///   "Upgrading").
///
/// Tables written before summaries (by an older tfreg or by the replaced tool) have none: such a
/// module is listed from its next publish, delete or deprecation, or once `tfreg import-legacy` has
/// run (it refreshes every module's summary). The request path never scans to find them.
extension DynamoDBMetadataStore {
    static let summaryPrefix = "ModuleSummary/"
    /// The key of summaries written by tfreg before summaries were keyed in module order.
    static let legacySummaryPrefix = "ModuleSummary~"
    /// What both prefixes begin with (and no other item of a namespace's partition).
    static let anySummaryPrefix = "ModuleSummary"
    static let namespaceDirectory = "ModuleNamespaces~"
    /// Writers that lose the revision race this many times give up with `.unavailable`.
    static let summaryAttempts = 8
    /// Items a filtered page Query evaluates per call at least (`Limit` counts items read before the
    /// filter: a page of one system reads this many per call rather than one at a time).
    static let filteredPageLimit = 50
    /// `Limit` of one page Query at most: `count` comes from a client's offset (the API allows 10⁶),
    /// and DynamoDB ends a page at 1 MB whatever the limit.
    static let maximumPageLimit = 1_000

    /// The sort key of a module's summary (and of the old layout's, below), for tests that write items.
    public static func summarySK(_ m: ModuleAddress) -> String { "\(summaryPrefix)\(m.name)/\(m.system)" }
    public static func legacySummarySK(_ m: ModuleAddress) -> String { "\(legacySummaryPrefix)\(m.name)~\(m.system)" }

    /// What a writer read before computing a module's new summary.
    struct SummaryBase {
        var module: ModuleAddress
        /// The revision of the summary under the new key; nil: no such item.
        var revision: Int64?
        /// The revision of the summary under the old key (`legacySummarySK`); nil: no such item (or it
        /// was not read: a writer reads it only when the new key has none, `refreshSummary` always).
        var legacyRevision: Int64?
        var description: String
        var downloads: Int64
        /// The summary as stored (nil: none, unreadable, or one under each key: then `records` is read).
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
    /// The old-key summary is read when the new key has none, or always with `bothKeys`.
    func summaryBase(
        _ module: ModuleAddress,
        readingVersions: Bool = true,
        bothKeys: Bool = false
    ) async throws(RegistryError) -> SummaryBase {
        let ns = module.namespace.value
        let item = try await wrapAWS { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(ns), "sk": .s(Self.summarySK(module))])
        }
        let legacy =
            item == nil || bothKeys
            ? try await wrapAWS { () async throws(AWSError) in
                try await dynamo.getItem(table: table, key: ["pk": .s(ns), "sk": .s(Self.legacySummarySK(module))])
            } : nil
        // One under each key: an older binary wrote the old one after the move; neither is trusted.
        let both = item != nil && legacy != nil
        let stored = item ?? legacy
        let current = both ? nil : stored.flatMap(Self.summary).flatMap { $0.module == module ? $0 : nil }
        return SummaryBase(
            module: module,
            revision: item.map { $0["revision"]?.int ?? 0 },
            legacyRevision: legacy.map { $0["revision"]?.int ?? 0 },
            description: stored?["description"]?.string ?? "",
            // Downloads counted under either key (an older binary counts under the old one).
            downloads: (item?["downloads"]?.int ?? 0) &+ (legacy?["downloads"]?.int ?? 0),
            current: current,
            records: readingVersions || current == nil ? try await versions(of: module) : nil
        )
    }

    static func revisionCondition(_ revision: Int64?) -> DynamoDBClient.Expression {
        revision.map { DynamoDBClient.Expression("revision = :rev", values: [":rev": .n(String($0))]) }
            ?? DynamoDBClient.Expression("attribute_not_exists(pk)")
    }

    /// The transaction items that make the stored summary `next` (nil: the module has no live version
    /// left), on condition that it is still at `base.revision`; an old-key summary the writer read is
    /// deleted in the same transaction, on condition that it is still at `base.legacyRevision`.
    func summaryWrites(_ base: SummaryBase, summary next: ModuleSummary?) -> [DynamoDBClient.TransactItem] {
        let m = base.module
        let key: DynamoDBItem = ["pk": .s(m.namespace.value), "sk": .s(Self.summarySK(m))]
        let condition = Self.revisionCondition(base.revision)
        let legacy: [DynamoDBClient.TransactItem] =
            base.legacyRevision.map {
                [
                    .delete(
                        table: table,
                        key: ["pk": .s(m.namespace.value), "sk": .s(Self.legacySummarySK(m))],
                        condition: Self.revisionCondition($0)
                    )
                ]
            } ?? []
        guard let s = next else {
            return (base.revision == nil ? [] : [.delete(table: table, key: key, condition: condition)]) + legacy
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
        // The namespace's directory entry is written with the module's first summary under this key
        // (an entry is never removed, so later writes need not repeat it: one write unit less per publish).
        let directory: [DynamoDBClient.TransactItem] =
            base.revision == nil ? [.put(table: table, item: ["pk": .s(Self.namespaceDirectory), "sk": .s(m.namespace.value)], condition: nil)] : []
        return [.put(table: table, item: item, condition: condition)] + legacy + directory
    }

    /// The new key's summary, else the old key's (a module not moved yet).
    public func moduleSummary(of module: ModuleAddress) async throws(RegistryError) -> ModuleSummary? {
        for sk in [Self.summarySK(module), Self.legacySummarySK(module)] {
            let item = try await wrapAWS { () async throws(AWSError) in
                try await dynamo.getItem(table: table, key: ["pk": .s(module.namespace.value), "sk": .s(sk)])
            }
            if let item { return Self.summary(item).flatMap { $0.module == module ? $0 : nil } }
        }
        return nil
    }

    /// `UpdateItem ADD downloads :n, revision :one` on the summary item, only if it exists (no item is
    /// created for a module without a summary: the count is dropped, as that module is not listed).
    /// A module whose summary is still under the old key counts there (moved with it later). The new
    /// key is tried again after the old one misses: the module may have moved between the first two
    /// updates (the count is dropped only if the module has no summary at all).
    public func addDownloads(_ count: Int64, to module: ModuleAddress) async throws(RegistryError) {
        for sk in [Self.summarySK(module), Self.legacySummarySK(module), Self.summarySK(module)] {
            do {
                _ = try await dynamo.updateItem(
                    table: table,
                    key: ["pk": .s(module.namespace.value), "sk": .s(sk)],
                    update: .init("ADD downloads :n, revision :one", values: [":n": .n(String(count)), ":one": .n("1")]),
                    condition: .init("attribute_exists(pk)")
                )
                return
            } catch  where error.kind == .conditionalCheckFailed {
                continue
            } catch {
                throw map(error)
            }
        }
    }

    /// Every summary of the namespace, under either key (one Query on their common prefix), one per
    /// module: the new key's where a module has both.
    public func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary] {
        let items = try await wrapAWS { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(namespace.value), ":prefix": .s(Self.anySummaryPrefix)]
                )
            )
        }
        var byModule: [ModuleAddress: ModuleSummary] = [:]
        // New keys sort before old ones ('/' < '~'): the first item of a module is kept.
        for item in items {
            guard let s = Self.summary(item), s.module.namespace == namespace, byModule[s.module] == nil else { continue }
            byModule[s.module] = s
        }
        return byModule.values.sorted { $0.module < $1.module }
    }

    /// Whether any summary of the namespace is still under the old key (one Query, `Limit 1`).
    func hasLegacySummaries(in namespace: Namespace) async throws(RegistryError) -> Bool {
        try await wrapAWS { () async throws(AWSError) in
            try await dynamo.queryPage(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(namespace.value), ":prefix": .s(Self.legacySummaryPrefix)]
                ),
                limit: 1,
                from: nil
            )
        }.items.isEmpty == false
    }

    /// A listing page: a Query on the new prefix in key (= module) order with `Limit`, continued
    /// from `LastEvaluatedKey` only until `count` summaries are kept, so items read grow with `count`
    /// (not with the namespace). A system filter is a `FilterExpression`: `Limit` counts items read
    /// before it, so a page of a rare system reads on (at least `filteredPageLimit` per call) until it
    /// has `count` or the namespace ends. While the namespace still has old-key summaries (see the
    /// type's comment) the page comes from reading both prefixes whole.
    public func moduleSummaries(in namespace: Namespace, system: String?, first count: Int) async throws(RegistryError) -> [ModuleSummary] {
        guard count > 0 else { return [] }
        if try await hasLegacySummaries(in: namespace) {
            return Array(try await moduleSummaries(in: namespace).lazy.filter { system == nil || $0.module.system == system }.prefix(count))
        }
        let filter = system.map { DynamoDBClient.Expression("#system = :system", names: ["#system": "system"], values: [":system": .s($0)]) }
        var out: [ModuleSummary] = []
        var start: DynamoDBItem?
        repeat {
            let need = count - out.count
            let page = try await wrapAWS { () async throws(AWSError) in
                try await dynamo.queryPage(
                    table: table,
                    keyCondition: .init(
                        "pk = :pk AND begins_with(sk, :prefix)",
                        values: [":pk": .s(namespace.value), ":prefix": .s(Self.summaryPrefix)]
                    ),
                    filter: filter,
                    limit: min(system == nil ? need : max(need, Self.filteredPageLimit), Self.maximumPageLimit),
                    from: start
                )
            }
            for s in page.items.compactMap(Self.summary) where s.module.namespace == namespace && (system == nil || s.module.system == system) {
                out.append(s)
                if out.count == count { break }
            }
            start = page.next
        } while out.count < count && start != nil
        return out
    }

    public func summaryNamespaces() async throws(RegistryError) -> [Namespace] {
        try await wrapAWS { () async throws(AWSError) in
            try await dynamo.query(table: table, keyCondition: .init("pk = :pk", values: [":pk": .s(Self.namespaceDirectory)]))
        }.compactMap { $0["sk"]?.string.flatMap { try? Namespace($0) } }.sorted()
    }

    /// Recomputes the summary from the versions under the new key, and removes an old-key one (its
    /// downloads added): the move of a module's summary, idempotent.
    public func refreshSummary(of module: ModuleAddress) async throws(RegistryError) {
        for _ in 0..<Self.summaryAttempts {
            let base = try await summaryBase(module, bothKeys: true)
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
/// Ranked search (`searchModules`) uses the default of `ModuleStore+Paging`: one Query of the
/// namespace's summaries (both key prefixes in one) plus one of its README words, then the best
/// `count` kept (a top-K: the answer is bounded by the page, the read is not: it grows with the
/// namespace's modules, about 300 bytes of summary and the README words per module). No projection:
/// every attribute of a summary but `revision` is ranked on or shown in a hit, and DynamoDB charges a
/// Query by the size of the items it reads whatever `ProjectionExpression` returns (Query reference,
/// "ProjectionExpression"), so one would save bytes on the wire, not read units. The listing page
/// (`moduleSummaries(in:system:first:)`, above) stops early on the key.
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
