import Glibc
import Logging
import TFRegSystem

/// Reading: versions, downloads and listings, each authorized for the caller.
extension RegistryService {
    // MARK: Reading

    /// Versions of a module, highest precedence first.
    /// Under another ASCII-case spelling of a stored module (`Acme/VPC/aws` for `acme/vpc/aws`) the
    /// answer is the stored module's, authorized on its stored namespace (a grant on `acme` reads
    /// `Acme/…`; a grant on `Acme` alone reads nothing of `acme`).
    public func versions(of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> [ModuleVersionRecord] {
        let records: [ModuleVersionRecord]
        do {
            try await authorize(caller, .download, in: module.namespace)
            records = try await store.versions(of: module)
        } catch  where error.code == .forbidden {
            // Refused under both spellings: the first refusal, which names nothing stored.
            guard let stored = try await otherSpelling(of: module) else { throw error }
            do { return try await versions(of: stored, caller: caller) } catch let refused where refused.code == .forbidden { throw error }
        }
        guard !records.isEmpty else {
            let missing = RegistryError.notFound("module \(module) not found")
            guard let stored = try await otherSpelling(of: module) else { throw missing }
            do { return try await versions(of: stored, caller: caller) } catch let refused where refused.code == .forbidden { throw missing }
        }
        return Self.byPrecedence(records)
    }

    /// Highest precedence first. A list already in that order (a store that caches its lists sorted)
    /// is returned as it is: the check compares in place, where sorting copied every record on every
    /// versions answer.
    static func byPrecedence(_ records: [ModuleVersionRecord]) -> [ModuleVersionRecord] {
        var i = records.startIndex
        while i + 1 < records.endIndex, !(records[i].version < records[i + 1].version) { i += 1 }
        return i + 1 >= records.endIndex ? records : records.sorted { $1.version < $0.version }
    }

    public func version(_ version: Version, of module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> ModuleVersionRecord {
        let found: ModuleVersionRecord?
        do {
            try await authorize(caller, .download, in: module.namespace)
            found = try await store.version(version, of: module)
        } catch  where error.code == .forbidden {
            guard let stored = try await otherSpelling(of: module) else { throw error }
            do { return try await self.version(version, of: stored, caller: caller) } catch let refused where refused.code == .forbidden {
                throw error
            }
        }
        guard let record = found else {
            let missing = RegistryError.notFound("version \(version) of module \(module) not found")
            guard let stored = try await otherSpelling(of: module) else { throw missing }
            do { return try await self.version(version, of: stored, caller: caller) } catch let refused where refused.code == .forbidden {
                throw missing
            }
        }
        return record
    }

    /// The stored spelling of `module` when it differs from the asked one (nil when the module is
    /// stored as asked, or not at all): only on the miss path, so exact reads cost nothing more.
    func otherSpelling(of module: ModuleAddress) async throws(RegistryError) -> ModuleAddress? {
        guard let stored = try await store.storedSpelling(of: module), stored != module else { return nil }
        return stored
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

    /// The latest of a list of records, nil when it is empty.
    public static func latestRecordIfAny(_ records: [ModuleVersionRecord]) -> ModuleVersionRecord? {
        latest(records)
    }

    /// The highest release, else the highest prerelease; of equal precedence the first. One pass that
    /// copies one record (it runs on every versions answer: filtering into a new array copied them all).
    static func latest(_ records: [ModuleVersionRecord]) -> ModuleVersionRecord? {
        var release: Int?
        var any: Int?
        for i in records.indices {
            let v = records[i].version
            if any.map({ records[$0].version < v }) ?? true { any = i }
            if !v.isPrerelease, release.map({ records[$0].version < v }) ?? true { release = i }
        }
        return (release ?? any).map { records[$0] }
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
            let delivery = try await storage.delivery(of: record.location, sha256: record.sha256, expiresIn: expiresIn)
            // Counted in memory only (no store call on this path): `DownloadCounter` flushes later.
            downloadCounter?.record(record.module)
            return (record, delivery)
        } catch  where error.code == .upstreamMismatch {
            // The storage names the object; the client is told which version's archive it is.
            throw RegistryError(error.code, "the archive of \(module) \(version): \(error.message)", detail: error.detail)
        }
    }

    /// Lists modules the caller may download, filtered and paged, from the stores' module summaries:
    /// the reads per page grow with the number of namespaces and with offset + limit, never with
    /// modules or versions (each namespace gives only the first summaries the page still needs,
    /// `ModuleStore.moduleSummaries(in:system:first:)`). One namespace: its grant and one summaries read. Every namespace: the namespace directory, then per
    /// namespace in order the caller's grant (deny by default: no grant with `download`, not listed)
    /// and its summaries, until the page and one more item are found. The order is the modules'
    /// (`ns/name/system`), as before summaries existed.
    public func list(_ query: ModuleQuery, caller: Principal?) async throws(RegistryError) -> Page<ModuleSummary> {
        guard let caller else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
        let limit = min(max(query.limit, 1), ModuleQuery.maximumLimit)
        // Clamped so that offset + limit + 1 cannot overflow whoever calls (the API allows 10⁶).
        let offset = min(max(query.offset, 0), Int.max / 4)
        let namespaces: [Namespace]
        if let ns = query.namespace {
            try await authorize(caller, .download, in: ns)
            namespaces = [ns]
        } else {
            // `ns/` sorts as the module addresses that begin with it do ('-' sorts before '/').
            namespaces = try await store.summaryNamespaces().sorted { $0.value + "/" < $1.value + "/" }
        }
        if let text = query.text {
            return try await search(text, query, namespaces: namespaces, caller: caller, offset: offset, limit: limit)
        }
        var skipped = 0
        var items: [ModuleSummary] = []
        var more = false
        for ns in namespaces where !more {
            if query.namespace == nil {
                guard try await store.grant(for: caller.identity, in: ns)?.permissions.download == true else { continue }
            }
            // Only what the page still needs from this namespace: what is left to skip, the free
            // places and one more (which says a next page exists).
            let wanted = ModuleSearch.wanted(offset: offset - skipped, limit: limit - items.count)
            for summary in try await store.moduleSummaries(in: ns, system: query.system, first: wanted) {
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

    /// `list` with a search text, ranked (`ModuleSearch.rank`: address > description > README) then by
    /// module. Each namespace the caller may download from (its grant first) gives its best
    /// offset + limit + 1 matches (`ModuleStore.searchModules`), merged into one top-K of that size:
    /// memory is bounded by the page, and the reads per namespace by what its store's index allows
    /// (SQLite: one query whose rows are the matches; DynamoDB: the namespace's summaries and README
    /// words, one Query each).
    func search(
        _ text: String,
        _ query: ModuleQuery,
        namespaces: [Namespace],
        caller: Principal,
        offset: Int,
        limit: Int
    ) async throws(RegistryError) -> Page<ModuleSummary> {
        let terms = ModuleSearch.terms(text)
        var top = ModuleSearch.TopK(capacity: ModuleSearch.wanted(offset: offset, limit: limit))
        for ns in namespaces {
            if query.namespace == nil {
                guard try await store.grant(for: caller.identity, in: ns)?.permissions.download == true else { continue }
            }
            let hits = try await store.searchModules(terms: terms, rawText: text, in: ns, system: query.system, first: top.capacity)
            for hit in hits { top.insert(hit) }
        }
        let ranked = top.hits
        let items = ranked.dropFirst(offset).prefix(limit).map(\.summary)
        return Page(
            items: Array(items),
            offset: offset,
            limit: limit,
            nextOffset: ranked.count > offset + limit ? offset + limit : nil,
            previousOffset: offset > 0 ? max(0, offset - limit) : nil
        )
    }
}
