import TFRegSystem

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
    /// What the publisher gave (`--description`), else the README's first paragraph as plain text; nil
    /// for a version stored before descriptions were kept (until `tfreg reindex`).
    public var description: String?
    /// An http(s) URL of the module's source repository given at publish (`--source`), validated
    /// (`PublishDetails.validatedSource`).
    public var source: String?
    /// Where the version's documentation is: the key in the registry's own storage (as `put` returned
    /// it) of a `.moduleDocs` blob (`ModuleDocs` as JSON, content-addressed); nil when none was
    /// extracted (stored before, no documenter, or the storage could not hold it).
    public var docsKey: String?

    public init(
        module: ModuleAddress,
        version: Version,
        location: ArchiveLocation,
        sha256: String,
        size: Int64,
        publishedAt: Int64,
        publishedBy: String? = nil,
        deprecation: Deprecation? = nil,
        description: String? = nil,
        source: String? = nil,
        docsKey: String? = nil
    ) {
        self.module = module
        self.version = version
        self.location = location
        self.sha256 = sha256
        self.size = size
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        self.deprecation = deprecation
        self.description = description
        self.source = source
        self.docsKey = docsKey
    }

    /// Where the version's documentation blob is, when it has one.
    public var docsLocation: ArchiveLocation? { docsKey.map { ArchiveLocation(key: $0) } }
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

    /// A mark from a caller's text (module and provider deprecations alike): each text at most
    /// `maximumTextLength` bytes and without the control, invisible and bidi-control characters archive
    /// paths refuse (`VisibleText`), as the reason is shown to whoever installs the version; an empty
    /// replacement is none.
    public static func checked(reason: String, replacement: String?, at: Int64, by: String?) throws(RegistryError) -> Deprecation {
        guard reason.utf8.count <= maximumTextLength, (replacement?.utf8.count ?? 0) <= maximumTextLength,
            !VisibleText.hasHiddenCharacters(reason), !VisibleText.hasHiddenCharacters(replacement ?? "")
        else {
            throw .badRequest(
                "reason and replacement must be at most \(maximumTextLength) bytes without control, invisible or bidirectional-control characters"
            )
        }
        return Deprecation(reason: reason, replacement: replacement.flatMap { $0.isEmpty ? nil : $0 }, at: at, by: by)
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
