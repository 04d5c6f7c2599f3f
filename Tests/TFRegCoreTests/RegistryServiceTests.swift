import Logging
import TFRegTesting
import Testing

@testable import TFRegCore

struct NullStorage: BlobStore {
    var stagingDirectory: String { "/tmp" }
    var registersExistingObjects: Bool { false }
    var acceptsWrites: Bool { true }
    func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation {
        ArchiveLocation(key: "null/\(staged.sha256)\(kind.fileExtension)")
    }
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) {}
    func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? { nil }
    func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? { nil }
    func remove(_ location: ArchiveLocation) async throws(RegistryError) {}
    func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        .url("https://example.com/\(location.key)")
    }
    func isCanonicalKey(_ key: String) -> Bool { true }
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile { throw .notFound("x") }
}

/// Accepts any upload as its own canonical form (the service's part is tested, not the archive's).
struct AcceptAll: ArchiveCanonicalizer {
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive {
        CanonicalArchive(size: 1, sha256: "ab", entries: 1)
    }
}

@Suite struct RegistryServiceTests {
    let store = InMemoryMetadataStore()
    var service: RegistryService { RegistryService(store: store, storage: NullStorage(), canonicalizer: AcceptAll(), clock: TestClock()) }
    let module = try! ModuleAddress(namespace: "team-a", name: "vpc", system: "aws")
    let reader = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/reader"))
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))

    func seed() async throws {
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: reader.identity, permissions: Permissions(download: true)),
            mode: .create
        )
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: writer.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        for v in ["1.0.0", "1.2.0", "2.0.0-beta.1"] {
            try await store.insertVersion(
                ModuleVersionRecord(module: module, version: try Version(v), location: ArchiveLocation(key: v), sha256: "x", size: 1, publishedAt: 0)
            )
        }
    }

    @Test func denyByDefault() async throws {
        try await seed()
        await #expect(throws: RegistryError.unauthenticated("")) { try await service.versions(of: module, caller: nil) }
        let stranger = Principal(identity: try Identity.token(named: "stranger"))
        await #expect(throws: RegistryError.forbidden("")) { try await service.versions(of: module, caller: stranger) }
        // Forbidden comes before not-found, so a stranger cannot probe for modules.
        let ghost = try ModuleAddress(namespace: "team-a", name: "ghost", system: "aws")
        await #expect(throws: RegistryError.forbidden("")) { try await service.versions(of: ghost, caller: stranger) }
        await #expect(throws: RegistryError.notFound("")) { try await service.versions(of: ghost, caller: reader) }
    }

    @Test func grantInOneNamespaceDoesNotOpenAnother() async throws {
        try await seed()
        let other = try ModuleAddress(namespace: "team-b", name: "vpc", system: "aws")
        try await store.insertVersion(
            ModuleVersionRecord(
                module: other,
                version: try Version("1.0.0"),
                location: ArchiveLocation(key: "k"),
                sha256: "x",
                size: 1,
                publishedAt: 0
            )
        )
        await #expect(throws: RegistryError.forbidden("")) { try await service.versions(of: other, caller: reader) }
        let page = try await service.list(ModuleQuery(), caller: reader)
        #expect(page.items.map(\.module) == [module])
    }

    @Test func versionsSortedAndLatestSkipsPrereleases() async throws {
        try await seed()
        let versions = try await service.versions(of: module, caller: reader).map(\.version.description)
        #expect(versions == ["2.0.0-beta.1", "1.2.0", "1.0.0"])
        #expect(try await service.latest(of: module, caller: reader).version.description == "1.2.0")
    }

    @Test func uploadNeedsUploadPermission() async throws {
        try await seed()
        let staged = StagedArchive(path: "/nonexistent", size: 1, sha256: "ab")
        await #expect(throws: RegistryError.forbidden("")) {
            try await service.publish(staged, version: try Version("3.0.0"), of: module, caller: reader, logger: Logger(label: "t"))
        }
        let record = try await service.publish(staged, version: try Version("3.0.0"), of: module, caller: writer, logger: Logger(label: "t"))
        #expect(record.publishedBy == "arn:aws:iam::123456789012:role/writer")
        await #expect(throws: RegistryError.conflict("")) {
            try await service.publish(staged, version: try Version("3.0.0+other-build"), of: module, caller: writer, logger: Logger(label: "t"))
        }
    }

    /// Issue "Trust III", finding 10: a deprecation reason (shown by `terraform` and the CLI) refuses the
    /// invisible and bidi-control characters archive paths refuse, not only category Cc.
    @Test(arguments: ["\u{202e}", "\u{2066}", "\u{2069}", "\u{200b}", "\u{200f}", "\u{feff}", "\u{ad}", "\u{61c}", "\u{7}"])
    func deprecationReasonRefusesInvisibleAndBidiCharacters(_ c: String) async throws {
        try await seed()
        let v = try Version("1.0.0")
        await #expect(throws: RegistryError.badRequest("")) {
            try await service.deprecate(v, of: module, reason: "use 2.x\(c) instead", replacement: nil, caller: writer, logger: Logger(label: "t"))
        }
        await #expect(throws: RegistryError.badRequest("")) {
            try await service.deprecate(v, of: module, reason: "old", replacement: "team-a/vpc\(c)/aws", caller: writer, logger: Logger(label: "t"))
        }
        // Ordinary text, accents and emoji stay accepted.
        let record = try await service.deprecate(
            v,
            of: module,
            reason: "caf\u{e9} \u{1f600}: use 2.x",
            replacement: nil,
            caller: writer,
            logger: Logger(label: "t")
        )
        #expect(record.deprecation?.reason == "caf\u{e9} \u{1f600}: use 2.x")
    }

    @Test func backendDownIsUnavailable() async throws {
        try await seed()
        await store.setDown(true)
        await #expect(throws: RegistryError.unavailable("", detail: nil)) { try await service.versions(of: module, caller: reader) }
    }

    @Test func listPagination() async throws {
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: reader.identity, permissions: Permissions(download: true)),
            mode: .create
        )
        for i in 0..<7 {
            let m = try ModuleAddress(namespace: "team-a", name: "m\(i)", system: "aws")
            try await store.insertVersion(
                ModuleVersionRecord(
                    module: m,
                    version: try Version("1.0.\(i)"),
                    location: ArchiveLocation(key: "k"),
                    sha256: "x",
                    size: 1,
                    publishedAt: 0
                )
            )
        }
        let first = try await service.list(ModuleQuery(limit: 3), caller: reader)
        #expect(first.items.map(\.module.name) == ["m0", "m1", "m2"])
        #expect(first.nextOffset == 3 && first.previousOffset == nil)
        let last = try await service.list(ModuleQuery(offset: 6, limit: 3), caller: reader)
        #expect(last.items.map(\.module.name) == ["m6"] && last.nextOffset == nil && last.previousOffset == 3)
        let search = try await service.list(ModuleQuery(text: "M5"), caller: reader)
        #expect(search.items.map(\.module.name) == ["m5"])
    }

    /// Found by review: every listing and search loaded every version of the registry
    /// (`allVersions(in: nil)`, a DynamoDB Scan). They read module summaries now, and keep the order
    /// of module addresses across namespaces ("a-b/…" before "a/…").
    @Test func listingReadsSummariesNeverAllVersions() async throws {
        for ns in ["a", "a-b", "b"] {
            try await store.putGrant(
                Grant(namespace: try Namespace(ns), identity: reader.identity, permissions: Permissions(download: true)),
                mode: .create
            )
            for name in ["x", "y"] {
                for v in ["1.0.0", "1.1.0"] {
                    try await store.insertVersion(
                        ModuleVersionRecord(
                            module: try ModuleAddress(namespace: ns, name: name, system: "aws"),
                            version: try Version(v),
                            location: ArchiveLocation(key: "k"),
                            sha256: "x",
                            size: 1,
                            publishedAt: 0,
                            publishedBy: "token:p"
                        )
                    )
                }
            }
        }
        let all = try await service.list(ModuleQuery(limit: 100), caller: reader)
        #expect(all.items.map(\.module.description) == ["a-b/x/aws", "a-b/y/aws", "a/x/aws", "a/y/aws", "b/x/aws", "b/y/aws"])
        #expect(all.items.allSatisfy { $0.latest.description == "1.1.0" && $0.versionCount == 2 && $0.latestPublishedBy == "token:p" })
        let page = try await service.list(ModuleQuery(offset: 1, limit: 2), caller: reader)
        #expect(page.items.map(\.module.description) == ["a-b/y/aws", "a/x/aws"] && page.nextOffset == 3)
        _ = try await service.list(ModuleQuery(namespace: try Namespace("a")), caller: reader)
        _ = try await service.list(ModuleQuery(text: "y"), caller: reader)
        #expect(await store.allVersionsCalls == 0)
    }
}

@Suite struct StaticTokenFormatTests {
    @Test func generatedTokensAreWellFormedAndDistinct() {
        var seen = Set<String>()
        for _ in 0..<200 {
            let t = StaticTokenAuthenticator.generate()
            #expect(StaticTokenAuthenticator.isWellFormed(t), "\(t)")
            #expect(t.utf8.count == 47)
            seen.insert(t)
        }
        #expect(seen.count == 200)
    }

    @Test(arguments: [
        "", "tfr_", "tfr_" + String(repeating: "A", count: 42), "tfr_" + String(repeating: "A", count: 44),
        "tfx_" + String(repeating: "A", count: 43), "tfr_" + String(repeating: "A", count: 42) + "B",
        "tfr_" + String(repeating: "A", count: 42) + "=", "tfr_" + String(repeating: "+", count: 43),
    ])
    func malformed(_ t: String) {
        #expect(!StaticTokenAuthenticator.isWellFormed(t))
    }
}

@Suite struct StaticTokenCacheTests {
    @Test func hitsAreRememberedForTheTTLOnlyAndMissesNever() async throws {
        let store = InMemoryMetadataStore()
        let clock = TestClock()
        let auth = StaticTokenAuthenticator(store: store, cacheSeconds: 10, clock: clock)
        let secret = StaticTokenAuthenticator.generate()
        let name = try Identity.token(named: "ci")
        // Unknown token: refused, and the refusal is not remembered.
        await #expect(throws: RegistryError.unauthenticated("")) { try await auth.authenticate(secret) }
        let id = try await store.createStaticToken(name, hash: StaticTokenAuthenticator.digest(of: secret), createdAt: 0)
        #expect(try await auth.authenticate(secret).identity == id)
        // Revoked: still accepted from the cache until the TTL passes, then refused.
        #expect(try await store.deleteStaticToken(name))
        clock.advance(9)
        #expect(try await auth.authenticate(secret).identity == id)
        clock.advance(1)
        await #expect(throws: RegistryError.unauthenticated("")) { try await auth.authenticate(secret) }
        // Without a TTL nothing is cached.
        let again = try await store.createStaticToken(name, hash: StaticTokenAuthenticator.digest(of: secret), createdAt: 0)
        let uncached = StaticTokenAuthenticator(store: store)
        #expect(try await uncached.authenticate(secret).identity == again)
        #expect(try await store.deleteStaticToken(name))
        await #expect(throws: RegistryError.unauthenticated("")) { try await uncached.authenticate(secret) }
    }
}

/// `RegistryService.latest` is one pass over the records (it runs on every versions answer); the
/// definition it replaced — the highest release, else the highest prerelease, the first of equal
/// precedence — is the oracle, on every order of each list.
@Suite struct LatestRecordTests {
    static func oracle(_ records: [ModuleVersionRecord]) -> ModuleVersionRecord? {
        records.filter { !$0.version.isPrerelease }.max { $0.version < $1.version } ?? records.max { $0.version < $1.version }
    }

    @Test(arguments: [
        [String](),
        ["1.0.0"],
        ["2.0.0-rc.1", "1.0.0", "2.0.0-rc.2"],
        ["1.0.0-alpha", "1.0.0-beta", "0.1.0-a"],
        ["3.0.0", "3.0.1-rc.1", "2.9.9", "10.0.0-beta", "3.0.1"],
        ["1.0.0+build.1", "1.0.0+build.2", "0.9.0"],
        ["1.0.0-rc.1+a", "1.0.0-rc.1+b"],
    ])
    func agreesWithTheOracleOnEveryOrder(_ versions: [String]) throws {
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let records = try versions.enumerated().map { i, v in
            ModuleVersionRecord(
                module: module,
                version: try Version(v),
                location: ArchiveLocation(key: "k\(i)"),
                sha256: "s\(i)",
                size: 1,
                publishedAt: 1
            )
        }
        var orders: [[ModuleVersionRecord]] = [records]
        for _ in 0..<3 { orders += orders.map { Array($0.reversed()) } + orders.map { Array($0.dropFirst() + $0.prefix(1)) } }
        for order in orders {
            let got = RegistryService.latest(order)
            #expect(got?.sha256 == Self.oracle(order)?.sha256, "\(order.map(\.version.description))")
        }
        if !versions.isEmpty { #expect(RegistryService.latest(records) != nil) }
    }
}
