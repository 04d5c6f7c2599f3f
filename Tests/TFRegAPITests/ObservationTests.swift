import Logging
import Synchronization
import TFRegCore
import TFRegTesting
import Testing

@testable import TFRegAPI

/// Item 6 of issue 18: `RegistryAPI` reports every finished request to its observers, with the route's
/// template and the caller's identity, never a token.
@Suite struct ObservationTests {
    /// Keeps every observation it is given.
    final class Recorder: RequestObserver {
        let seen = Mutex<[RequestObservation]>([])
        var all: [RequestObservation] { seen.withLock { $0 } }
        func requestFinished(_ observation: RequestObservation, logger: Logger) { seen.withLock { $0.append(observation) } }
    }

    static func send(
        _ api: RegistryAPI,
        _ method: String,
        _ path: String,
        token: String? = nil,
        logger: Logger = Logger(label: "test")
    ) async
        -> APIResponse
    {
        var headers: [(name: String, value: String)] = [("Host", "registry.test")]
        if let token { headers.append(("Authorization", "Bearer \(token)")) }
        return await api.respond(to: APIRequest(method: method, path: path, headers: headers, requestID: "req-1"), logger: logger)
    }

    @Test func anObservationHasTheTemplateAndThePrincipalAndNoToken() async throws {
        let h = try APIHarness()
        let ro = try await h.token("ro", Permissions(download: true))
        let recorder = Recorder()
        let api = h.api.adding(recorder)
        let r = await Self.send(api, "GET", "/v1/modules/acme/vpc/aws/versions", token: ro)
        #expect(r.status == 404)  // no such module yet; authenticated and authorized
        let o = try #require(recorder.all.first)
        #expect(recorder.all.count == 1)
        #expect(o.route == "/v1/modules/{namespace}/{name}/{system}/versions" && o.method == "GET" && o.status == 404)
        #expect(o.path == "/v1/modules/acme/vpc/aws/versions" && o.requestID == "req-1" && o.duration >= .zero)
        let principal = try #require(o.principal)
        #expect(principal.value.hasPrefix("token:ro#"), "\(principal)")
        // The token appears nowhere: not in the observation, not in the access line's fields.
        let fields = AccessLog.metadata(o).values.map { "\($0)" }
        #expect(!"\(o)".contains(ro) && !fields.contains { $0.contains(ro) })
        #expect(AccessLog.metadata(o)["principal"] == .string(principal.value))
    }

    @Test func unmatchedRefusedAndPublicRequestsAreObservedToo() async throws {
        let h = try APIHarness()
        let recorder = Recorder()
        let api = h.api.adding(recorder)
        _ = await Self.send(api, "GET", "/nope")
        _ = await Self.send(api, "GET", "/a//b")
        _ = await Self.send(api, "PATCH", "/v1/grants/acme")
        _ = await Self.send(api, "GET", "/v1/modules", token: "tfr_not-a-token")
        _ = await Self.send(api, "GET", "/health")
        let seen = recorder.all.map { "\($0.route) \($0.status) \($0.principal?.value ?? "-")" }
        #expect(
            seen == [
                "unmatched 404 -", "unmatched 400 -", "/v1/grants/{namespace} 405 -", "/v1/modules 401 -", "/health 200 -",
            ],
            "\(seen)"
        )
    }

    @Test func everyObserverIsToldInOrder() async throws {
        let h = try APIHarness()
        let (a, b) = (Recorder(), Recorder())
        let api = h.api.adding(a).adding(b)
        #expect(api.observers.count == 2)
        _ = await Self.send(api, "GET", "/health")
        #expect(a.all.map(\.route) == ["/health"] && b.all.map(\.route) == ["/health"])
    }

    @Test func theAccessLineIsWrittenOnlyWhenItsLevelPasses() async throws {
        let h = try APIHarness()
        let lines = LogCapture()
        var logger = lines.logger()
        logger.logLevel = .warning
        let api = h.api.adding(AccessLog())
        _ = await Self.send(api, "GET", "/health", logger: logger)
        #expect(lines.all.isEmpty)
        logger.logLevel = .info
        _ = await Self.send(api, "GET", "/health", logger: logger)
        let line = try #require(lines.all.first)
        #expect(line.message == "request" && lines.all.count == 1)
        for key in ["request_id", "method", "path", "route", "status", "duration_ms"] { #expect(line.metadata[key] != nil, "\(key)") }
        #expect(line.metadata["route"] == "/health" && line.metadata["status"] == "200" && line.metadata["principal"] == nil)
    }
}
