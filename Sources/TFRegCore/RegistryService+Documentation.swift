import Glibc
import Logging
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// Documentation: extracted once when a version is stored (publish, create, import-legacy, reindex),
/// kept as a content-addressed `.moduleDocs` blob (`ModuleDocs` as JSON) that the version record
/// names (`docsKey`), and only read on the read path. Nothing here can fail a publish: a documenter
/// that finds problems names them in the documents, and a blob that cannot be stored leaves the
/// version without documentation (logged), which `tfreg reindex` fills later.
extension RegistryService {
    /// What extraction produced for one archive: the documents (nil without a documenter) and, when
    /// they could be stored, the staged blob and where `put` stored it (settled once the record that
    /// references it exists).
    struct ExtractedDocs: Sendable {
        var docs: ModuleDocs?
        var staged: StagedArchive?
        var location: ArchiveLocation?

        static let none = ExtractedDocs()
    }

    /// Runs the documenter over a staged canonical archive and stores the result as a blob. Never
    /// throws: every failure is logged (without the archive's content) and leaves what could be done.
    func extractDocumentation(ofArchiveAt path: String, module: ModuleAddress, version: Version, logger: Logger) async -> ExtractedDocs {
        guard let documenter else { return .none }
        let docs = await documenter.documentation(ofArchiveAt: path)
        var out = ExtractedDocs(docs: docs)
        guard storage.acceptsWrites else { return out }
        let bytes = docs.jsonValue.serialized()
        guard bytes.count <= ModuleDocs.maximumJSONBytes else {
            logger.warning(
                "module documentation not stored: too large",
                metadata: ["module": "\(module)", "version": "\(version)", "bytes": "\(bytes.count)"]
            )
            return out
        }
        let stagedPath = storage.stagingDirectory + "/docs-\(getpid())-" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        do {
            try FileSystem.writeExclusive(stagedPath, bytes, mode: 0o600)
        } catch {
            logger.warning("module documentation not stored", metadata: ["module": "\(module)", "version": "\(version)", "error": "\(error)"])
            return out
        }
        let staged = StagedArchive(path: stagedPath, size: Int64(bytes.count), sha256: Hex.encode(SHA256.hash(bytes)))
        do {
            out.location = try await storage.put(staged, kind: .moduleDocs)
            out.staged = staged
        } catch {
            discard(staged)
            logger.warning(
                "module documentation not stored",
                metadata: ["module": "\(module)", "version": "\(version)", "error": "\(error.message)"]
            )
        }
        return out
    }

    /// After the record exists: the docs blob is confirmed (or removed from staging when unused).
    func settleDocumentation(_ extracted: ExtractedDocs, used: Bool, logger: Logger) async {
        guard let staged = extracted.staged else { return }
        guard used, let location = extracted.location else {
            discard(staged)
            return
        }
        do { try await storage.settle(staged, at: location) } catch {
            discard(staged)
            logger.warning("module documentation could not be settled", metadata: ["key": "\(location.key)", "error": "\(error.message)"])
        }
    }

    /// Keeps the README's words for search (the most recently stored version's). Never fails the
    /// change it follows: a failure is logged, and the next publish or reindex writes them again.
    func indexReadme(_ docs: ModuleDocs?, of module: ModuleAddress, logger: Logger) async {
        guard let readme = docs?.root.readme else { return }
        do { try await store.setReadmeWords(ModuleSearch.words(ofReadme: readme), of: module) } catch {
            logger.warning("README words not kept for search", metadata: ["module": "\(module)", "error": "\(error.message)"])
        }
    }

    /// The description a version is stored with: the publisher's, else the README's first paragraph.
    static func description(given: String?, docs: ModuleDocs?) -> String? {
        given ?? docs?.root.readme.flatMap(ModuleDocs.description(fromReadme:))
    }

    /// Whether `tfreg reindex` can read this version's archive as the registry's own canonical copy
    /// (a user's object, or one stored as uploaded, must go through `import-legacy` first).
    public func canReindex(_ record: ModuleVersionRecord) -> Bool {
        documenter != nil && !needsAdoption(record)
    }

    /// `tfreg reindex`: computes the documentation of a version stored without it (or again, with
    /// `force`) from its stored canonical archive, stores it and records it, with the README's
    /// description when the version has none. Returns the updated record; nil when there was nothing
    /// to do. Administrative: `op` runs the CLI on the store, no grant is checked.
    public func reindex(
        _ record: ModuleVersionRecord,
        force: Bool = false,
        maximumBytes: Int64,
        by op: LocalOperator,
        logger: Logger
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        guard force || record.docsKey == nil else { return nil }
        guard documenter != nil else { throw .internalError("reindex needs a documenter") }
        guard !needsAdoption(record) else {
            throw .badRequest(
                "\(record.module) \(record.version) is not stored as the registry's own canonical archive: run tfreg import-legacy first"
            )
        }
        guard let staged = try await storage.get(record.location, limit: maximumBytes) else {
            throw .notFound("the archive of \(record.module) \(record.version) is missing from the registry's storage")
        }
        let extracted = await extractDocumentation(ofArchiveAt: staged.path, module: record.module, version: record.version, logger: logger)
        discard(staged)
        guard let location = extracted.location else {
            await settleDocumentation(extracted, used: false, logger: logger)
            throw .unavailable("archive storage", detail: "the documentation of \(record.module) \(record.version) could not be stored")
        }
        let description = record.description == nil ? Self.description(given: nil, docs: extracted.docs) : nil
        let updated: ModuleVersionRecord?
        do {
            updated = try await store.setDocumentation(docsKey: location.key, description: description, version: record.version, of: record.module)
        } catch {
            await settleDocumentation(extracted, used: false, logger: logger)
            throw error
        }
        await settleDocumentation(extracted, used: updated != nil, logger: logger)
        guard let updated else { return nil }
        await indexReadme(extracted.docs, of: record.module, logger: logger)
        await changed(
            "reindexed module version",
            by: op,
            ["module": "\(record.module)", "version": "\(record.version)", "docs": "\(location.key)"],
            logger,
            action: AuditEvent.Action.reindex,
            namespace: record.module.namespace,
            target: "\(record.module)@\(record.version)"
        )
        return updated
    }

    /// The stored documentation of a version, nil when it has none or it cannot be read (logged: a
    /// detail page without documentation beats an error page).
    public func documentation(of record: ModuleVersionRecord, logger: Logger? = nil) async -> ModuleDocs? {
        guard let location = record.docsLocation else { return nil }
        do throws(RegistryError) {
            guard let staged = try await storage.get(location, limit: Int64(ModuleDocs.maximumJSONBytes)) else {
                logger?.warning("module documentation missing from storage", metadata: ["key": "\(location.key)"])
                return nil
            }
            defer { discard(staged) }
            guard let bytes = FileSystem.read(staged.path, limit: ModuleDocs.maximumJSONBytes) else {
                throw RegistryError.unavailable("archive storage", detail: "read \(staged.path)")
            }
            return try ModuleDocs(jsonBytes: bytes)
        } catch {
            logger?.warning("module documentation unreadable", metadata: ["key": "\(location.key)", "error": "\(error.message)"])
            return nil
        }
    }
}
