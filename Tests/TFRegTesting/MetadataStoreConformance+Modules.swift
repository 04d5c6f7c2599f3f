import TFRegCore

/// The `ModuleStore` section: versions, precedence, tombstones, deprecation, archive replacement,
/// pagination and summaries.
extension MetadataStoreConformance {
    public static func moduleStore(_ store: any ModuleStore) async throws {
        try await versions(store)
        try await manyVersions(store)
        try await summaries(store)
        try await documentation(store)
        try await readmeWords(store)
        try await spellings(store)
        try await downloads(store)
        try await paging(store)  // issue 19, scale
    }

    /// Downloads are added to a module's summary atomically, read back by the point read and the
    /// listing, kept when the summary is rewritten by a publish; a module without a summary gets none.
    static func downloads(_ store: any ModuleStore) async throws {
        let ns = try Namespace("conf-downloads")
        let m = try ModuleAddress(namespace: ns.value, name: "vpc", system: "aws")
        let none = try ModuleAddress(namespace: ns.value, name: "nothing", system: "aws")
        try await store.insertVersion(record(m, "1.0.0", at: 10))
        try await expect(store.moduleSummary(of: m)?.downloads == 0, "no downloads yet")
        try await store.addDownloads(3, to: m)
        try await store.addDownloads(4, to: m)
        try await expect(store.moduleSummary(of: m)?.downloads == 7, "two adds")
        try await store.insertVersion(record(m, "1.1.0", at: 20))
        let s = try requireValue(try await store.moduleSummary(of: m), "the summary")
        try expect(s.downloads == 7 && s.latest.description == "1.1.0", "a publish keeps the count: \(s)")
        try await expect(store.moduleSummaries(in: ns).map(\.downloads) == [7], "the listing shows it")
        try await store.addDownloads(2, to: none)
        try await expect(store.moduleSummary(of: none) == nil, "no summary is created by an add")
        try await expect(store.moduleSummaries(in: ns).map(\.module) == [m], "nor listed")
    }

    /// Names are case-insensitive: `storedSpelling` finds a module and its namespace under any ASCII
    /// case, answers the asked spelling when it is stored so, and nothing for a different name or
    /// system (every store, from its summaries).
    static func spellings(_ store: any ModuleStore) async throws {
        let m = try ModuleAddress(namespace: "Conf-Case", name: "Vpc_Net", system: "aws")
        try await expect(store.storedSpelling(of: m) == nil, "nothing before the first publish")
        try await store.insertVersion(record(m, "1.0.0"))
        for asked in [("conf-case", "vpc_net"), ("CONF-CASE", "VPC_NET"), ("Conf-Case", "Vpc_Net"), ("conf-CASE", "vPC_nET")] {
            let a = try ModuleAddress(namespace: asked.0, name: asked.1, system: "aws")
            try await expect(store.storedSpelling(of: a) == m, "\(a) is stored as \(m)")
            try await expect(store.storedSpelling(of: a.namespace) == m.namespace, "namespace \(a.namespace) is stored as \(m.namespace)")
        }
        let dash = try ModuleAddress(namespace: "conf-case", name: "vpc-net", system: "aws")
        try await expect(store.storedSpelling(of: dash) == nil, "'-' is not '_'")
        let azure = try ModuleAddress(namespace: "conf-case", name: "vpc_net", system: "azure")
        try await expect(store.storedSpelling(of: azure) == nil, "another system")
        let elsewhere = try ModuleAddress(namespace: "conf-cases", name: "vpc_net", system: "aws")
        try await expect(store.storedSpelling(of: elsewhere) == nil, "another namespace")
        try await expect(store.storedSpelling(of: try Namespace("conf-cas")) == nil, "a prefix is another namespace")
    }

    /// SQLite and the in-memory store refuse a new second spelling inside `insertVersion` (atomic with
    /// the insert); a spelling that already has versions keeps publishing (data from before the rule).
    public static func refusesSecondSpelling(_ store: any ModuleStore) async throws {
        let m = try ModuleAddress(namespace: "Case-Atomic", name: "Vpc", system: "aws")
        try await store.insertVersion(record(m, "1.0.0"))
        for other in [("case-atomic", "vpc"), ("Case-Atomic", "VPC"), ("CASE-ATOMIC", "Vpc")] {
            let a = try ModuleAddress(namespace: other.0, name: other.1, system: "aws")
            do {
                try await store.insertVersion(record(a, "2.0.0"))
                try expect(false, "\(a) was stored beside \(m)")
            } catch let e as RegistryError {
                try expect(e.code == .conflict && e.message.contains("case-insensitive"), "\(a): \(e.message)")
            }
        }
        let newInOtherNamespaceSpelling = try ModuleAddress(namespace: "case-atomic", name: "dns", system: "aws")
        do {
            try await store.insertVersion(record(newInOtherNamespaceSpelling, "1.0.0"))
            try expect(false, "a new module under a second namespace spelling was stored")
        } catch let e as RegistryError {
            try expect(e.code == .conflict, "\(e)")
        }
        try await store.insertVersion(record(try ModuleAddress(namespace: "Case-Atomic", name: "dns", system: "aws"), "1.0.0"))
        try await store.insertVersion(record(try ModuleAddress(namespace: "Case-Atomic", name: "vpc", system: "azure"), "1.0.0"))
        try await store.insertVersion(record(m, "1.1.0"))
        try await expect(store.versions(of: m).count == 2, "the stored spelling keeps publishing")
        // Deleted versions keep the spelling reserved, as they keep their numbers.
        _ = try await store.tombstoneVersion(try Version("1.0.0"), of: m, at: 2, by: nil)
        _ = try await store.tombstoneVersion(try Version("1.1.0"), of: m, at: 2, by: nil)
        do {
            try await store.insertVersion(record(try ModuleAddress(namespace: "Case-Atomic", name: "vpc", system: "aws"), "3.0.0"))
            try expect(false, "a deleted module's spelling was taken over")
        } catch let e as RegistryError {
            try expect(e.code == .conflict, "\(e)")
        }
    }

    /// README words for search: kept per module, replaced by the next write, matched by every term,
    /// within one namespace; terms that look like query syntax are only words.
    static func readmeWords(_ store: any ModuleStore) async throws {
        let ns = try Namespace("conf-search")
        let a = try ModuleAddress(namespace: ns.value, name: "vpc", system: "aws")
        let b = try ModuleAddress(namespace: ns.value, name: "dns", system: "aws")
        let elsewhere = try ModuleAddress(namespace: "conf-search-2", name: "vpc", system: "aws")
        try await expect(store.modulesWithReadme(matching: ["subnets"], in: ns).isEmpty, "nothing is indexed in a new namespace")
        try await store.setReadmeWords("creates subnets across zones and route tables", of: a)
        try await store.setReadmeWords("private zones and records", of: b)
        try await store.setReadmeWords("subnets zones", of: elsewhere)
        try await expect(store.modulesWithReadme(matching: ["zones"], in: ns) == [a, b], "a word in both")
        try await expect(store.modulesWithReadme(matching: ["subnets", "zones"], in: ns) == [a], "every term must match")
        try await expect(store.modulesWithReadme(matching: ["subnet"], in: ns).isEmpty, "words match whole, not as prefixes")
        try await expect(store.modulesWithReadme(matching: ["and", "or", "near", "not"], in: ns).isEmpty, "operator words are words")
        try await store.setReadmeWords("replaced text", of: a)
        try await expect(store.modulesWithReadme(matching: ["subnets"], in: ns).isEmpty, "a new write replaces the words")
        try await expect(store.modulesWithReadme(matching: ["replaced"], in: ns) == [a], "and the new words are found")
        try await expect(store.modulesWithReadme(matching: ["subnets"], in: try Namespace("conf-search-2")) == [elsewhere], "per namespace")
    }

    /// What a version says about itself (description, source) and where its documentation blob is:
    /// stored with the version, set later by reindex (`setDocumentation`), shown by the summary.
    static func documentation(_ store: any ModuleStore) async throws {
        let ns = try Namespace("conf-docs")
        let m = try ModuleAddress(namespace: ns.value, name: "vpc", system: "aws")
        var first = try record(m, "1.0.0", at: 10)
        first.description = "Creates a VPC."
        first.source = "https://git.example.com/vpc"
        first.docsKey = "sha256/ab/" + String(repeating: "b", count: 62) + ".json"
        try await store.insertVersion(first)
        let read = try requireValue(try await store.version(try Version("1.0.0"), of: m), "the version")
        try expect(
            read.description == first.description && read.source == first.source && read.docsKey == first.docsKey,
            "description, source and docs key are stored with the version: \(read)"
        )
        let listed = try await store.versions(of: m).first?.docsKey
        let all = try await store.allVersions(in: ns).first?.source
        try expect(listed == first.docsKey && all == first.source, "every read of versions carries them")
        var s = try requireValue(try await store.moduleSummaries(in: ns).first, "the summary")
        try expect(s.description == "Creates a VPC." && s.source == first.source, "the summary shows the latest's description and source: \(s)")
        // A version stored before documentation existed, then reindexed.
        try await store.insertVersion(record(m, "1.1.0", at: 20))
        let bare = try requireValue(try await store.version(try Version("1.1.0"), of: m), "the second version")
        try expect(bare.description == nil && bare.source == nil && bare.docsKey == nil, "absent values read back as nil: \(bare)")
        s = try requireValue(try await store.moduleSummaries(in: ns).first, "the summary")
        try expect(s.latest.description == "1.1.0" && s.source == nil, "a latest without a source has none: \(s)")
        let key = "sha256/cd/" + String(repeating: "d", count: 62) + ".json"
        let set = try await store.setDocumentation(docsKey: key, description: "Reindexed.", version: try Version("1.1.0"), of: m)
        try expect(set?.docsKey == key && set?.description == "Reindexed." && set?.publishedAt == 20, "setDocumentation returns the updated record")
        try await expect(store.version(try Version("1.1.0"), of: m)?.docsKey == key, "the docs key is stored")
        s = try requireValue(try await store.moduleSummaries(in: ns).first, "the summary")
        try expect(s.description == "Reindexed.", "the summary follows the latest's new description: \(s)")
        let kept = try await store.setDocumentation(docsKey: key, description: nil, version: try Version("1.0.0"), of: m)
        try expect(kept?.description == "Creates a VPC." && kept?.source == first.source, "a nil description keeps the one stored")
        try await expect(
            store.setDocumentation(docsKey: key, description: nil, version: try Version("9.0.0"), of: m) == nil,
            "an unknown version is nil"
        )
    }

    static func versions(_ store: any ModuleStore) async throws {
        let m = try ModuleAddress(namespace: "conf", name: "net", system: "aws")
        let other = try ModuleAddress(namespace: "conf", name: "net", system: "google")
        try await expect(store.versions(of: m).isEmpty, "a new store has no versions")
        try await store.insertVersion(record(m, "1.0.0"))
        try await store.insertVersion(record(m, "1.1.0-rc.1"))
        try await store.insertVersion(record(other, "3.0.0"))
        do {
            try await store.insertVersion(record(m, "1.0.0"))
            throw ConformanceFailure("inserting an existing version must fail")
        } catch let e as RegistryError {
            try expect(e.code == .conflict, "duplicate insert must be .conflict, got \(e.code)")
        }
        let listed = try await store.versions(of: m)
        try expect(
            Set(listed.map(\.version.description)) == ["1.0.0", "1.1.0-rc.1"],
            "versions(of:) lists exactly the module's versions: \(listed.map(\.version))"
        )
        let one = try await store.version(try Version("1.1.0-rc.1"), of: m)
        try expect(
            one?.sha256 == String(repeating: "a", count: 64) && one?.location.key == "\(m)/1.1.0-rc.1/x.tar.gz" && one?.size == 10
                && one?.publishedBy == "token:t",
            "version(_:of:) returns every field as stored"
        )
        try await expect(store.version(try Version("9.9.9"), of: m) == nil, "unknown version is nil")
        try await expect(store.allVersions(in: try Namespace("conf")).count == 3, "allVersions(in:) covers the namespace")
        try await expect(store.allVersions(in: try Namespace("nothing")).isEmpty, "allVersions(in:) of an empty namespace")
        try await expect(store.allVersions(in: nil).count >= 3, "allVersions(in: nil) covers everything")
        // Build metadata does not make a new version: the store itself refuses a second 1.0.0.
        do {
            try await store.insertVersion(record(m, "1.0.0+build.2"))
            throw ConformanceFailure("inserting a version of an existing precedence must fail")
        } catch let e as RegistryError {
            try expect(e.code == .conflict, "same-precedence insert must be .conflict, got \(e.code)")
        }
        // Deprecation: set, read back in every listing, cleared.
        let mark = Deprecation(reason: "use 1.1.0: CVE-2026-1", replacement: "1.1.0", at: 77, by: "token:t")
        let marked = try await store.setDeprecation(mark, version: try Version("1.0.0"), of: m)
        try expect(marked?.deprecation == mark, "setDeprecation returns the marked record")
        try await expect(store.version(try Version("1.0.0"), of: m)?.deprecation == mark, "version(_:of:) carries the deprecation")
        try await expect(
            store.versions(of: m).first { $0.version.description == "1.0.0" }?.deprecation == mark,
            "versions(of:) carries the deprecation"
        )
        try await expect(
            store.allVersions(in: try Namespace("conf")).first { $0.version.description == "1.0.0" }?.deprecation == mark,
            "allVersions carries the deprecation"
        )
        try await expect(store.setDeprecation(nil, version: try Version("1.0.0"), of: m)?.deprecation == nil, "a deprecation can be cleared")
        try await expect(store.setDeprecation(mark, version: try Version("9.9.9"), of: m) == nil, "deprecating an unknown version is nil")
        // An archive can be swapped for the registry's own copy, only from the location it has now.
        let current = try requireValue(await store.version(try Version("1.1.0-rc.1"), of: m))
        let mine = ArchiveLocation(key: "sha256/bb/" + String(repeating: "b", count: 64) + ".tar.gz")
        try await expect(
            !store.replaceArchive(of: try Version("1.1.0-rc.1"), of: m, from: mine, to: mine, sha256: "c", size: 1),
            "replaceArchive checks the current location"
        )
        try await expect(
            store.replaceArchive(
                of: try Version("1.1.0-rc.1"),
                of: m,
                from: current.location,
                to: mine,
                sha256: String(repeating: "b", count: 64),
                size: 7
            ),
            "replaceArchive from the current location"
        )
        let swapped = try await store.version(try Version("1.1.0-rc.1"), of: m)
        try expect(
            swapped?.location == mine && swapped?.sha256 == String(repeating: "b", count: 64) && swapped?.size == 7,
            "replaceArchive stores every field: \(String(describing: swapped))"
        )
        // Delete leaves a tombstone that keeps the number (and its precedence) reserved.
        let removed = try await store.tombstoneVersion(try Version("1.0.0"), of: m, at: 99, by: "token:t")
        try expect(removed?.version.description == "1.0.0", "tombstoneVersion returns the removed record")
        try await expect(store.tombstoneVersion(try Version("1.0.0"), of: m, at: 100, by: nil) == nil, "deleting twice returns nil")
        try await expect(store.versions(of: m).map(\.version.description) == ["1.1.0-rc.1"], "deleted version is gone")
        try await expect(store.version(try Version("1.0.0"), of: m) == nil, "deleted version is not found")
        let stones = try await store.tombstones(of: m)
        try expect(
            stones.map(\.version.description) == ["1.0.0"] && stones.first?.deletedAt == 99 && stones.first?.deletedBy == "token:t",
            "the tombstone records what was deleted, when and by whom: \(stones)"
        )
        for reuse in ["1.0.0", "1.0.0+again"] {
            do {
                try await store.insertVersion(record(m, reuse))
                throw ConformanceFailure("re-publishing deleted \(reuse) must fail")
            } catch let e as RegistryError {
                try expect(e.code == .conflict, "re-publishing a deleted number must be .conflict, got \(e.code)")
            }
        }
        try await expect(store.tombstones(of: other).isEmpty, "tombstones are per module")
    }

    /// A namespace with many versions lists completely (stores that paginate must follow every page).
    static func manyVersions(_ store: any ModuleStore) async throws {
        let m = try ModuleAddress(namespace: "conf-many", name: "big", system: "aws")
        for i in 0..<1500 { try await store.insertVersion(record(m, "1.\(i).0")) }
        try await expect(store.versions(of: m).count == 1500, "all 1500 versions are listed")
        try await expect(store.allVersions(in: m.namespace).count == 1500, "allVersions lists all 1500")
        let summaries = try await store.moduleSummaries(in: m.namespace)
        try expect(
            summaries.map(\.versionCount) == [1500] && summaries.first?.latest.description == "1.1499.0",
            "one summary for 1500 versions: \(summaries.map { ($0.latest, $0.versionCount) })"
        )
    }

    /// Module summaries follow every change to the versions, in the same write.
    static func summaries(_ store: any ModuleStore) async throws {
        let ns = try Namespace("conf-sum")
        let m = try ModuleAddress(namespace: ns.value, name: "net", system: "aws")
        let early = try ModuleAddress(namespace: ns.value, name: "a-net", system: "aws")
        let pre = try ModuleAddress(namespace: ns.value, name: "pre", system: "aws")
        func summary(_ module: ModuleAddress) async throws -> ModuleSummary? {
            try await store.moduleSummaries(in: module.namespace).first { $0.module == module }
        }
        try await expect(store.moduleSummaries(in: ns).isEmpty, "a namespace without modules has no summaries")
        try await store.insertVersion(record(m, "1.0.0", at: 10))
        try await store.insertVersion(record(m, "1.1.0-rc.1", at: 20))
        var s = try requireValue(try await summary(m), "summary after publish")
        try expect(
            s.latest.description == "1.0.0" && s.versionCount == 2 && s.latestPublishedAt == 10 && s.latestPublishedBy == "token:t"
                && s.updatedAt == 20 && !s.latestDeprecated && s.description.isEmpty && s.downloads == 0,
            "the latest is the highest release, the count and times follow: \(s)"
        )
        try await expect(store.summaryNamespaces().contains(ns), "the namespace is in the directory")
        try await store.insertVersion(record(pre, "2.0.0-beta.1", at: 5))
        try await store.insertVersion(record(pre, "2.0.0-beta.2", at: 6))
        try await expect(summary(pre)?.latest.description == "2.0.0-beta.2", "without a release the highest pre-release is the latest")
        try await store.insertVersion(record(early, "0.1.0", at: 1))
        try await expect(
            store.moduleSummaries(in: ns).map(\.module) == [early, m, pre],
            "summaries are sorted by module"
        )
        try await store.insertVersion(record(m, "1.2.0", at: 30))
        s = try requireValue(try await summary(m), "summary after a second release")
        try expect(s.latest.description == "1.2.0" && s.versionCount == 3 && s.updatedAt == 30, "a new release becomes the latest: \(s)")
        let mark = Deprecation(reason: "old", replacement: nil, at: 40, by: "token:t")
        _ = try await store.setDeprecation(mark, version: try Version("1.0.0"), of: m)
        try await expect(summary(m)?.latestDeprecated == false, "deprecating another version leaves the latest's flag")
        _ = try await store.setDeprecation(mark, version: try Version("1.2.0"), of: m)
        try await expect(summary(m)?.latestDeprecated == true, "deprecating the latest sets the flag")
        _ = try await store.setDeprecation(nil, version: try Version("1.2.0"), of: m)
        try await expect(summary(m)?.latestDeprecated == false, "clearing the mark clears the flag")
        _ = try await store.tombstoneVersion(try Version("1.2.0"), of: m, at: 50, by: "token:t")
        s = try requireValue(try await summary(m), "summary after deleting the latest")
        try expect(s.latest.description == "1.0.0" && s.versionCount == 2 && s.updatedAt == 20, "deleting the latest falls back: \(s)")
        let moved = try await store.replaceArchive(
            of: try Version("1.0.0"),
            of: m,
            from: ArchiveLocation(key: "\(m)/1.0.0/x.tar.gz"),
            to: ArchiveLocation(key: "moved.tar.gz"),
            sha256: String(repeating: "b", count: 64),
            size: 11
        )
        try expect(moved, "the archive was replaced")
        try await expect(summary(m) == s, "replacing an archive leaves the summary as it was")
        try await store.refreshSummary(of: m)
        try await expect(summary(m) == s, "refreshing an up-to-date summary changes nothing")
        _ = try await store.tombstoneVersion(try Version("1.0.0"), of: m, at: 60, by: nil)
        _ = try await store.tombstoneVersion(try Version("1.1.0-rc.1"), of: m, at: 61, by: nil)
        try await expect(summary(m) == nil, "a module whose versions are all deleted has no summary")
        try await expect(store.moduleSummaries(in: ns).map(\.module) == [early, pre], "the other modules stay")
        try await store.refreshSummary(of: m)
        try await expect(summary(m) == nil, "refreshing a module without versions writes nothing")
    }
}
