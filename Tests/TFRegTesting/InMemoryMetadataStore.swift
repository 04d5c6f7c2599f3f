import TFRegCore
import TFRegSystem

/// A `MetadataStore` in an actor, for fast unit tests of code above the store.
public actor InMemoryMetadataStore: MetadataStore {
    var versions: [String: ModuleVersionRecord] = [:]
    var grantsByKey: [String: Grant] = [:]
    /// Token digest → `token:NAME#ID`.
    var tokens: [String: Identity] = [:]
    var precedences: Set<String> = []
    /// Every module address that has (or had) a version, as spelled.
    var spellings: Set<ModuleAddress> = []
    var tombstoneList: [VersionTombstone] = []
    /// The audit trail (`AuditStore`), in the order written.
    public private(set) var auditLog: [AuditEvent] = []
    // Issue 20 (providers): `InMemoryMetadataStore+Providers`.
    var providerVersionsByKey: [String: ProviderVersionRecord] = [:]
    var providerPrecedences: Set<String> = []
    var signingKeysByKey: [String: ProviderSigningKey] = [:]
    /// When set, every call fails with `.unavailable` (a backend that is down).
    public var isDown = false

    public init() {}

    public func setDown(_ down: Bool) { isDown = down }

    func check() throws(RegistryError) {
        if isDown { throw .unavailable("the metadata store", detail: "test: down") }
    }

    private static func key(_ m: ModuleAddress, _ v: String) -> String { "\(m)/\(v)" }

    public func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord] {
        try check()
        return versions.values.filter { $0.module == module }
    }

    public func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord? {
        try check()
        return versions[Self.key(module, version.description)]
    }

    /// How many times `allVersions(in:)` was called (listing must not).
    public private(set) var allVersionsCalls = 0

    public func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord] {
        try check()
        allVersionsCalls += 1
        return versions.values.filter { namespace == nil || $0.module.namespace == namespace }
    }

    /// Computed from the versions on every call: the same answer a store that keeps summaries gives.
    public func moduleSummaries(in namespace: Namespace) async throws(RegistryError) -> [ModuleSummary] {
        try check()
        let byModule = Dictionary(grouping: versions.values.filter { $0.module.namespace == namespace }, by: \.module)
        return byModule.values.compactMap { ModuleSummary.of($0, downloads: downloadCounts[$0[0].module] ?? 0) }.sorted { $0.module < $1.module }
    }

    /// Downloads added per module (`addDownloads`), shown by its summary while it has one.
    var downloadCounts: [ModuleAddress: Int64] = [:]

    public func moduleSummary(of module: ModuleAddress) async throws(RegistryError) -> ModuleSummary? {
        try await moduleSummaries(in: module.namespace).first { $0.module == module }
    }

    public func addDownloads(_ count: Int64, to module: ModuleAddress) async throws(RegistryError) {
        try check()
        guard versions.values.contains(where: { $0.module == module }) else { return }
        downloadCounts[module, default: 0] += count
    }

    /// How many times `summaryNamespaces` was read (the first read of every spelling lookup).
    public private(set) var summaryNamespaceReads = 0

    public func summaryNamespaces() async throws(RegistryError) -> [Namespace] {
        try check()
        summaryNamespaceReads += 1
        return Set(versions.values.map(\.module.namespace)).sorted()
    }

    public func refreshSummary(of module: ModuleAddress) async throws(RegistryError) { try check() }

    public func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError) {
        try check()
        let k = Self.key(record.module, record.version.description)
        let p = Self.key(record.module, record.version.precedenceKey)
        guard versions[k] == nil, !precedences.contains(p) else { throw .conflict("exists") }
        // Names are case-insensitive (as `SQLiteMetadataStore.otherSpelling`): no new second spelling
        // of a module or namespace that has (or had) versions.
        let m = record.module
        if !spellings.contains(m), spellings.contains(where: { $0.isSameModule(as: m) }) {
            throw .conflict("\(m) is another spelling of an existing module (names are case-insensitive)")
        }
        if !spellings.contains(where: { $0.namespace == m.namespace }), spellings.contains(where: { $0.namespace.folded == m.namespace.folded }) {
            throw .conflict("\(m) is another spelling of an existing namespace (names are case-insensitive)")
        }
        spellings.insert(m)
        precedences.insert(p)
        versions[k] = record
    }

    public func tombstoneVersion(
        _ version: Version,
        of module: ModuleAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        try check()
        guard let removed = versions.removeValue(forKey: Self.key(module, version.description)) else { return nil }
        precedences.insert(Self.key(module, version.precedenceKey))
        tombstoneList.append(VersionTombstone(module: module, version: version, sha256: removed.sha256, deletedAt: at, deletedBy: by))
        return removed
    }

    public func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone] {
        try check()
        return tombstoneList.filter { $0.module == module }
    }

    public func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool {
        try check()
        let k = Self.key(module, version.description)
        guard var r = versions[k], r.location == from else { return false }
        r.location = to
        r.sha256 = sha256
        r.size = size
        versions[k] = r
        return true
    }

    var readmeWords: [ModuleAddress: Set<Substring>] = [:]

    public func setReadmeWords(_ words: String, of module: ModuleAddress) async throws(RegistryError) {
        try check()
        readmeWords[module] = Set(words.split(separator: " "))
    }

    public func modulesWithReadme(matching terms: [String], in namespace: Namespace) async throws(RegistryError) -> Set<ModuleAddress> {
        try check()
        return Set(readmeWords.filter { entry in entry.key.namespace == namespace && terms.allSatisfy { entry.value.contains(Substring($0)) } }.keys)
    }

    public func setDocumentation(
        docsKey: String,
        description: String?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        try check()
        let k = Self.key(module, version.description)
        guard var r = versions[k] else { return nil }
        r.docsKey = docsKey
        if let description { r.description = description }
        versions[k] = r
        return r
    }

    public func setDeprecation(
        _ deprecation: Deprecation?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        try check()
        let k = Self.key(module, version.description)
        guard var r = versions[k] else { return nil }
        r.deprecation = deprecation
        versions[k] = r
        return r
    }

    public func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant? {
        try check()
        return grantsByKey["\(namespace)|\(identity)"]
    }

    public func grants(in namespace: Namespace) async throws(RegistryError) -> [Grant] {
        try check()
        return grantsByKey.values.filter { $0.namespace == namespace }.sorted { $0.identity < $1.identity }
    }

    public func grants(for identity: Identity) async throws(RegistryError) -> [Grant] {
        try check()
        return grantsByKey.values.filter { $0.identity == identity }.sorted { $0.namespace < $1.namespace }
    }

    public func putGrant(_ grant: Grant, mode: GrantWriteMode) async throws(RegistryError) {
        try check()
        var grant = grant
        grant.identity = try await tokenForGrant(grant.identity)
        let k = "\(grant.namespace)|\(grant.identity)"
        switch mode {
        case .create: guard grantsByKey[k] == nil else { throw .conflict("exists") }
        case .update: guard grantsByKey[k] != nil else { throw .notFound("missing") }
        case .upsert: break
        }
        grantsByKey[k] = grant
    }

    /// A grant as data from before token ids holds it: under exactly `grant.identity`, unchecked.
    public func insertLegacyGrant(_ grant: Grant) {
        grantsByKey["\(grant.namespace)|\(grant.identity)"] = grant
    }

    public func deleteGrant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Bool {
        try check()
        return grantsByKey.removeValue(forKey: "\(namespace)|\(identity)") != nil
    }

    public func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity? {
        try check()
        return tokens[sha256]
    }

    public func staticToken(named name: Identity) async throws(RegistryError) -> Identity? {
        try check()
        return tokens.values.first { $0.tokenName == name.tokenName }
    }

    public func orphanGrants(named name: Identity) async throws(RegistryError) -> [Grant] {
        let current = try await staticToken(named: name)
        return grantsByKey.values.filter { $0.identity.tokenName == name.tokenName && $0.identity != current }
            .sorted { ($0.namespace, $0.identity) < ($1.namespace, $1.identity) }
    }

    public func createStaticToken(
        _ name: Identity,
        hash sha256: String,
        createdAt: Int64,
        discardingOrphans: Bool
    ) async throws(RegistryError) -> Identity {
        try check()
        guard let name = name.tokenName else { throw .badRequest("not a token name") }
        guard try await staticToken(named: name) == nil, tokens[sha256] == nil else { throw .conflict("a token named \(name) already exists") }
        let orphans = try await orphanGrants(named: name)
        if !orphans.isEmpty {
            guard discardingOrphans else { throw OrphanGrants.refusal(name, orphans) }
            for g in orphans { grantsByKey["\(g.namespace)|\(g.identity)"] = nil }
        }
        let id = try Identity.token(named: name.value.dropFirst(6), id: Identity.newTokenID())
        tokens[sha256] = id
        return id
    }

    public func revokeStaticToken(_ name: Identity) async throws(RegistryError) -> Int? {
        try check()
        guard let current = try await staticToken(named: name) else { return nil }
        let before = grantsByKey.count
        grantsByKey = grantsByKey.filter { $0.value.identity != current }
        tokens = tokens.filter { $0.value != current }
        return before - grantsByKey.count
    }

    // MARK: AuditStore

    public func recordAudit(_ event: AuditEvent) async throws(RegistryError) {
        try check()
        auditLog.append(event)
    }

    public func auditEvents(
        in namespace: Namespace?,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int
    ) async throws(RegistryError)
        -> [AuditEvent]
    {
        try check()
        let sorted = auditLog.filter { $0.namespace == namespace && $0.time >= since }.sorted { ($0.time, $0.id) < ($1.time, $1.id) }
        let after = sorted.filter { e in cursor.map { (e.time, e.id) > ($0.time, $0.id) } ?? true }
        return Array(after.prefix(limit))
    }
}
