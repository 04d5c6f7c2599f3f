import TFRegCore
import Testing

@testable import TFRegAPI

@Suite struct EndpointTests {
    let m = Endpoint.ModulePath(namespace: "acme", name: "vpc", system: "aws")

    @Test func everyRowOfTheAPITableParses() {
        let table: [([String], Endpoint)] = [
            ([".well-known", "terraform.json"], .discovery), (["health"], .health), (["token"], .token),
            (["v1", "modules"], .modules(namespace: nil)), (["v1", "modules", "acme"], .modules(namespace: "acme")),
            (["v1", "modules", "search"], .search), (["v1", "modules", "acme", "vpc", "aws"], .module(m)),
            (["v1", "modules", "acme", "vpc", "aws", "versions"], .versions(m)),
            (["v1", "modules", "acme", "vpc", "aws", "download"], .latestDownload(m)),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0"], .version(m, "1.0.0")),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "download"], .download(m, "1.0.0")),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "upload"], .upload(m, "1.0.0")),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "create"], .create(m, "1.0.0")),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "deprecate"], .deprecate(m, "1.0.0")),
            (["v1", "archives", "acme", "vpc", "aws", "1.0.0", "x.tar.gz"], .archive(m, version: "1.0.0", file: "x.tar.gz")),
            (["v1", "grants", "acme"], .grants(namespace: "acme")),
            (["v1", "grants", "acme", "arn:aws:iam::1:role", "ci"], .grant(namespace: "acme", identity: "arn:aws:iam::1:role/ci")),
        ]
        for (segments, endpoint) in table { #expect(Endpoint.parse(segments) == endpoint, "\(segments)") }
        for unknown in [
            [], ["v1"], ["v2", "modules"], ["v1", "modules", "a", "b"], ["v1", "modules", "a", "b", "c", "1.0.0", "nope"],
            ["v1", "archives", "a", "b", "c", "d"], ["v1", "grants"], ["token", "x"], ["v1", "modules", "a", "b", "c", "d", "e", "f"],
        ] {
            #expect(Endpoint.parse(unknown) == nil, "\(unknown)")
        }
    }

    @Test func onlyPublicRoutesSkipAuthentication() {
        #expect([Endpoint.discovery, .health, .token, .archive(m, version: "1", file: "f")].allSatisfy { !$0.needsCaller })
        #expect([Endpoint.modules(namespace: nil), .search, .versions(m), .upload(m, "1"), .grants(namespace: "a")].allSatisfy { $0.needsCaller })
    }
}

/// The one order for every route: 404 (shape) → 405 + Allow → 401 → 400 (parameters) → 403 → body.
@Suite struct RequestOrderTests {
    @Test func wrongMethodGets405WithAllow() async throws {
        let h = try APIHarness()
        for (method, path, allow) in [
            ("POST", "/v1/modules/acme/vpc/aws/versions", "GET, HEAD"), ("PATCH", "/v1/grants/acme", "GET, HEAD, PUT"),
            ("GET", "/v1/modules/acme/vpc/aws/1.0.0/upload", "POST, PUT"), ("PUT", "/health", "GET, HEAD"),
            ("DELETE", "/v1/modules/acme/vpc/aws/1.0.0/download", "GET, HEAD"),
        ] {
            let r = await h.send(method, path)
            #expect(
                r.status == 405 && r.header("allow") == allow && r.text.hasPrefix(#"{"errors":["#),
                "\(method) \(path): \(r.status) \(r.header("allow") ?? "-")"
            )
        }
    }

    @Test func withoutCredentialsEveryRouteSays401BeforeLookingAtTheRest() async throws {
        let h = try APIHarness()
        // Invalid parameters or bodies, no token: 401, never 400 (nothing about the request is judged first).
        for (method, path, body) in [
            ("GET", "/v1/modules/-bad-/vpc/aws/versions", ""), ("GET", "/v1/modules/acme/vpc/aws/not-a-version/download", ""),
            ("PUT", "/v1/grants/acme", "{not json"), ("PUT", "/v1/grants/-bad-", "{}"), ("DELETE", "/v1/grants/acme/not-an-identity", ""),
            ("POST", "/v1/modules/acme/vpc/aws/1.0.0/upload", "garbage"), ("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", "{"),
            ("GET", "/v1/modules/search", ""), ("GET", "/v1/modules?limit=abc", ""),
        ] {
            let r = await h.send(method, path, body: Array(body.utf8))
            #expect(r.status == 401 && r.text.hasPrefix(#"{"errors":["#), "\(method) \(path): \(r.status) \(r.text)")
        }
    }

    @Test func authorizationComesBeforeTheBody() async throws {
        let h = try APIHarness()
        let ro = try await h.token("ro", Permissions(download: true))
        // A reader sends garbage to PUT grants: 403 (the body is never parsed), not 400.
        let r = await h.send("PUT", "/v1/grants/acme", token: ro, headers: [("Content-Type", "application/json")], body: Array("{not json".utf8))
        #expect(r.status == 403, "\(r.status) \(r.text)")
        // With a token, malformed parameters are 400.
        #expect(await h.send("GET", "/v1/modules/-bad-/vpc/aws/versions", token: ro).status == 400)
        #expect(await h.send("DELETE", "/v1/grants/acme/not-an-identity", token: ro).status == 400)
    }
}

/// Found by review: a small body (POST /token reads it before authentication) trickled at one byte
/// per 29 s held a connection for days, since the connection's body timeout only bounds the gap
/// between bytes. A small body must arrive whole within its total time.
@Suite struct SmallBodyDeadlineTests {
    // The stream never ends: without the deadline this test would never return (the time limit then
    // fails it). No timing is asserted: on a shared 2-core machine other tests can delay the timer.
    @Test(.timeLimit(.minutes(2))) func aTrickledBodyIsCutOffAtItsTotalDeadline() async throws {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.yield(Array("{".utf8))  // and then nothing, ever
        let body = APIRequestBody(stream: stream)
        let error = await #expect(throws: RegistryError.self) { try await body.collect(limit: 32 * 1024, within: .milliseconds(300)) }
        #expect(error?.code == .requestTimeout && error?.code.httpStatus == 408, "\(String(describing: error))")
        continuation.finish()
    }

    @Test func aBodyThatArrivesInTimeIsRead() async throws {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.yield(Array("{\"a\":".utf8))
        continuation.yield(Array("1}".utf8))
        continuation.finish()
        #expect(try await APIRequestBody(stream: stream).collect(limit: 1024, within: .seconds(5)) == Array("{\"a\":1}".utf8))
        await #expect(throws: RegistryError.self) { try await APIRequestBody(bytes: Array(repeating: 0, count: 10)).collect(limit: 5) }
    }

    /// Found by review: the timer was an unstructured task that slept its full 20 s after every small
    /// body. Now it is cancelled as soon as the body is read, before `collect` returns.
    @Test(.timeLimit(.minutes(1))) func aBodyReadInTimeLeavesNoSleepingTimer() async throws {
        let (stream, continuation) = AsyncThrowingStream<[UInt8], any Error>.makeStream()
        continuation.yield(Array("{}".utf8))
        continuation.finish()
        let timer = TimerProbe()
        let bytes = try await APIRequestBody(stream: stream).collect(limit: 1024, within: .seconds(3600)) { duration in
            await timer.started()
            do { try await Task.sleep(for: duration) } catch {
                await timer.cancelled()
                throw error
            }
            await timer.expired()
        }
        #expect(bytes == Array("{}".utf8))
        // Structured: by the time `collect` returns, its timer has ended, and ended by cancellation.
        let state = await timer.state
        #expect(state == .cancelled, "timer: \(state)")
    }
}

/// What happened to the timer of one `collect`.
private actor TimerProbe {
    enum State: Sendable { case notStarted, sleeping, cancelled, expired }
    private(set) var state = State.notStarted
    func started() { state = .sleeping }
    func cancelled() { state = .cancelled }
    func expired() { state = .expired }
}
