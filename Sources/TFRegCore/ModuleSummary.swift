/// One module as listings show it, kept by the metadata store next to the module's versions and
/// rewritten in the same transaction as every change to them (publish, delete, deprecate, archive
/// replacement), so that listing and search read one small record per module, never the versions.
public struct ModuleSummary: Sendable, Hashable {
    public var module: ModuleAddress
    /// The highest live release, else the highest live pre-release (`RegistryService.latest`).
    public var latest: Version
    /// When the latest version was published (Unix seconds) and by whom.
    public var latestPublishedAt: Int64
    public var latestPublishedBy: String?
    /// Whether the latest version carries a deprecation mark.
    public var latestDeprecated: Bool
    /// How many live (not deleted) versions the module has; at least 1 (a module without versions has
    /// no summary).
    public var versionCount: Int
    /// When the newest live version was published (Unix seconds).
    public var updatedAt: Int64
    /// The latest version's description (`ModuleVersionRecord.description`); "" when it has none.
    public var description: String
    /// The latest version's source repository URL, nil when none was given.
    public var source: String?
    /// Downloads counted so far; 0 until downloads are counted.
    public var downloads: Int64

    public init(
        module: ModuleAddress,
        latest: Version,
        latestPublishedAt: Int64,
        latestPublishedBy: String?,
        latestDeprecated: Bool,
        versionCount: Int,
        updatedAt: Int64,
        description: String = "",
        downloads: Int64 = 0,
        source: String? = nil
    ) {
        self.module = module
        self.latest = latest
        self.latestPublishedAt = latestPublishedAt
        self.latestPublishedBy = latestPublishedBy
        self.latestDeprecated = latestDeprecated
        self.versionCount = versionCount
        self.updatedAt = updatedAt
        self.description = description
        self.downloads = downloads
        self.source = source
    }

    /// The summary of one module's live versions; nil when there are none. `records` must all be
    /// versions of one module. Every store computes its summaries with this one function. The
    /// description is the latest version's, else `description` (what the summary kept).
    public static func of(_ records: [ModuleVersionRecord], description: String = "", downloads: Int64 = 0) -> ModuleSummary? {
        guard let latest = RegistryService.latest(records) else { return nil }
        return ModuleSummary(
            module: latest.module,
            latest: latest.version,
            latestPublishedAt: latest.publishedAt,
            latestPublishedBy: latest.publishedBy,
            latestDeprecated: latest.deprecation != nil,
            versionCount: records.count,
            updatedAt: records.map(\.publishedAt).max() ?? latest.publishedAt,
            description: latest.description ?? description,
            downloads: downloads,
            source: latest.source
        )
    }

    /// The summary once `record`, a new live version of this module, is added: what `of` answers for
    /// the versions this summary describes plus `record`, computed from the summary alone (a publish
    /// then costs the same whatever the number of versions).
    public func adding(_ record: ModuleVersionRecord) -> ModuleSummary {
        var next = self
        next.versionCount += 1
        next.updatedAt = max(updatedAt, record.publishedAt)
        // `of`: the highest release, else the highest pre-release.
        let isLatest = record.version.isPrerelease == latest.isPrerelease ? latest < record.version : !record.version.isPrerelease
        if isLatest {
            next.latest = record.version
            next.latestPublishedAt = record.publishedAt
            next.latestPublishedBy = record.publishedBy
            next.latestDeprecated = record.deprecation != nil
            next.description = record.description ?? description
            next.source = record.source
        }
        return next
    }

    /// Whether a text is in the module address (`ns/name/system`) or the description,
    /// case-insensitively. Search itself ranks with `ModuleSearch` (address, description, README).
    public func matches(_ text: String) -> Bool {
        let needle = text.lowercased()
        return needle.isEmpty || module.description.lowercased().contains(needle) || description.lowercased().contains(needle)
    }
}
