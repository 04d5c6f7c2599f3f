import TFRegCore

/// One behavioural suite every `MetadataStore` must pass: `InMemoryMetadataStore` (TFRegCoreTests),
/// SQLite (TFRegStoreLocalTests) and DynamoDB on moto (IntegrationTests).
/// Each check throws `ConformanceFailure` describing the first broken expectation.
public struct ConformanceFailure: Error, CustomStringConvertible {
    public let description: String
    init(_ d: String) { description = d }
}

public enum MetadataStoreConformance {
    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw ConformanceFailure(message()) }
    }

    static func requireValue<T>(_ value: T?, _ what: String = "value") throws -> T {
        guard let value else { throw ConformanceFailure("expected a \(what)") }
        return value
    }

    static func record(_ m: ModuleAddress, _ v: String, at: Int64 = 1) throws -> ModuleVersionRecord {
        ModuleVersionRecord(
            module: m,
            version: try Version(v),
            location: ArchiveLocation(key: "\(m)/\(v)/x.tar.gz"),
            sha256: String(repeating: "a", count: 64),
            size: 10,
            publishedAt: at,
            publishedBy: "token:t"
        )
    }

    /// Writes a grant the way data from before token ids looks (`token:NAME`, not checked against any
    /// token): older tfreg's items in DynamoDB, rows the SQLite migration left as orphans.
    public typealias LegacyGrantWriter = @Sendable (Grant) async throws -> Void

    /// Runs every check against a fresh, empty store.
    public static func run(_ store: any MetadataStore, writeLegacyGrant: LegacyGrantWriter) async throws {
        try await versions(store)
        try await grants(store)
        try await tokens(store)
        try await tokenBinding(store)
        try await orphans(store, writeLegacyGrant)
        try await manyVersions(store)
        try await summaries(store)
    }

    static func versions(_ store: any MetadataStore) async throws {
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

    static func grants(_ store: any MetadataStore) async throws {
        let ns = try Namespace("conf-grants")
        let role = try Identity("arn:aws:iam::123456789012:role/deployer")
        let perms = Permissions(download: true, upload: false, createGrant: true, deleteGrant: false)
        try await expect(store.grant(for: role, in: ns) == nil, "no grant before create")
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: perms), mode: .create)
        try await expect(store.grant(for: role, in: ns)?.permissions == perms, "grant round-trips its permissions")
        do {
            try await store.putGrant(Grant(namespace: ns, identity: role, permissions: .none), mode: .create)
            throw ConformanceFailure("create over an existing grant must fail")
        } catch let e as RegistryError { try expect(e.code == .conflict, "create over existing is .conflict") }
        do {
            try await store.putGrant(Grant(namespace: try Namespace("elsewhere"), identity: role, permissions: .none), mode: .update)
            throw ConformanceFailure("update of a missing grant must fail")
        } catch let e as RegistryError { try expect(e.code == .notFound, "update of missing is .notFound") }
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: Permissions(upload: true)), mode: .update)
        try await expect(store.grant(for: role, in: ns)?.permissions == Permissions(upload: true), "update replaces permissions")
        let ns2 = try Namespace("conf-grants-2")
        try await store.putGrant(Grant(namespace: ns2, identity: role, permissions: Permissions(download: true)), mode: .upsert)
        try await expect(store.grants(for: role).map(\.namespace) == [ns, ns2], "grants(for:) lists every namespace, sorted")
        try await expect(store.grants(in: ns).map(\.identity) == [role], "grants(in:) lists the namespace")
        try await expect(store.deleteGrant(for: role, in: ns), "delete returns true")
        try await expect(!(store.deleteGrant(for: role, in: ns)), "delete again returns false")
        try await expect(store.grant(for: role, in: ns) == nil, "deleted grant is gone")
    }

    static func tokens(_ store: any MetadataStore) async throws {
        let id = try Identity.token(named: "ci")
        let hash = String(repeating: "b", count: 64)
        let bound = try await store.createStaticToken(id, hash: hash, createdAt: 5)
        try expect(bound.tokenName == id && bound.tokenID != nil, "a new token has an id: \(bound)")
        try await expect(store.staticTokenIdentity(hash: hash) == bound, "token digest resolves to its identity")
        try await expect(store.staticToken(named: id) == bound, "the name resolves to the token holding it")
        try await expect(store.staticTokenIdentity(hash: String(repeating: "c", count: 64)) == nil, "unknown digest is nil")
        do {
            try await store.createStaticToken(id, hash: String(repeating: "d", count: 64), createdAt: 6)
            throw ConformanceFailure("a second token with the same name must fail")
        } catch let e as RegistryError { try expect(e.code == .conflict, "duplicate token name is .conflict") }
        try await store.putGrant(Grant(namespace: try Namespace("conf-tok"), identity: id, permissions: Permissions(download: true)), mode: .create)
        try await store.putGrant(
            Grant(namespace: try Namespace("conf-tok-2"), identity: bound, permissions: Permissions(upload: true)),
            mode: .create
        )
        try await expect(store.grants(for: bound).map(\.namespace.value) == ["conf-tok", "conf-tok-2"], "grants by name or by id land on the token")
        try await expect(store.revokeStaticToken(id) == 2, "revoking says how many grants it removed")
        try await expect(store.staticTokenIdentity(hash: hash) == nil, "revoked token no longer resolves")
        try await expect(store.staticToken(named: id) == nil, "a revoked name resolves to nothing")
        try await expect(store.grants(for: bound).isEmpty, "revoking removes the token's grants")
        try await expect(store.revokeStaticToken(id) == nil, "revoking again is nil")
    }

    static func refused(_ code: RegistryError.Code, _ what: String, _ body: () async throws -> Void) async throws {
        do {
            try await body()
            throw ConformanceFailure("\(what) must fail")
        } catch let e as RegistryError {
            try expect(e.code == code, "\(what) must be .\(code), got \(e)")
        }
    }

    /// Grants belong to one token, never to a name: the two attacks of "Trust II" item 7.
    static func tokenBinding(_ store: any MetadataStore) async throws {
        let ns = try Namespace("conf-bind")
        let newhire = try Identity.token(named: "newhire")
        // 1. A grant for a token that does not exist yet is refused, so it cannot wait for one.
        try await refused(.notFound, "a grant for a token that does not exist") {
            try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true, upload: true)), mode: .create)
        }
        try await refused(.notFound, "an upsert for a token that does not exist") {
            try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true)), mode: .upsert)
        }
        try await expect(store.grants(in: ns).isEmpty, "the refused grant was not stored")
        let first = try await store.createStaticToken(newhire, hash: String(repeating: "1", count: 64), createdAt: 1)
        try await expect(store.grants(for: first).isEmpty, "a new token starts with no grants")
        try await store.putGrant(Grant(namespace: ns, identity: newhire, permissions: Permissions(download: true, upload: true)), mode: .create)
        try await expect(store.grant(for: first, in: ns)?.permissions == Permissions(download: true, upload: true), "the grant is the token's")
        try await expect(store.grant(for: newhire, in: ns) == nil, "nothing is stored under the bare name")
        // 2. Revoke, then a new token under the same name: it has no grants, and the old id is refused.
        try await expect(store.revokeStaticToken(newhire) == 1, "revoke removes the one grant")
        let second = try await store.createStaticToken(newhire, hash: String(repeating: "2", count: 64), createdAt: 2)
        try expect(second != first && second.tokenName == first.tokenName, "the new token has a new id: \(first) then \(second)")
        try await expect(store.staticTokenIdentity(hash: String(repeating: "2", count: 64)) == second, "the new token authenticates as itself")
        try await expect(store.grants(for: second).isEmpty, "the new token inherits nothing")
        try await expect(store.grant(for: second, in: ns) == nil, "the new token has no grant in the namespace")
        try await refused(.notFound, "a grant for the revoked token's id") {
            try await store.putGrant(Grant(namespace: ns, identity: first, permissions: Permissions(download: true)), mode: .upsert)
        }
        let landed = (try await store.grant(for: first, in: ns), try await store.grant(for: second, in: ns))
        try expect(landed.0 == nil && landed.1 == nil, "the refused grant landed nowhere")
        try await store.putGrant(Grant(namespace: ns, identity: second, permissions: Permissions(download: true)), mode: .create)
        try await expect(store.grants(in: ns).map(\.identity) == [second], "a grant by the current id is the token's")
        try await expect(store.orphanGrants(named: newhire).isEmpty, "no orphans while every grant is the current token's")
        // IAM principals are unaffected: grants need no token.
        let role = try Identity("arn:aws:iam::123456789012:role/newhire")
        try await store.putGrant(Grant(namespace: ns, identity: role, permissions: Permissions(download: true)), mode: .create)
        try await expect(store.grant(for: role, in: ns)?.permissions.download == true, "IAM grants need no token")
        try await expect(store.revokeStaticToken(newhire) == 1, "cleanup")
    }

    /// Grants under a name no token holds (data from before ids): never applied, reported, and a token
    /// is created over them only when the administrator says to discard them.
    static func orphans(_ store: any MetadataStore, _ writeLegacyGrant: LegacyGrantWriter) async throws {
        let ns = try Namespace("conf-orphan")
        let name = try Identity.token(named: "leaver")
        try await writeLegacyGrant(Grant(namespace: ns, identity: name, permissions: Permissions(download: true, upload: true, createGrant: true)))
        try await expect(store.orphanGrants(named: name).map(\.namespace) == [ns], "the leftover grant is an orphan")
        try await refused(.conflict, "creating a token over orphan grants") {
            try await store.createStaticToken(name, hash: String(repeating: "3", count: 64), createdAt: 3)
        }
        try await expect(store.staticTokenIdentity(hash: String(repeating: "3", count: 64)) == nil, "the refused token was not created")
        let token = try await store.createStaticToken(name, hash: String(repeating: "3", count: 64), createdAt: 3, discardingOrphans: true)
        try await expect(store.grants(for: token).isEmpty, "the new token does not inherit the orphan grant")
        try await expect(store.orphanGrants(named: name).isEmpty, "discarding deleted the orphans")
        try await expect(store.grants(in: ns).isEmpty, "nothing left in the namespace")
        try await expect(store.revokeStaticToken(name) == 0, "revoke: no grants")
    }

    /// A namespace with many versions lists completely (stores that paginate must follow every page).
    static func manyVersions(_ store: any MetadataStore) async throws {
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
    static func summaries(_ store: any MetadataStore) async throws {
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
