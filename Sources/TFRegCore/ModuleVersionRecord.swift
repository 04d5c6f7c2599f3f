/// One registered module version: the unit the metadata store keeps.
public struct ModuleVersionRecord: Sendable, Hashable {
    public var module: ModuleAddress
    public var version: Version
    public var location: ArchiveLocation
    /// Lowercase hex SHA-256 of the archive bytes.
    public var sha256: String
    public var size: Int64
    /// Unix seconds.
    public var publishedAt: Int64
    public var publishedBy: String?
    /// Set when the version is deprecated: it stays listed and downloadable, with this mark.
    public var deprecation: Deprecation?

    public init(
        module: ModuleAddress,
        version: Version,
        location: ArchiveLocation,
        sha256: String,
        size: Int64,
        publishedAt: Int64,
        publishedBy: String? = nil,
        deprecation: Deprecation? = nil
    ) {
        self.module = module
        self.version = version
        self.location = location
        self.sha256 = sha256
        self.size = size
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        self.deprecation = deprecation
    }
}

/// A version marked as not to be used any more. Terraform resolves even an exact pin through the
/// versions list and modules have no lock file, so a deprecated version keeps being listed and
/// served; the mark tells people what to move to.
public struct Deprecation: Sendable, Hashable {
    /// Why (may be empty).
    public var reason: String
    /// What to use instead: a version or a module source (optional).
    public var replacement: String?
    /// Unix seconds.
    public var at: Int64
    public var by: String?

    public static let maximumTextLength = 1024

    public init(reason: String, replacement: String?, at: Int64, by: String?) {
        self.reason = reason
        self.replacement = replacement
        self.at = at
        self.by = by
    }
}

/// What is left of a deleted version: its number stays reserved (no other bytes may ever be
/// published under it), and the record says when and by whom it was deleted.
public struct VersionTombstone: Sendable, Hashable {
    public var module: ModuleAddress
    public var version: Version
    public var sha256: String
    public var deletedAt: Int64
    public var deletedBy: String?

    public init(module: ModuleAddress, version: Version, sha256: String, deletedAt: Int64, deletedBy: String?) {
        self.module = module
        self.version = version
        self.sha256 = sha256
        self.deletedAt = deletedAt
        self.deletedBy = deletedBy
    }
}
