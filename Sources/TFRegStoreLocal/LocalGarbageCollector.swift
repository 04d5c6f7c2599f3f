import TFRegCore

/// `tfreg gc` for a local archive directory: stale staged uploads (what a killed process left in
/// `tmp/`) and stored files of any `BlobKind` no record references (deleted versions, uploads that
/// lost a race or were interrupted between storing the file and inserting the row).
public enum LocalGarbageCollector {
    public struct Report: Sendable, Equatable {
        public var unreferenced: [FileArchiveStorage.Unreferenced] = []
        public var removedArchives: Int = 0
        public var removedBytes: Int64 = 0
        public var staleStaging: [String] = []
        /// Archives an interrupted gc had moved aside and that a version references: put back.
        public var restored: [String] = []
    }

    /// Longer than any upload can take to stage and publish (the server's request timeouts are far shorter).
    public static let defaultGraceSeconds: Int64 = 3600

    /// Lists (and unless `dryRun` removes) what no version needs. Safe while `serve` runs: each
    /// removal re-checks the store after moving the file aside (see `FileArchiveStorage.removeUnreferenced`),
    /// and a staged upload whose writer is alive is never removed, so `settle` can always store the
    /// archive again if this removed it between a publish's `put` and its row. `graceSeconds` applies to
    /// archives, `stagingGraceSeconds` only to staged files whose writer cannot be told from their name
    /// (`tfreg gc --grace-seconds` does not shorten it). Overlapping runs are safe: each one leaves the
    /// other's moved-aside files alone while that process lives.
    public static func collect(
        store: any MetadataStore,
        storage: FileArchiveStorage,
        graceSeconds: Int64 = defaultGraceSeconds,
        stagingGraceSeconds: Int64 = defaultGraceSeconds,
        now: Int64,
        dryRun: Bool
    ) async throws(RegistryError) -> Report {
        var report = Report()
        let referenced = try await referencedKeys(store)
        // A gc killed between moving a file aside and deciding must not leave a version without it.
        if !dryRun { report.restored = storage.recoverInterruptedCollection(referenced: referenced) }
        report.unreferenced = storage.unreferencedArchives(referenced: referenced, graceSeconds: graceSeconds, now: now)
        guard !dryRun else { return report }
        report.staleStaging = storage.removeStaleStaging(olderThan: stagingGraceSeconds, now: now)
        for item in report.unreferenced {
            let removed = try await storage.removeUnreferenced(item.key) { () throws(RegistryError) -> Bool in
                try await referencedKeys(store).contains(item.key)
            }
            if removed {
                report.removedArchives += 1
                report.removedBytes += item.size
            }
        }
        return report
    }

    /// The keys of the registry's own storage that a record references, of every `BlobKind`: today
    /// the module versions' archives (whatever layout wrote them) and their documentation. A record
    /// kind that references blobs (provider packages) adds its locations here, or gc collects its files.
    static func referencedKeys(_ store: any MetadataStore) async throws(RegistryError) -> Set<String> {
        let versions = try await store.allVersions(in: nil)
        var keys = Set(versions.filter { $0.location.bucket == nil }.map(\.location.key) + versions.compactMap(\.docsKey))
        // Issue 20: provider zips, SHA256SUMS and signatures.
        for r in try await store.allProviderVersions(in: nil) {
            for blob in r.packages.map(\.zip) + [r.shasums, r.signature] where blob.location.bucket == nil { keys.insert(blob.location.key) }
        }
        return keys
    }
}
