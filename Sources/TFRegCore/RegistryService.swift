import Glibc
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
///
/// Every state change goes through here, with the principal making it: a caller the registry
/// authenticated (`Principal`), or an operator running the CLI on the store (`LocalOperator`, trusted,
/// as whoever can open the store is). Each writes exactly one log line naming it (`by=`, through
/// `changed`): the one place where audit events will be recorded. No other code writes grants, tokens
/// or versions; the exceptions are `tfreg restore` (a whole database file, server stopped) and
/// `tfreg gc` (only archives no version references).
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

    /// A service for the use cases that need only the metadata store: grants and static tokens managed
    /// on the store (`tfreg grant`) and token issuance. Opening an archive storage there would create
    /// directories or need a bucket for nothing; a module use case on this service is an internal error.
    public init(store: any MetadataStore, clock: any WallClock = SystemClock()) {
        self.init(store: store, storage: NoArchiveStorage(), canonicalizer: NoArchiveStorage(), clock: clock)
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
        changed(
            "published module version",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)", "sha256": "\(canonical.sha256)"],
            logger
        )
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
    /// Administrative: `op` runs the CLI on the store, no grant is checked.
    public func adopt(
        _ record: ModuleVersionRecord,
        maximumBytes: Int64,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord? {
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
        changed(
            "imported legacy version",
            by: op,
            [
                "module": "\(record.module)", "version": "\(record.version)",
                "from": "\(record.location.bucket.map { "s3://\($0)/" } ?? "")\(record.location.key)", "sha256": "\(c.sha256)",
            ],
            logger
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
        changed(
            "registered module version",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)", "sha256": "\(actual)", "bucket": "\(location.bucket ?? "")"],
            logger
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
        changed("deleted module version", by: grant.identity, ["module": "\(module)", "version": "\(version)"], logger)
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
        changed(
            mark == nil ? "version undeprecated" : "version deprecated",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)"],
            logger
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
        changed("granted", by: own.identity, Self.metadata(grant), logger)
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
        changed("revoked grant", by: own.identity, ["namespace": "\(namespace)", "identity": "\(identity)"], logger)
    }

    // MARK: The CLI on the store

    /// `tfreg grant create|update` on the store: writes the grant as the operator (no grant is checked:
    /// whoever can open the store administers it). `mode` refuses an existing grant (`create`) or a
    /// missing one (`update`); a `token:NAME` identity is bound as the store binds it.
    public func writeGrant(_ grant: Grant, mode: GrantWriteMode, by op: LocalOperator, logger: Logger) async throws(RegistryError) {
        try await store.putGrant(grant, mode: mode)
        changed("granted", by: op, Self.metadata(grant), logger)
    }

    /// `tfreg grant delete` on the store: deletes the identity's grant (`token:NAME`: the current
    /// token's) and returns the identity as stored; `.notFound` when there is none.
    public func deleteGrant(
        for identity: Identity,
        in namespace: Namespace,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> Identity
    {
        let stored = try await store.resolvingTokenName(identity)
        guard try await store.deleteGrant(for: stored, in: namespace) else {
            throw .notFound("no grant for \(identity) on namespace '\(namespace)'")
        }
        changed("revoked grant", by: op, ["namespace": "\(namespace)", "identity": "\(stored)"], logger)
        return stored
    }

    /// `tfreg grant create --new-token NAME`: a new static token under `name` (`token:NAME`). Returns
    /// its identity (`token:NAME#ID`) and the token itself, to be shown once: only its SHA-256 is
    /// stored, and neither is ever logged.
    public func createStaticToken(
        named name: Identity,
        discardingOrphans: Bool,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> (identity: Identity, token: String)
    {
        let secret = StaticTokenAuthenticator.generate()
        let identity = try await store.createStaticToken(
            name,
            hash: StaticTokenAuthenticator.digest(of: secret),
            createdAt: clock.now(),
            discardingOrphans: discardingOrphans
        )
        changed("created static token", by: op, ["identity": "\(identity)"], logger)
        return (identity, secret)
    }

    /// `tfreg grant revoke-token`: deletes the token holding `name` now and every grant it holds.
    /// Returns its identity and how many grants went; `.notFound` when no token has the name.
    public func revokeStaticToken(
        named name: Identity,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError)
        -> (identity: Identity, grantsRemoved: Int)
    {
        guard let current = try await store.staticToken(named: name), let removed = try await store.revokeStaticToken(name) else {
            let typed = name.value.hasPrefix("token:") ? String(name.value.dropFirst(6)) : name.value
            throw .notFound("no token named '\(typed)'")
        }
        changed("revoked static token", by: op, ["identity": "\(current)", "grants_removed": "\(removed)"], logger)
        return (current, removed)
    }

    // MARK: Token issuance

    /// `POST /token`: checks the presigned GetCallerIdentity with STS (`TokenIssuer.exchange`) and
    /// seals a token for the identity it proves, the principal of the issuance.
    public func issueToken(
        exchanging request: SignedCallerIdentityRequest,
        requestedLifetime: Int64?,
        with issuer: TokenIssuer,
        logger: Logger
    ) async throws(RegistryError) -> (identity: Identity, token: String, expiresAt: Int64) {
        let issued = try await issuer.exchange(request, requestedLifetime: requestedLifetime)
        changed("issued token", by: issued.identity, ["expires_at": "\(issued.expiresAt)", "via": "GetCallerIdentity"], logger)
        return issued
    }

    /// `GET /token` behind an IAM-authorizing front end: seals a token for the caller the front end
    /// verified.
    public func issueToken(
        for caller: Principal,
        requestedLifetime: Int64?,
        with tokens: SealedTokens,
        logger: Logger
    ) async throws(RegistryError) -> (token: String, expiresAt: Int64) {
        let (token, expires) = try await tokens.issue(for: caller.identity, requested: requestedLifetime)
        changed("issued token", by: caller.identity, ["expires_at": "\(expires)", "via": "front end"], logger)
        return (token, expires)
    }

    // MARK: The change log

    /// The one log line of a state change, naming who made it (`by`). Audit events go here next.
    /// Never a token, a token's hash or a key in `metadata`.
    func changed(_ event: String, by principal: some CustomStringConvertible, _ metadata: Logger.Metadata, _ logger: Logger) {
        var metadata = metadata
        metadata["by"] = "\(principal)"
        logger.info("\(event)", metadata: metadata)
    }

    static func metadata(_ grant: Grant) -> Logger.Metadata {
        ["namespace": "\(grant.namespace)", "identity": "\(grant.identity)", "permissions": "\(grant.permissions)"]
    }

    private func discard(_ staged: StagedArchive) {
        _ = staged.path.withCString { unlink($0) }
    }
}

/// The archive side of a service built with `RegistryService.init(store:clock:)`: never reached by the
/// use cases such a service is for; any call is an internal error.
struct NoArchiveStorage: BlobStore, ArchiveCanonicalizer {
    var stagingDirectory: String { "/nonexistent" }
    var acceptsWrites: Bool { false }
    static var unavailable: RegistryError { .internalError("this service manages grants and tokens only; it has no archive storage") }
    func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation { throw Self.unavailable }
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) { throw Self.unavailable }
    func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? { throw Self.unavailable }
    func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? { throw Self.unavailable }
    func remove(_ location: ArchiveLocation) async throws(RegistryError) { throw Self.unavailable }
    func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        throw Self.unavailable
    }
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile { throw Self.unavailable }
    func isCanonicalKey(_ key: String) -> Bool { false }
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive { throw Self.unavailable }
}
