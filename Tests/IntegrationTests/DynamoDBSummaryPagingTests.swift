import Foundation
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegTesting
import Testing

/// Counts DynamoDB calls by operation and the items Queries and Scans read (`ScannedCount`: items
/// evaluated, before a filter), which is what DynamoDB bills.
final class ItemCountingHTTPClient: HTTPClient, @unchecked Sendable {
    let inner = CurlHTTPClient()
    let lock = NSLock()
    var operations: [String: Int] = [:]
    var scanned = 0
    /// Runs once, after the next UpdateItem's answer (a change made by someone else between two calls).
    var afterNextUpdate: (@Sendable () async -> Void)?

    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let op = request.headers.first { $0.name.lowercased() == "x-amz-target" }.map { String($0.value.split(separator: ".").last ?? "") } ?? "other"
        let response = try await inner.send(request)
        if op == "UpdateItem",
            let hook = lock.withLock({ () -> (@Sendable () async -> Void)? in
                defer { afterNextUpdate = nil }
                return afterNextUpdate
            })
        {
            await hook()
        }
        var read = 0
        if op == "Query" || op == "Scan", let object = try? JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any] {
            read = object["ScannedCount"] as? Int ?? 0
        }
        lock.withLock {
            operations[op, default: 0] += 1
            scanned += read
        }
        return response
    }

    /// Calls by operation and items read while `body` runs.
    func reads(_ body: () async throws -> Void) async rethrows -> (calls: [String: Int], items: Int) {
        let (ops, items) = lock.withLock { (operations, scanned) }
        try await body()
        return lock.withLock {
            (operations.reduce(into: [:]) { d, e in if e.value != ops[e.key] { d[e.key] = e.value - (ops[e.key] ?? 0) } }, scanned - items)
        }
    }
}

extension MotoBackedTests {
    /// DynamoDB summaries keyed in module order (`ModuleSummary/NAME/SYSTEM`): a listing page stops
    /// once it has the page, and summaries written under the old key (`ModuleSummary~NAME~SYSTEM`)
    /// list the same before, during and after their move.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct DynamoDBSummaryPagingTests {
        static func store(_ moto: MotoServer, table: String) async throws -> (DynamoDBMetadataStore, ItemCountingHTTPClient) {
            let counter = ItemCountingHTTPClient()
            let client = AWSClient(
                http: counter,
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
                region: "us-east-1",
                environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.05),
                timeout: 60
            )
            let dynamo = DynamoDBClient(client: client)
            try await dynamo.createTable(table)
            return (DynamoDBMetadataStore(dynamo: dynamo, table: table), counter)
        }

        static func record(_ m: ModuleAddress, _ v: String, at: Int64 = 1) throws -> ModuleVersionRecord {
            ModuleVersionRecord(
                module: m,
                version: try Version(v),
                location: ArchiveLocation(key: "k.tar.gz"),
                sha256: String(repeating: "a", count: 64),
                size: 1,
                publishedAt: at
            )
        }

        /// A summary item as this store writes it, under `sk`.
        static func summaryItem(_ m: ModuleAddress, sk: String, latest: String = "1.0.0", count: Int = 1, downloads: Int64 = 0) -> DynamoDBItem {
            [
                "pk": .s(m.namespace.value), "sk": .s(sk), "namespace": .s(m.namespace.value), "name": .s(m.name), "system": .s(m.system),
                "latest": .s(latest), "latest_published_at": .n("1"), "latest_deprecated": .bool(false), "version_count": .n(String(count)),
                "updated_at": .n("1"), "description": .s(""), "downloads": .n(String(downloads)), "revision": .n("1"),
            ]
        }

        /// Names that sort differently by the old key than as modules.
        static func name(_ i: Int) -> String { ["a", "a-b", "a_b", "a0", "ab", "Z"][i % 6] + String(i / 6) }

        @Test func pageReadsDoNotGrowWithTheNamespace() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, counter) = try await Self.store(moto, table: "paging")
            let ns = try Namespace("big")
            let modules = try (0..<2_000).map { i in try ModuleAddress(namespace: ns.value, name: Self.name(i), system: i % 2 == 0 ? "aws" : "gcp") }
            let service = RegistryService(
                store: store,
                storage: try S3ArchiveStorage(
                    s3: S3Client(client: moto.client()),
                    bucket: "unused",
                    prefix: "",
                    stagingDirectory: NSTemporaryDirectory()
                ),
                canonicalizer: TarGzCanonicalizer()
            )
            let reader = try await store.createStaticToken(try Identity.token(named: "reader"), hash: String(repeating: "d", count: 64), createdAt: 1)
            try await store.putGrant(Grant(namespace: ns, identity: reader, permissions: Permissions(download: true)), mode: .upsert)
            let caller = Principal(identity: reader)
            // The first 100 through the store's writers, the rest as the items those writers make.
            for m in modules.prefix(100) { try await store.insertVersion(try Self.record(m, "1.0.0")) }
            func measure() async throws -> [String] {
                var out: [String] = []
                let all = try await store.moduleSummaries(in: ns)
                for (system, first) in [(nil, 1), (nil, 10), (nil, 31), ("aws", 10), ("gcp", 3)] as [(String?, Int)] {
                    var page: [ModuleSummary] = []
                    let r = try await counter.reads { page = try await store.moduleSummaries(in: ns, system: system, first: first) }
                    let expected = Array(all.filter { system == nil || $0.module.system == system }.prefix(first))
                    #expect(page.map(\.module) == expected.map(\.module), "page \(system ?? "any") \(first)")
                    #expect(r.calls["Scan"] == nil)
                    if system == nil {
                        #expect(r.items == first, "an unfiltered page reads exactly its items: \(r)")
                        out.append("any \(first): \(r.items) items, \(r.calls)")
                    } else {
                        // A filtered page reads the modules up to its last one, plus at most one call's
                        // slack (`Limit` counts items before the filter): it depends on where the page
                        // ends, never on what follows.
                        let end = try #require(all.firstIndex { $0.module == page.last?.module }) + 1
                        #expect(r.items >= end && r.items < end + 50, "\(system ?? "") \(first): \(r.items) items for a page ending at \(end)")
                    }
                }
                var listed: Page<ModuleSummary>?
                let r = try await counter.reads {
                    listed = try await service.list(ModuleQuery(namespace: ns, offset: 5, limit: 10), caller: caller)
                }
                #expect(listed?.items.map(\.module) == Array(all.dropFirst(5).prefix(10)).map(\.module))
                out.append("list offset 5 limit 10: \(r.items) items")
                return out
            }
            let small = try await measure()
            for m in modules.dropFirst(100) {
                try await store.dynamo.putItem(table: store.table, item: Self.summaryItem(m, sk: DynamoDBMetadataStore.summarySK(m)))
            }
            #expect(try await store.moduleSummaries(in: ns).count == 2_000)
            let large = try await measure()
            #expect(small == large, "the same items read at 100 and 2 000 modules (unfiltered pages, the service's page)")
            // Hostile sizes: an offset as large as the service lets through reads the namespace once
            // (in pages of at most 1 000: DynamoDB's Limit stays in range), none reads nothing.
            var everything: [ModuleSummary] = []
            let huge = try await counter.reads { everything = try await store.moduleSummaries(in: ns, system: "gcp", first: Int.max / 4) }
            #expect(everything.count == 1_000 && everything.allSatisfy { $0.module.system == "gcp" })
            #expect(huge.items == 2_000 && (2...4).contains(huge.calls["Query"] ?? 0), "\(huge)")
            let none = try await counter.reads { everything = try await store.moduleSummaries(in: ns, system: nil, first: 0) }
            #expect(everything.isEmpty && none.calls.isEmpty)
            print("summary pages on DynamoDB (moto), at 100 and at 2 000 modules:", large)
        }

        /// `tfreg import-legacy` moves every old-key summary (what an operator runs after upgrading) and
        /// says so; run again it finds nothing left to move and changes nothing.
        @Test func importLegacyMovesOldKeySummaries() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, _) = try await Self.store(moto, table: "registry")
            try await S3Client(client: moto.client()).createBucket("tfreg-archives")
            let modules = try ["a", "a_b", "Vpc"].map { try ModuleAddress(namespace: "acme", name: $0, system: "aws") }
            for m in modules {
                var r = try Self.record(m, "1.0.0")
                // The registry's own canonical archive: nothing for import-legacy to import.
                r.location = ArchiveLocation(key: "registry/sha256/" + String(repeating: "a", count: 64) + ".tar.gz")
                try await store.insertVersion(r)
                let sk = DynamoDBMetadataStore.summarySK(m)
                var old = try #require(try await store.dynamo.getItem(table: store.table, key: ["pk": .s("acme"), "sk": .s(sk)]))
                old["sk"] = .s(DynamoDBMetadataStore.legacySummarySK(m))
                try await store.dynamo.putItem(table: store.table, item: old)
                _ = try await store.dynamo.deleteItem(table: store.table, key: ["pk": .s("acme"), "sk": .s(sk)])
            }
            try await store.addDownloads(2, to: modules[2])
            func legacyItems() async throws -> Int {
                try await store.dynamo.query(
                    table: store.table,
                    keyCondition: .init("pk = :pk AND begins_with(sk, :p)", values: [":pk": .s("acme"), ":p": .s("ModuleSummary~")])
                ).count
            }
            #expect(try await legacyItems() == 3)
            let work = makeTemporaryDirectory("import-legacy-summaries")
            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": work, "TFREG_DATA_DIR": work + "/data",
            ]
            let args = ["import-legacy", "--table", "registry", "--storage", "s3://tfreg-archives/registry"]
            let dry = try runCommand(TFRegBinary.path, args + ["--dry-run"], env: env)
            #expect(dry.status == 0 && dry.stdout.contains("would refresh the listing summaries of 3 module(s)"), "\(dry.stdout)\(dry.stderr)")
            #expect(try await legacyItems() == 3, "a dry run moves nothing")
            for _ in 0..<2 {
                let run = try runCommand(TFRegBinary.path, args, env: env)
                #expect(run.status == 0 && run.stdout.contains("refreshed the listing summaries of 3 module(s)"), "\(run.stdout)\(run.stderr)")
                #expect(try await legacyItems() == 0)
                let listed = try await store.moduleSummaries(in: try Namespace("acme"), system: nil, first: 10)
                #expect(listed.map(\.module) == modules.sorted() && listed.map(\.downloads) == [2, 0, 0])
            }
        }

        /// The item keys of the namespace's summaries under each prefix (new, old).
        static func summaryKeys(_ store: DynamoDBMetadataStore, _ ns: String) async throws -> (new: [String], old: [String]) {
            var out: [[String]] = []
            for prefix in ["ModuleSummary/", "ModuleSummary~"] {
                out.append(
                    try await store.dynamo.query(
                        table: store.table,
                        keyCondition: .init("pk = :pk AND begins_with(sk, :p)", values: [":pk": .s(ns), ":p": .s(prefix)])
                    ).compactMap { $0["sk"]?.string }.sorted()
                )
            }
            return (out[0], out[1])
        }

        /// Review M3, A: after the move an older binary publishes (writing the old key again); deleting
        /// every version with this tfreg removes both items, so the module is not listed and the
        /// namespace has no old-key summary left (listings read the new prefix only again).
        @Test func deletingTheLastVersionRemovesAnOldKeySummaryWrittenAfterTheMove() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, counter) = try await Self.store(moto, table: "lastdelete")
            let ns = try Namespace("acme")
            let x = try ModuleAddress(namespace: "acme", name: "x", system: "aws")
            let kept = try ModuleAddress(namespace: "acme", name: "y", system: "aws")
            try await store.insertVersion(try Self.record(kept, "1.0.0"))
            try await store.insertVersion(try Self.record(x, "1.0.0"))
            try await store.insertVersion(try Self.record(x, "2.0.0", at: 2))
            // The older binary's publish of 2.0.0 wrote its summary under the old key (it saw none there).
            try await store.dynamo.putItem(
                table: store.table,
                item: Self.summaryItem(x, sk: DynamoDBMetadataStore.legacySummarySK(x), latest: "2.0.0", count: 2, downloads: 3)
            )
            #expect(try await Self.summaryKeys(store, "acme").old == [DynamoDBMetadataStore.legacySummarySK(x)])
            _ = try await store.tombstoneVersion(try Version("1.0.0"), of: x, at: 3, by: nil)
            // Not the last version: the old item is folded in (its downloads) and removed.
            #expect(try await Self.summaryKeys(store, "acme").old.isEmpty)
            #expect(try await store.moduleSummary(of: x).map { "\($0.latest) \($0.versionCount) \($0.downloads)" } == "2.0.0 1 3")
            // The older binary writes the old key once more, then the last version goes.
            try await store.dynamo.putItem(
                table: store.table,
                item: Self.summaryItem(x, sk: DynamoDBMetadataStore.legacySummarySK(x), latest: "2.0.0")
            )
            _ = try await store.tombstoneVersion(try Version("2.0.0"), of: x, at: 4, by: nil)
            let keys = try await Self.summaryKeys(store, "acme")
            #expect(keys.new == [DynamoDBMetadataStore.summarySK(kept)] && keys.old.isEmpty, "\(keys)")
            #expect(try await store.moduleSummary(of: x) == nil)
            #expect(try await store.moduleSummaries(in: ns).map(\.module) == [kept])
            var listed: [ModuleSummary] = []
            let page = try await counter.reads { listed = try await store.moduleSummaries(in: ns, system: nil, first: 10) }
            #expect(listed.map(\.module) == [kept])
            #expect(page.items == 1, "no old-key summary left: the page reads its item only (\(page))")
        }

        /// Review L2: a flush that misses the new key, then the old one because the module moved in
        /// between, tries the new key again: the count is not dropped.
        @Test func downloadsCountedWhileTheSummaryMoves() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, counter) = try await Self.store(moto, table: "movingcount")
            let m = try ModuleAddress(namespace: "acme", name: "x", system: "aws")
            try await store.insertVersion(try Self.record(m, "1.0.0"))
            var old = try #require(
                try await store.dynamo.getItem(table: store.table, key: ["pk": .s("acme"), "sk": .s(DynamoDBMetadataStore.summarySK(m))])
            )
            old["sk"] = .s(DynamoDBMetadataStore.legacySummarySK(m))
            try await store.dynamo.putItem(table: store.table, item: old)
            _ = try await store.dynamo.deleteItem(table: store.table, key: ["pk": .s("acme"), "sk": .s(DynamoDBMetadataStore.summarySK(m))])
            // The move happens right after the first UpdateItem (on the new key) missed.
            counter.lock.withLock { counter.afterNextUpdate = { _ = try? await store.refreshSummary(of: m) } }
            try await store.addDownloads(7, to: m)
            #expect(counter.lock.withLock { counter.afterNextUpdate == nil }, "the move ran between the updates")
            #expect(try await Self.summaryKeys(store, "acme").old.isEmpty)
            #expect(try await store.moduleSummary(of: m)?.downloads == 7)
        }

        /// Review M3, B (and A on a table an earlier tfreg left so): summaries of modules with no
        /// version left, under either key, are removed by `tfreg import-legacy`, which visits every
        /// module with a summary as well as every module with a version.
        @Test func importLegacyRemovesSummariesOfModulesWithoutVersions() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, _) = try await Self.store(moto, table: "registry")
            try await S3Client(client: moto.client()).createBucket("tfreg-archives")
            let ns = try Namespace("acme")
            let kept = try ModuleAddress(namespace: "acme", name: "kept", system: "aws")
            let newKey = try ModuleAddress(namespace: "acme", name: "b", system: "aws")
            let oldKey = try ModuleAddress(namespace: "acme", name: "c", system: "aws")
            for m in [kept, newKey] {
                var r = try Self.record(m, "1.0.0")
                r.location = ArchiveLocation(key: "registry/sha256/" + String(repeating: "a", count: 64) + ".tar.gz")
                try await store.insertVersion(r)
            }
            // B: an older binary deleted newKey's last version after the move: the version and its
            // old-key summary (none) went, the new item stayed.
            let stale = try #require(
                try await store.dynamo.getItem(table: store.table, key: ["pk": .s("acme"), "sk": .s(DynamoDBMetadataStore.summarySK(newKey))])
            )
            _ = try await store.tombstoneVersion(try Version("1.0.0"), of: newKey, at: 2, by: nil)
            try await store.dynamo.putItem(table: store.table, item: stale)
            // A as an earlier build left it: an old-key item of a module with no version.
            try await store.dynamo.putItem(table: store.table, item: Self.summaryItem(oldKey, sk: DynamoDBMetadataStore.legacySummarySK(oldKey)))
            #expect(try await store.moduleSummaries(in: ns).map(\.module) == [newKey, oldKey, kept])
            let work = makeTemporaryDirectory("import-legacy-versionless")
            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": work, "TFREG_DATA_DIR": work + "/data",
            ]
            let run = try runCommand(
                TFRegBinary.path,
                ["import-legacy", "--table", "registry", "--storage", "s3://tfreg-archives/registry"],
                env: env
            )
            #expect(run.status == 0 && run.stdout.contains("refreshed the listing summaries of 3 module(s)"), "\(run.stdout)\(run.stderr)")
            let keys = try await Self.summaryKeys(store, "acme")
            #expect(keys.new == [DynamoDBMetadataStore.summarySK(kept)] && keys.old.isEmpty, "\(keys)")
            #expect(try await store.moduleSummaries(in: ns, system: nil, first: 10).map(\.module) == [kept])
        }

        /// A table whose summaries are under the old key lists the same before, during (half moved)
        /// and after the move; publish, delete, deprecation and download counts keep working on a
        /// module not moved yet (and move it); an old-key summary written again after the move (an
        /// older binary) is listed once and folded in by `refreshSummary`.
        @Test func oldKeySummariesListTheSameBeforeDuringAndAfterTheMove() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let (store, counter) = try await Self.store(moto, table: "moving")
            let ns = try Namespace("old")
            let modules = try (0..<12).map { i in try ModuleAddress(namespace: ns.value, name: Self.name(i), system: i % 3 == 0 ? "gcp" : "aws") }
            for (i, m) in modules.enumerated() {
                for v in 0...(i % 3) { try await store.insertVersion(try Self.record(m, "1.\(v).0", at: Int64(10 * i + v))) }
            }
            try await store.addDownloads(4, to: modules[1])
            func item(_ sk: String) async throws -> DynamoDBItem? {
                try await store.dynamo.getItem(table: store.table, key: ["pk": .s(ns.value), "sk": .s(sk)])
            }
            // Move every summary back to the old key, as tfreg before this change kept them.
            for m in modules {
                let current = try #require(try await item(DynamoDBMetadataStore.summarySK(m)))
                var old = current
                old["sk"] = .s(DynamoDBMetadataStore.legacySummarySK(m))
                try await store.dynamo.putItem(table: store.table, item: old)
                _ = try await store.dynamo.deleteItem(table: store.table, key: ["pk": .s(ns.value), "sk": .s(DynamoDBMetadataStore.summarySK(m))])
            }
            // What every read must answer: from the versions, plus the downloads counted.
            var downloads: [ModuleAddress: Int64] = [modules[1]: 4]
            func shape(_ s: ModuleSummary) -> String {
                "\(s.module) \(s.latest) \(s.versionCount) \(s.latestDeprecated ? "deprecated" : "") \(s.downloads)"
            }
            func expectListsAsVersionsSay(_ when: String) async throws {
                var truth: [ModuleSummary] = []
                for m in modules {
                    if let s = ModuleSummary.of(try await store.versions(of: m), downloads: downloads[m] ?? 0) { truth.append(s) }
                }
                truth.sort { $0.module < $1.module }
                #expect(try await store.moduleSummaries(in: ns).map(shape) == truth.map(shape), "\(when)")
                for system in [nil, "aws", "gcp"] {
                    for first in [1, 4, 100] {
                        let page = try await store.moduleSummaries(in: ns, system: system, first: first)
                        let expected = truth.filter { system == nil || $0.module.system == system }.prefix(first)
                        #expect(page.map(shape) == expected.map(shape), "\(when): page \(system ?? "any") \(first)")
                    }
                }
                for s in truth { #expect(try await store.moduleSummary(of: s.module).map(shape) == shape(s), "\(when)") }
            }
            func moved(_ m: ModuleAddress) async throws -> Bool {
                let new = try await item(DynamoDBMetadataStore.summarySK(m)) != nil
                let old = try await item(DynamoDBMetadataStore.legacySummarySK(m)) != nil
                #expect(new != old, "one summary item per module: \(m)")
                return new
            }
            try await expectListsAsVersionsSay("before the move")
            // Half moved, as `tfreg import-legacy` would (its refresh), the other half not.
            for m in modules.prefix(6) { try await store.refreshSummary(of: m) }
            for (i, m) in modules.enumerated() { #expect(try await moved(m) == (i < 6)) }
            try await expectListsAsVersionsSay("half moved")
            // Writes on modules still under the old key: each moves the module's summary.
            try await store.insertVersion(try Self.record(modules[6], "2.0.0", at: 500))
            _ = try await store.tombstoneVersion(try Version("1.0.0"), of: modules[8], at: 501, by: nil)
            let latest9 = try #require(try await store.moduleSummary(of: modules[9])).latest
            _ = try await store.setDeprecation(Deprecation(reason: "old", replacement: nil, at: 502, by: nil), version: latest9, of: modules[9])
            try await store.addDownloads(3, to: modules[10])
            downloads[modules[10]] = 3
            // Two publishes of one old-key module at once: each revision guard lets one move it, the
            // other retries against the new item; neither version is missing from the summary.
            async let first: Void = try store.insertVersion(Self.record(modules[11], "3.0.0", at: 600))
            async let second: Void = try store.insertVersion(Self.record(modules[11], "3.1.0", at: 601))
            _ = try await (first, second)
            #expect(try await store.moduleSummary(of: modules[11]).map { "\($0.latest) \($0.versionCount)" } == "3.1.0 5")
            for (i, m) in modules.enumerated() { #expect(try await moved(m) == (i < 6 || [6, 8, 9, 11].contains(i)), "after writes: \(m)") }
            #expect(try await store.moduleSummary(of: modules[9])?.latestDeprecated == true)
            try await expectListsAsVersionsSay("after writes during the move")
            // An old-key module's page reads both prefixes; once every summary moved it reads the page only.
            let during = try await counter.reads { _ = try await store.moduleSummaries(in: ns, system: nil, first: 2) }
            #expect(during.items > 2)
            for m in modules { try await store.refreshSummary(of: m) }
            for m in modules { #expect(try await moved(m)) }
            try await expectListsAsVersionsSay("after the move")
            let after = try await counter.reads { _ = try await store.moduleSummaries(in: ns, system: nil, first: 2) }
            #expect(after.items == 2 && after.calls["Query"] == 2, "\(after)")
            // An older binary publishes after the move: it writes the old key again (it finds none there).
            let stale = modules[2]
            try await store.dynamo.putItem(
                table: store.table,
                item: Self.summaryItem(stale, sk: DynamoDBMetadataStore.legacySummarySK(stale), latest: "9.9.9", count: 99, downloads: 5)
            )
            let listed = try await store.moduleSummaries(in: ns)
            #expect(listed.filter { $0.module == stale }.count == 1, "listed once")
            #expect(listed.first { $0.module == stale }?.latest.description != "9.9.9", "from the new item")
            #expect(try await store.moduleSummaries(in: ns, system: nil, first: 100).filter { $0.module == stale }.count == 1)
            try await store.refreshSummary(of: stale)
            downloads[stale, default: 0] += 5
            #expect(try await moved(stale))
            try await expectListsAsVersionsSay("after an older binary's write, refreshed")
        }
    }
}
