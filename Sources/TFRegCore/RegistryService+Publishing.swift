import Glibc
import Logging
import TFRegSystem

/// Writing versions: publish, register, adopt (import-legacy), delete, deprecate.
extension RegistryService {
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
        details: PublishDetails = PublishDetails(),
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord {
        let grant: Grant
        let checked: PublishDetails
        do {
            grant = try await authorizeUpload(module, caller: caller)
            checked = try details.validated()
        } catch {
            discard(staged)
            throw error
        }
        let canonical: StagedArchive
        do throws(RegistryError) {
            try await checkSpelling(of: module, caller: caller)
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
        // Documentation, from the canonical bytes `terraform init` will install; never fails the publish.
        let extracted = await extractDocumentation(ofArchiveAt: canonical.path, module: module, version: version, logger: logger)
        let location: ArchiveLocation
        do {
            location = try await storage.put(canonical, kind: .moduleArchive)
        } catch {
            discard(canonical)
            await settleDocumentation(extracted, used: false, logger: logger)
            throw error
        }
        let record = ModuleVersionRecord(
            module: module,
            version: version,
            location: location,
            sha256: canonical.sha256,
            size: canonical.size,
            publishedAt: clock.now(),
            publishedBy: grant.identity.value,
            description: Self.description(given: checked.description, docs: extracted.docs),
            source: checked.source,
            docsKey: extracted.location?.key
        )
        do {
            try await store.insertVersion(record)
        } catch {
            // The archive may be shared with another version of the same bytes: `gc` decides.
            discard(canonical)
            await settleDocumentation(extracted, used: false, logger: logger)
            if error.code == .conflict { try await checkVersionIsFree(version, of: module) }
            throw error
        }
        await settleDocumentation(extracted, used: true, logger: logger)
        await indexReadme(extracted.docs, of: module, logger: logger)
        try await storage.settle(canonical, at: location)
        await changed(
            "published module version",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)", "sha256": "\(canonical.sha256)"],
            logger,
            action: AuditEvent.Action.publish,
            namespace: module.namespace,
            target: "\(module)@\(version)"
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
        var docsKey = record.docsKey
        var description = record.description
        if record.docsKey == nil {
            // The version's documentation, from the copy just made (failures are logged, not fatal).
            let extracted = await extractDocumentation(ofArchiveAt: canonical.path, module: record.module, version: record.version, logger: logger)
            if let docs = extracted.location {
                let text = record.description == nil ? Self.description(given: nil, docs: extracted.docs) : nil
                let set = try? await store.setDocumentation(docsKey: docs.key, description: text, version: record.version, of: record.module)
                await settleDocumentation(extracted, used: set != nil, logger: logger)
                if let set {
                    docsKey = set.docsKey
                    description = set.description
                }
            }
        }
        try await storage.settle(canonical, at: location)
        await changed(
            "imported legacy version",
            by: op,
            [
                "module": "\(record.module)", "version": "\(record.version)",
                "from": "\(record.location.bucket.map { "s3://\($0)/" } ?? "")\(record.location.key)", "sha256": "\(c.sha256)",
            ],
            logger,
            action: AuditEvent.Action.importLegacy,
            namespace: record.module.namespace,
            target: "\(record.module)@\(record.version)"
        )
        var updated = record
        updated.location = location
        updated.sha256 = c.sha256
        updated.size = c.size
        updated.docsKey = docsKey
        updated.description = description
        return updated
    }

    /// Reads an object a user stored (`create`) once, verifies it against `expectedSHA256`, and stages
    /// its bytes so the registry publishes its own copy; nil when the storage cannot hold copies (an
    /// S3 storage without a bucket of its own: the version then references the object). S3's record
    /// of the checksum is checked first (no download for a wrong one), then the bytes read decide: an
    /// object replaced between the two reads is refused.
    /// A staged copy of the caller's S3 object at `location` whose bytes have the SHA-256 the caller
    /// expects (checked on S3's record and again on the bytes read), at most `limit` bytes; nil when
    /// the storage only registers objects where they are (no registry bucket).
    public func importCopy(of location: ArchiveLocation, expectedSHA256: String, limit: Int64) async throws(RegistryError) -> StagedArchive? {
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

    /// `upload` on the module's namespace as spelled. Refused there, but allowed on the namespace as
    /// stored (a grant on `acme`, a publish to `ACME/…`): the 409 that says which spelling to use,
    /// rather than a 403 about a namespace the caller never meant.
    public func authorizeUpload(_ module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> Grant {
        do {
            return try await authorize(caller, .upload, in: module.namespace)
        } catch  where error.code == .forbidden {
            if let ns = try await store.storedSpelling(of: module.namespace), ns != module.namespace,
                (try? await authorize(caller, .upload, in: ns)) != nil
            {
                try await checkSpelling(of: module, caller: caller)
            }
            throw error
        }
    }

    /// `.conflict` when `module` would be a second spelling of a stored module or namespace (names are
    /// compared ignoring ASCII case, as Terraform compares registry addresses; the first publish's
    /// spelling stays). The stored spelling is named only to a caller who may download there;
    /// anyone else learns only that one exists. SQLite and the in-memory store also refuse it inside
    /// `insertVersion`, atomically; on DynamoDB two first publishes racing under two spellings can
    /// both win (then both stay readable under their own spelling, as data from before this check).
    func checkSpelling(of module: ModuleAddress, caller: Principal?) async throws(RegistryError) {
        let clash: (stored: String, namespace: Namespace)
        if let stored = try await otherSpelling(of: module) {
            clash = ("module \(stored)", stored.namespace)
        } else if let ns = try await store.storedSpelling(of: module.namespace), ns != module.namespace {
            clash = ("namespace \(ns)", ns)
        } else {
            return
        }
        guard (try? await authorize(caller, .download, in: clash.namespace)) != nil else {
            throw .conflict("\(module) is another spelling of an existing name (names are case-insensitive); use the existing spelling")
        }
        throw .conflict("\(module) is another spelling of \(clash.stored) (names are case-insensitive): use that spelling")
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
        details: PublishDetails = PublishDetails(),
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord {
        let grant = try await authorizeUpload(module, caller: caller)
        let checked = try details.validated()
        try await checkSpelling(of: module, caller: caller)
        try await checkVersionIsFree(version, of: module)
        let name = "s3://\(location.bucket ?? "")/\(location.key)"
        if let staged = try await importCopy(of: location, expectedSHA256: expectedSHA256, limit: maximumBytes) {
            let record = try await publish(staged, version: version, of: module, caller: caller, details: checked, logger: logger)
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
            publishedBy: grant.identity.value,
            description: checked.description,
            source: checked.source
        )
        try await store.insertVersion(record)
        await changed(
            "registered module version",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)", "sha256": "\(actual)", "bucket": "\(location.bucket ?? "")"],
            logger,
            action: AuditEvent.Action.register,
            namespace: module.namespace,
            target: "\(module)@\(version)"
        )
        return record
    }

    /// Deletes a version (needs `upload`): the row becomes a tombstone that keeps the number
    /// reserved. No archive is unlinked here (another version may share the bytes, and a publish of
    /// the same bytes may be under way); `tfreg gc` removes archives no version references.
    public func deleteVersion(_ version: Version, of module: ModuleAddress, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let grant = try await authorize(caller, .upload, in: module.namespace)
        let missing = RegistryError.notFound("version \(version) of module \(module) not found")
        var module = module
        if try await store.tombstoneVersion(version, of: module, at: clock.now(), by: grant.identity.value) == nil {
            // Another spelling of the module (`Vpc` for `vpc`), looked up only once authorized.
            guard let stored = try await storedSpellingForWrite(of: module, caller: caller),
                try await store.tombstoneVersion(version, of: stored, at: clock.now(), by: grant.identity.value) != nil
            else { throw missing }
            module = stored
        }
        await changed(
            "deleted module version",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)"],
            logger,
            action: AuditEvent.Action.deleteVersion,
            namespace: module.namespace,
            target: "\(module)@\(version)"
        )
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
        let mark = try reason.map { r throws(RegistryError) in
            try Deprecation.checked(reason: r, replacement: replacement, at: clock.now(), by: grant.identity.value)
        }
        let missing = RegistryError.notFound("version \(version) of module \(module) not found")
        var module = module
        var found = try await store.setDeprecation(mark, version: version, of: module)
        if found == nil {
            // Another spelling of the module (`Vpc` for `vpc`), looked up only once authorized.
            guard let stored = try await storedSpellingForWrite(of: module, caller: caller) else { throw missing }
            found = try await store.setDeprecation(mark, version: version, of: stored)
            module = stored
        }
        guard let record = found else { throw missing }
        await changed(
            mark == nil ? "version undeprecated" : "version deprecated",
            by: grant.identity,
            ["module": "\(module)", "version": "\(version)"],
            logger,
            action: mark == nil ? AuditEvent.Action.undeprecate : AuditEvent.Action.deprecate,
            namespace: module.namespace,
            target: "\(module)@\(version)"
        )
        return record
    }

    /// The stored spelling of a module a write names in another letter case, when the caller may
    /// upload in its stored namespace too (else nil: the write answers 404 as for a missing module,
    /// naming nothing stored). Only called after the caller was authorized on the asked namespace.
    func storedSpellingForWrite(of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> ModuleAddress? {
        guard let stored = try await otherSpelling(of: module) else { return nil }
        if stored.namespace != module.namespace {
            do { _ = try await authorize(caller, .upload, in: stored.namespace) } catch  where error.code == .forbidden { return nil }
        }
        return stored
    }

    func discard(_ staged: StagedArchive) {
        _ = staged.path.withCString { unlink($0) }
    }
}
