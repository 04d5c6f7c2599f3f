/// Module versions: their records, the tombstones that keep deleted numbers reserved, deprecation
/// marks and the per-module summaries listing reads. One section of `MetadataStore`.
///
/// Every read is a point lookup or a query within one namespace (DynamoDB: partition = namespace),
/// except `allVersions(in: nil)` (administrative). Implementations throw `RegistryError` only:
/// `.conflict` for a failed condition, `.unavailable` when the backend cannot be reached.
public protocol ModuleStore: Sendable {
    /// All versions of one module, any order. Empty when the module is unknown.
    func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord]
    /// One exact version (text equality), or nil.
    func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?
    /// Every version in a namespace, or in the whole registry when `namespace` is nil. Administrative
    /// only (backup, gc, import-legacy): its cost grows with the registry (DynamoDB: a Scan for nil).
    /// Listing and search read `moduleSummaries(in:)`.
    func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord]
    /// The summaries of a namespace's modules, sorted by module: one record per module whatever its
    /// number of versions (DynamoDB: one Query in the namespace's partition). Every write below keeps
    /// them, in the same transaction as the change.
    func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary]
    /// The first `count` summaries of a namespace in module order (`ns/name/system`), only those of
    /// `system` when it is given: one page of a listing plus what it skips (`count` = offset + limit +
    /// 1). Reads grow with `count`, not with the namespace, where the store can order by module
    /// (SQLite: an index; see `ModuleStore+Paging` for the default).
    func moduleSummaries(in namespace: Namespace, system: String?, first count: Int) async throws(RegistryError) -> [ModuleSummary]
    /// The best `count` matches of a search in a namespace, in search order (`ModuleSearch.Hit`:
    /// rank as `ModuleSearch.rank` gives it, then module), only those of `system` when it is given.
    /// `terms` as `ModuleSearch.terms` makes them of `rawText`. Memory is bounded by `count`.
    func searchModules(
        terms: [String],
        rawText: String,
        in namespace: Namespace,
        system: String?,
        first count: Int
    ) async throws(RegistryError) -> [ModuleSearch.Hit]
    /// Namespaces that hold (or held) a module summary, sorted: the all-namespaces listing checks the
    /// caller's grant in each (DynamoDB: one Query of a directory partition). May include namespaces
    /// whose modules are all deleted.
    func summaryNamespaces() async throws(RegistryError) -> [Namespace]
    /// Recomputes a module's summary from its versions (removes it when none is left): for data
    /// written before summaries existed (`tfreg import-legacy` does every module).
    func refreshSummary(of module: ModuleAddress) async throws(RegistryError)
    /// Registers a version; `.conflict` if a version of the same precedence (`1.0.0+a` and `1.0.0+b`)
    /// exists or was ever deleted. The store itself enforces this, atomically: concurrent inserts of
    /// one precedence have exactly one winner.
    func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError)
    /// Deletes a version, atomically leaving a tombstone that keeps its precedence reserved; returns
    /// the removed record, nil if there was none.
    func tombstoneVersion(_ version: Version, of module: ModuleAddress, at: Int64, by: String?) async throws(RegistryError) -> ModuleVersionRecord?
    /// Tombstones of a module's deleted versions.
    func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone]
    /// Points a version at another archive (`tfreg import-legacy`: a user's object replaced by the
    /// registry's own canonical copy of the same files). Only if the version still references `from`;
    /// false otherwise (deleted, or changed meanwhile).
    func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool
    /// Sets (or with nil clears) a version's deprecation; returns the updated record, nil if there is
    /// no such version.
    func setDeprecation(_ deprecation: Deprecation?, version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord?
    /// Records a version's documentation blob (`docsKey`) and, when `description` is not nil, its
    /// description (`tfreg reindex`, `import-legacy`); the summary follows. Returns the updated
    /// record, nil if there is no such version.
    func setDocumentation(
        docsKey: String,
        description: String?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord?
    /// Keeps the words of a module's README (`ModuleSearch.words`: distinct lowercased words, at
    /// most `ModuleSearch.maximumWordBytes`) for search, replacing what was kept; written when a
    /// version is published or reindexed (the README of the most recent one). SQLite: an FTS5 table;
    /// DynamoDB: one item per module in the namespace's partition.
    func setReadmeWords(_ words: String, of module: ModuleAddress) async throws(RegistryError)
    /// The modules of one namespace whose README words contain every one of `terms` (lowercased words
    /// as `ModuleSearch.terms` makes them; never empty): one query within the namespace (DynamoDB: a
    /// Query of its partition, never a Scan).
    func modulesWithReadme(matching terms: [String], in namespace: Namespace) async throws(RegistryError) -> Set<ModuleAddress>
    /// One module's summary (a point read; DynamoDB: one GetItem), nil when it has none.
    func moduleSummary(of module: ModuleAddress) async throws(RegistryError) -> ModuleSummary?
    /// Adds `count` downloads to a module's summary in one atomic add (SQLite: `UPDATE … + n`;
    /// DynamoDB: `UpdateItem ADD`, which also moves the summary's revision so a concurrent rewrite
    /// retries instead of losing the add); nothing when the module has no summary (`DownloadCounter`).
    func addDownloads(_ count: Int64, to module: ModuleAddress) async throws(RegistryError)
}
