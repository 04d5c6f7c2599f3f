import Logging
import TFRegAPI
import TFRegCore
import TFRegJSON
import TFRegTesting
import Testing

/// `downloads` counts download URLs issued: in memory on the download path, added to the module's
/// summary by a flush (every 30 s, or at shutdown), then shown by the detail API, the listing, search
/// and the web index. The flush is driven here by the test's clock: no sleeps.
@Suite struct DownloadCountTests {
    func json(_ r: APIResponse) throws -> JSONValue { try JSONValue(parsing: r.bodyBytes, options: .answers) }
    func firstModule(_ v: JSONValue) -> JSONValue? {
        if case .array(let items)? = v["modules"] { return items.first }
        return nil
    }

    @Test func downloadsAreCountedAndShownAfterAFlush() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/Vpc/aws").status == 201)
        #expect(try await h.publish("1.1.0", token: rw, module: "acme/Vpc/aws").status == 201)
        let service = h.api.service
        let counter = try #require(service.downloadCounter, "the assembly counts downloads")
        // Five URLs issued, under two spellings and through the latest-version redirect's target;
        // refused and missing downloads are not counted.
        for target in ["acme/Vpc/aws/1.0.0", "acme/vpc/aws/1.1.0", "ACME/VPC/aws/1.0.0", "acme/Vpc/aws/1.1.0", "acme/Vpc/aws/1.0.0"] {
            #expect(await h.send("GET", "/v1/modules/\(target)/download", token: rw).status == 204)
        }
        #expect(await h.send("GET", "/v1/modules/acme/Vpc/aws/9.0.0/download", token: rw).status == 404)
        #expect(await h.send("GET", "/v1/modules/acme/Vpc/aws/1.0.0/download").status == 401)
        let vpc = try ModuleAddress(namespace: "acme", name: "Vpc", system: "aws")
        #expect(counter.pending == [vpc: 5], "counted under the stored spelling: \(counter.pending)")

        // Not due yet: nothing written, the detail still shows 0.
        await service.flushDownloads(ifDue: true, logger: h.logger)
        #expect(try json(await h.send("GET", "/v1/modules/acme/Vpc/aws", token: rw))["downloads"]?.intValue == 0)
        h.clock.advance(DownloadCounter.defaultInterval)
        await service.flushDownloads(ifDue: true, logger: h.logger)
        #expect(counter.pending.isEmpty)

        #expect(try json(await h.send("GET", "/v1/modules/acme/Vpc/aws", token: rw))["downloads"]?.intValue == 5)
        #expect(try json(await h.send("GET", "/v1/modules/acme/Vpc/aws/1.0.0", token: rw))["downloads"]?.intValue == 5)
        #expect(firstModule(try json(await h.send("GET", "/v1/modules/acme", token: rw)))?["downloads"]?.intValue == 5)
        #expect(firstModule(try json(await h.send("GET", "/v1/modules/search?q=vpc", token: rw)))?["downloads"]?.intValue == 5)

        // The next flush adds (shutdown: not waiting for the interval); a publish keeps the count.
        #expect(await h.send("GET", "/v1/modules/acme/Vpc/aws/1.0.0/download", token: rw).status == 204)
        await service.flushDownloads(ifDue: false, logger: h.logger)
        #expect(try await h.publish("1.2.0", token: rw, module: "acme/Vpc/aws").status == 201)
        #expect(try json(await h.send("GET", "/v1/modules/acme/Vpc/aws", token: rw))["downloads"]?.intValue == 6)
        let session = try await WebFlowTests.signIn(h, token: rw)
        let index = await h.send("GET", "/", headers: [("Cookie", "\(WebSessions.sessionCookie)=\(session)")])
        #expect(index.text.contains("data-label=\"Downloads\">6<"), "the web index shows the count")
    }

    /// What counting adds to the download path: a lock and a dictionary increment. 100 000 records
    /// over 100 modules; the figure is printed (a debug build on a shared machine: indicative only).
    @Test func recordingIsCheap() throws {
        let counter = DownloadCounter(now: 0)
        let modules = try (0..<100).map { try ModuleAddress(namespace: "acme", name: "m\($0)", system: "aws") }
        let clock = ContinuousClock()
        let took = clock.measure { for i in 0..<100_000 { counter.record(modules[i % 100]) } }
        let nanoseconds = (took.components.seconds * 1_000_000_000 + took.components.attoseconds / 1_000_000_000) / 100_000
        print("DownloadCounter.record: \(nanoseconds) ns per download")
        #expect(counter.pending.values.reduce(0, +) == 100_000)
        #expect(nanoseconds < 50_000, "a record must stay far below a request's cost")
    }

    /// A failed add is kept for the next flush and written once (no double count).
    @Test func aFailedFlushKeepsTheCounts() async throws {
        let store = InMemoryMetadataStore()
        let m = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        try await store.insertVersion(
            ModuleVersionRecord(
                module: m,
                version: try Version("1.0.0"),
                location: ArchiveLocation(key: "k"),
                sha256: String(repeating: "a", count: 64),
                size: 1,
                publishedAt: 1
            )
        )
        let counter = DownloadCounter(now: 0)
        for _ in 0..<3 { counter.record(m) }
        #expect(!counter.isDue(now: 29) && counter.isDue(now: 30))
        await store.setDown(true)
        await counter.flush(to: store, now: 30, logger: Logger(label: "test"))
        #expect(counter.pending == [m: 3])
        #expect(!counter.isDue(now: 31), "the interval starts again after a failed flush")
        await store.setDown(false)
        counter.record(m)
        await counter.flushIfDue(to: store, now: 60, logger: Logger(label: "test"))
        #expect(counter.pending.isEmpty)
        #expect(try await store.moduleSummary(of: m)?.downloads == 4)
    }
}
