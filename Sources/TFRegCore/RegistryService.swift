import Logging
import TFRegSystem

public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let offset: Int
    public let limit: Int
    public let nextOffset: Int?
    public let previousOffset: Int?
}

/// Filters for listing and search.
public struct ModuleQuery: Sendable {
    public var namespace: Namespace?
    public var text: String?
    public var system: String?
    public var offset: Int
    public var limit: Int

    public static let defaultLimit = 15
    public static let maximumLimit = 100

    public init(namespace: Namespace? = nil, text: String? = nil, system: String? = nil, offset: Int = 0, limit: Int = defaultLimit) {
        self.namespace = namespace
        self.text = text
        self.system = system
        self.offset = offset
        self.limit = limit
    }
}

/// The registry's use cases, independent of transport and backend. Every method that touches a
/// namespace checks the caller's grant first: deny by default, 401 without a caller, 403 without the
/// permission, and only then 404 (so a caller without access cannot probe what exists).
public struct RegistryService: Sendable {
    public let store: any MetadataStore
    public let storage: any BlobStore
    public let canonicalizer: any ArchiveCanonicalizer
    public let clock: any WallClock

    public init(store: any MetadataStore, storage: any BlobStore, canonicalizer: any ArchiveCanonicalizer, clock: any WallClock = SystemClock()) {
        self.store = store
        self.storage = storage
        self.canonicalizer = canonicalizer
        self.clock = clock
    }

    // MARK: Authorization

    /// Returns the caller's grant if it allows `permission` in `namespace`.
    @discardableResult
    public func authorize(_ caller: Principal?, _ permission: Permission, in namespace: Namespace) async throws(RegistryError) -> Grant {
        guard let caller else {
            throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'")
        }
        guard let grant = try await store.grant(for: caller.identity, in: namespace), grant.permissions.allows(permission) else {
            throw .forbidden("missing '\(permission.rawValue)' permission on namespace '\(namespace)'")
        }
        return grant
    }

    // MARK: Reading

    /// Versions of a module, highest precedence first.
    public func versions(of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> [ModuleVersionRecord] {
        try await authorize(caller, .download, in: module.namespace)
        let records = try await store.versions(of: module)
        guard !records.isEmpty else { throw .notFound("module \(module) not found") }
        return records.sorted { $1.version < $0.version }
    }

    public func version(_ version: Version, of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> ModuleVersionRecord {
        try await authorize(caller, .download, in: module.namespace)
        guard let record = try await store.version(version, of: module) else {
            throw .notFound("version \(version) of module \(module) not found")
        }
        return record
    }

    /// The latest version: the highest release, or the highest pre-release when there is no release.
    public func latest(of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> ModuleVersionRecord {
        let all = try await versions(of: module, caller: caller)
        return Self.latest(all)!
    }

    /// The latest of a non-empty list of records.
    public static func latestRecord(_ records: [ModuleVersionRecord]) -> ModuleVersionRecord {
        latest(records)!
    }

    static func latest(_ records: [ModuleVersionRecord]) -> ModuleVersionRecord? {
        records.filter { !$0.version.isPrerelease }.max { $0.version < $1.version } ?? records.max { $0.version < $1.version }
    }

    /// Resolves a download: authorizes, finds the version, and asks the storage how to deliver it.
    public func download(
        _ version: Version,
        of module: ModuleAddress,
        caller: Principal?,
        expiresIn: Int
    ) async throws(RegistryError) -> (ModuleVersionRecord, ArchiveDelivery) {
        let record = try await self.version(version, of: module, caller: caller)
        do {
            return (record, try await storage.delivery(of: record.location, sha256: record.sha256, expiresIn: expiresIn))
        } catch  where error.code == .upstreamMismatch {
            // The storage names the object; the client is told which version's archive it is.
            throw RegistryError(error.code, "the archive of \(module) \(version): \(error.message)", detail: error.detail)
        }
    }

    /// Lists modules the caller may download, filtered and paged, from the stores' module summaries:
    /// the reads per page grow with the number of namespaces, never with modules or versions. One
    /// namespace: its grant and one summaries read. Every namespace: the namespace directory, then per
    /// namespace in order the caller's grant (deny by default: no grant with `download`, not listed)
    /// and its summaries, until the page and one more item are found. The order is the modules'
    /// (`ns/name/system`), as before summaries existed.
    public func list(_ query: ModuleQuery, caller: Principal?) async throws(RegistryError) -> Page<ModuleSummary> {
        guard let caller else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
        let limit = min(max(query.limit, 1), ModuleQuery.maximumLimit)
        let offset = max(query.offset, 0)
        let namespaces: [Namespace]
        if let ns = query.namespace {
            try await authorize(caller, .download, in: ns)
            namespaces = [ns]
        } else {
            // `ns/` sorts as the module addresses that begin with it do ('-' sorts before '/').
            namespaces = try await store.summaryNamespaces().sorted { $0.value + "/" < $1.value + "/" }
        }
        var skipped = 0
        var items: [ModuleSummary] = []
        var more = false
        for ns in namespaces where !more {
            if query.namespace == nil {
                guard try await store.grant(for: caller.identity, in: ns)?.permissions.download == true else { continue }
            }
            for summary in try await store.moduleSummaries(in: ns).sorted(by: { $0.module < $1.module }) {
                if let system = query.system, summary.module.system != system { continue }
                if let text = query.text, !summary.matches(text) { continue }
                if skipped < offset {
                    skipped += 1
                } else if items.count < limit {
                    items.append(summary)
                } else {
                    more = true
                    break
                }
            }
        }
        return Page(
            items: items,
            offset: offset,
            limit: limit,
            nextOffset: more ? offset + limit : nil,
            previousOffset: offset > 0 ? max(0, offset - limit) : nil
        )
    }

    // MARK: Writing

    /// Publishes a staged archive as a new, immutable version.
    ///
    /// Order matters for crash safety and for concurrent deletes: the archive is made durable first
    /// (content-addressed, never overwritten), then the version row is inserted atomically (the store
    /// refuses a second version of the same precedence, or one that was deleted), then the storage
    /// confirms the object is still there (a concurrent `gc` may have just removed an unreferenced
    /// copy of the same bytes) and only then drops the staged file. A crash in between leaves an
    /// unreferenced archive for `gc`, never a version without one.
    public func publish(
        _ staged: StagedArchive,
        version: Version,
        of module: ModuleAddress,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord {
        let grant: Grant
        do {
            grant = try await authorize(caller, .upload, in: module.namespace)
        } catch {
            discard(staged)
            throw error
        }
        let canonical: StagedArchive
        do throws(RegistryError) {
            try await checkVersionIsFree(version, of: module)
            // Only the registry's own canonical rewrite is stored, hashed and served. Reading and
            // rewriting a large archive takes a while: off the cooperative pool.
            let canonicalPath = staged.path + ".canonical"
            let canonicalizer = self.canonicalizer
            let c = try await Blocking.run { () throws(RegistryError) -> CanonicalArchive in
                try canonicalizer.canonicalize(input: staged.path, output: canonicalPath)
            }
            canonical = StagedArchive(path: canonicalPath, size: c.size, sha256: c.sha256)
        } catch {
            discard(staged)
            throw error
        }
        discard(staged)
        let location: ArchiveLocation
        do {
            location = try await storage.put(canonical, kind: .moduleArchive)
        } catch {
            discard(canonical)
            throw error
        }
        let record = ModuleVersionRecord(
            module: module,
            version: version,
            location: location,
            sha256: canonical.sha256,
            size: canonical.size,
            publishedAt: clock.now(),
            publishedBy: grant.identity.value
        )
        do {
            try await store.insertVersion(record)
        } catch {
            // The archive may be shared with another version of the same bytes: `gc` decides.
            discard(canonical)
            if error.code == .conflict { try await checkVersionIsFree(version, of: module) }
            throw error
        }
        try await storage.settle(canonical, at: location)
        logger.info("published module version", metadata: ["module": "\(module)", "version": "\(version)", "sha256": "\(canonical.sha256)"])
        return record
    }

    /// Whether `record` is served from something other than the registry's own canonical copy: a
    /// user's object (written by the replaced tool, or registered without a bucket of our own), or an
    /// archive stored as uploaded by a tfreg from before canonical archives.
    public func needsAdoption(_ record: ModuleVersionRecord) -> Bool {
        record.location.bucket != nil || !storage.isCanonicalKey(record.location.key)
    }

    /// `tfreg import-legacy`: replaces such a version's archive by the registry's own canonical copy of
    /// the same files. A user's object is read once and must still have the recorded SHA-256; an own
    /// archive is re-read through the strict reader (a hostile one stored by an older version is
    /// refused and left). Returns the updated record, or nil when the storage cannot hold copies.
    /// Administrative: no caller.
    public func adopt(_ record: ModuleVersionRecord, maximumBytes: Int64, logger: Logger) async throws(RegistryError) -> ModuleVersionRecord? {
        guard needsAdoption(record) else { return record }
        let staged: StagedArchive
        if record.location.bucket != nil {
            guard let s = try await importCopy(of: record.location, expectedSHA256: record.sha256, limit: maximumBytes) else {
                return nil
            }
            staged = s
        } else {
            guard let s = try await storage.get(record.location, limit: maximumBytes) else {
                throw .notFound("the archive of \(record.module) \(record.version) is missing from the registry's storage")
            }
            staged = s
        }
        let canonicalPath = staged.path + ".canonical"
        let canonicalizer = self.canonicalizer
        let c: CanonicalArchive
        do {
            c = try await Blocking.run { () throws(RegistryError) -> CanonicalArchive in
                try canonicalizer.canonicalize(input: staged.path, output: canonicalPath)
            }
        } catch {
            discard(staged)
            throw error
        }
        discard(staged)
        let canonical = StagedArchive(path: canonicalPath, size: c.size, sha256: c.sha256)
        let location: ArchiveLocation
        do { location = try await storage.put(canonical, kind: .moduleArchive) } catch {
            discard(canonical)
            throw error
        }
        guard
            try await store.replaceArchive(of: record.version, of: record.module, from: record.location, to: location, sha256: c.sha256, size: c.size)
        else {
            discard(canonical)
            throw .conflict("\(record.module) \(record.version) changed while it was imported; run import-legacy again")
        }
        try await storage.settle(canonical, at: location)
        logger.info(
            "imported legacy version",
            metadata: [
                "module": "\(record.module)", "version": "\(record.version)",
                "from": "\(record.location.bucket.map { "s3://\($0)/" } ?? "")\(record.location.key)", "sha256": "\(c.sha256)",
            ]
        )
        var updated = record
        updated.location = location
        updated.sha256 = c.sha256
        updated.size = c.size
        return updated
    }

    /// Reads an object a user stored (`create`) once, verifies it against `expectedSHA256`, and stages
    /// its bytes so the registry publishes its own copy; nil when the storage cannot hold copies (an
    /// S3 storage without a bucket of its own: the version then references the object). S3's record
    /// of the checksum is checked first (no download for a wrong one), then the bytes read decide: an
    /// object replaced between the two reads is refused.
    func importCopy(of location: ArchiveLocation, expectedSHA256: String, limit: Int64) async throws(RegistryError) -> StagedArchive? {
        guard storage.registersExistingObjects else {
            throw .badRequest("this registry stores archives itself: publish with the upload endpoint instead of create")
        }
        guard storage.acceptsWrites else { return nil }
        let name = "s3://\(location.bucket ?? "")/\(location.key)"
        guard let existing = try await storage.head(location) else { throw .badRequest("\(name) does not exist") }
        guard let recorded = existing.sha256 else {
            throw .badRequest("\(name) has no SHA-256 checksum: upload it with a SHA-256 checksum (aws s3api put-object --checksum-algorithm SHA256)")
        }
        guard recorded == expectedSHA256 else { throw .badRequest("the SHA-256 checksum of \(name) does not match expected_checksum") }
        guard existing.size <= limit else { throw .init(.payloadTooLarge, "\(name) is larger than the limit of \(limit) bytes") }
        guard let staged = try await storage.get(location, limit: limit) else { throw .badRequest("\(name) does not exist") }
        guard staged.sha256 == expectedSHA256 else {
            discard(staged)
            throw .badRequest("the bytes of \(name) do not match expected_checksum (was it overwritten?)")
        }
        return staged
    }

    /// `.conflict` naming the reason when `version` cannot be published: a version of the same
    /// precedence exists, or was deleted (deleted numbers are never reused).
    func checkVersionIsFree(_ version: Version, of module: ModuleAddress) async throws(RegistryError) {
        let existing = try await store.versions(of: module)
        if let clash = existing.first(where: { $0.version.hasSamePrecedence(as: version) }) {
            throw .conflict("version \(clash.version) of module \(module) already exists; versions are immutable")
        }
        if let gone = try await store.tombstones(of: module).first(where: { $0.version.hasSamePrecedence(as: version) }) {
            throw .conflict(
                "version \(gone.version) of module \(module) was deleted on \(rfc3339(gone.deletedAt)) and cannot be reused; publish a new version"
            )
        }
    }

    /// Registers an archive the caller already stored (the `create` route, "bring your own bucket").
    /// The object is read once, its bytes checked against `expectedSHA256`, and published as the
    /// registry's own canonical copy: later changes to the user's object never reach a download.
    /// A storage without a bucket of its own cannot import: then the version references the object,
    /// whose recorded SHA-256 must equal `expectedSHA256` and is checked again on every download.
    public func register(
        existing location: ArchiveLocation,
        expectedSHA256: String,
        maximumBytes: Int64,
        version: Version,
        of module: ModuleAddress,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord {
        let grant = try await authorize(caller, .upload, in: module.namespace)
        try await checkVersionIsFree(version, of: module)
        let name = "s3://\(location.bucket ?? "")/\(location.key)"
        if let staged = try await importCopy(of: location, expectedSHA256: expectedSHA256, limit: maximumBytes) {
            let record = try await publish(staged, version: version, of: module, caller: caller, logger: logger)
            logger.info("imported module version", metadata: ["module": "\(module)", "version": "\(version)", "from": "\(name)"])
            return record
        }
        guard let object = try await storage.head(location) else { throw .badRequest("\(name) does not exist") }
        guard let actual = object.sha256 else {
            throw .badRequest("\(name) has no SHA-256 checksum: upload it with a SHA-256 checksum (aws s3api put-object --checksum-algorithm SHA256)")
        }
        guard actual == expectedSHA256 else {
            throw .badRequest("the SHA-256 checksum of \(name) does not match expected_checksum")
        }
        let record = ModuleVersionRecord(
            module: module,
            version: version,
            location: location,
            sha256: actual,
            size: object.size,
            publishedAt: clock.now(),
            publishedBy: grant.identity.value
        )
        try await store.insertVersion(record)
        logger.info(
            "registered module version",
            metadata: ["module": "\(module)", "version": "\(version)", "sha256": "\(actual)", "bucket": "\(location.bucket ?? "")"]
        )
        return record
    }

    /// Deletes a version (needs `upload`): the row becomes a tombstone that keeps the number
    /// reserved. No archive is unlinked here (another version may share the bytes, and a publish of
    /// the same bytes may be under way); `tfreg gc` removes archives no version references.
    public func deleteVersion(_ version: Version, of module: ModuleAddress, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let grant = try await authorize(caller, .upload, in: module.namespace)
        guard try await store.tombstoneVersion(version, of: module, at: clock.now(), by: grant.identity.value) != nil else {
            throw .notFound("version \(version) of module \(module) not found")
        }
        logger.info("deleted module version", metadata: ["module": "\(module)", "version": "\(version)", "by": "\(grant.identity)"])
    }

    /// Marks a version deprecated (needs `upload`), or with `reason == nil` clears the mark. The
    /// version stays listed and downloadable.
    public func deprecate(
        _ version: Version,
        of module: ModuleAddress,
        reason: String?,
        replacement: String?,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord {
        let grant = try await authorize(caller, .upload, in: module.namespace)
        var mark: Deprecation?
        if let reason {
            // The same control, invisible and bidi-control set archive paths refuse (`VisibleText`): the
            // reason is shown to whoever installs the version.
            guard reason.utf8.count <= Deprecation.maximumTextLength, (replacement?.utf8.count ?? 0) <= Deprecation.maximumTextLength,
                !VisibleText.hasHiddenCharacters(reason), !VisibleText.hasHiddenCharacters(replacement ?? "")
            else {
                throw .badRequest(
                    "reason and replacement must be at most \(Deprecation.maximumTextLength) bytes without control, invisible or bidirectional-control characters"
                )
            }
            mark = Deprecation(reason: reason, replacement: replacement.flatMap { $0.isEmpty ? nil : $0 }, at: clock.now(), by: grant.identity.value)
        }
        guard let record = try await store.setDeprecation(mark, version: version, of: module) else {
            throw .notFound("version \(version) of module \(module) not found")
        }
        logger.info(
            mark == nil ? "version undeprecated" : "version deprecated",
            metadata: ["module": "\(module)", "version": "\(version)", "by": "\(grant.identity)"]
        )
        return record
    }

    // MARK: Grants

    /// Grants in a namespace; needs `create_grant` or `delete_grant` there.
    public func grants(in namespace: Namespace, caller: Principal?) async throws(RegistryError) -> [Grant] {
        guard let caller else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
        guard let own = try await store.grant(for: caller.identity, in: namespace), own.permissions.createGrant || own.permissions.deleteGrant else {
            throw .forbidden("missing 'create_grant' or 'delete_grant' permission on namespace '\(namespace)'")
        }
        return try await store.grants(in: namespace).sorted { $0.identity < $1.identity }
    }

    /// Creates or replaces a grant; needs `create_grant`. Nobody can grant a permission they do not
    /// hold, or change a grant that holds more than they do (no escalation, no demoting an admin).
    public func putGrant(_ grant: Grant, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let own = try await authorize(caller, .createGrant, in: grant.namespace)
        var grant = grant
        // `token:NAME` means the token holding the name now; no token, no grant (404).
        grant.identity = try await store.tokenForGrant(grant.identity)
        guard own.permissions.covers(grant.permissions) else {
            throw .forbidden("you cannot grant permissions you do not hold yourself in namespace '\(grant.namespace)'")
        }
        guard !grant.permissions.isEmpty else { throw .badRequest("a grant needs at least one permission; delete it instead") }
        if let existing = try await store.grant(for: grant.identity, in: grant.namespace), !own.permissions.covers(existing.permissions) {
            throw .forbidden("you cannot change a grant that holds permissions you do not hold")
        }
        try await store.putGrant(grant, mode: .upsert)
        logger.info(
            "grant written",
            metadata: [
                "namespace": "\(grant.namespace)", "identity": "\(grant.identity)", "permissions": "\(grant.permissions)", "by": "\(own.identity)",
            ]
        )
    }

    /// Deletes a grant; needs `delete_grant`, and the grant may not hold more than the caller does.
    public func deleteGrant(for identity: Identity, in namespace: Namespace, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let own = try await authorize(caller, .deleteGrant, in: namespace)
        let identity = try await store.resolvingTokenName(identity)
        guard let existing = try await store.grant(for: identity, in: namespace) else {
            throw .notFound("no grant for \(identity) in namespace '\(namespace)'")
        }
        guard own.permissions.covers(existing.permissions) else {
            throw .forbidden("you cannot delete a grant that holds permissions you do not hold")
        }
        _ = try await store.deleteGrant(for: identity, in: namespace)
        logger.info("grant deleted", metadata: ["namespace": "\(namespace)", "identity": "\(identity)", "by": "\(own.identity)"])
    }

    private func discard(_ staged: StagedArchive) {
        _ = staged.path.withCString { unlink($0) }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
