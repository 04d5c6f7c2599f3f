import TFRegCore
import Testing

@testable import TFRegAPI

@Suite struct EndpointTests {
    let m = ModulePath(namespace: "acme", name: "vpc", system: "aws")

    /// The route `method` finds at `segments`, nil for 404 and 405.
    static func route(_ segments: [String], _ method: String = "GET") -> Endpoint? {
        guard case .route(let e)? = Endpoint.parse(segments, method: method) else { return nil }
        return e
    }

    @Test func everyRowOfTheAPITableParses() {
        let p = ProviderPath(namespace: "acme", type: "demo")
        let table: [([String], String, Endpoint)] = [
            ([".well-known", "terraform.json"], "GET", .service(.discovery)), (["health"], "HEAD", .service(.health)),
            (["token"], "GET", .token(.fromFrontEnd)), (["token"], "POST", .token(.exchange)),
            (["v1", "modules"], "GET", .modules(.list)), (["v1", "modules", "acme"], "GET", .modules(.listNamespace("acme"))),
            (["v1", "modules", "search"], "GET", .modules(.search)), (["v1", "modules", "acme", "vpc", "aws"], "GET", .modules(.module(m))),
            (["v1", "modules", "acme", "vpc", "aws", "versions"], "GET", .modules(.versions(m))),
            (["v1", "modules", "acme", "vpc", "aws", "download"], "GET", .modules(.latestDownload(m))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0"], "GET", .modules(.version(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0"], "DELETE", .modules(.deleteVersion(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "download"], "GET", .modules(.download(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "upload"], "PUT", .modules(.upload(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "create"], "POST", .modules(.create(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "deprecate"], "POST", .modules(.deprecate(m, "1.0.0"))),
            (["v1", "modules", "acme", "vpc", "aws", "1.0.0", "deprecate"], "DELETE", .modules(.undeprecate(m, "1.0.0"))),
            (["v1", "archives", "acme", "vpc", "aws", "1.0.0", "x.tar.gz"], "GET", .archives(.archive(m, version: "1.0.0", file: "x.tar.gz"))),
            (["v1", "grants", "acme"], "GET", .grants(.list(namespace: "acme"))),
            (["v1", "grants", "acme"], "PUT", .grants(.put(namespace: "acme"))),
            (["v1", "audit"], "GET", .audit(.events)),
            (["v1", "providers", "acme", "demo", "versions"], "GET", .providers(.versions(p))),
            (
                ["v1", "providers", "acme", "demo", "1.0.0", "download", "linux", "amd64"], "GET",
                .providers(.download(p, version: "1.0.0", os: "linux", arch: "amd64"))
            ),
            (["v1", "providers", "acme", "demo", "1.0.0", "upload"], "POST", .providers(.upload(p, version: "1.0.0"))),
            (["v1", "providers", "acme", "keys"], "GET", .providers(.keys(namespace: "acme"))),
            (["v1", "providers", "acme", "keys"], "POST", .providers(.addKey(namespace: "acme"))),
            (["v1", "providers", "acme", "keys", "ABCD"], "DELETE", .providers(.removeKey(namespace: "acme", fingerprint: "ABCD"))),
            // A type named `keys` still has its versions; a module namespace named `providers` keeps its links.
            (["v1", "providers", "acme", "keys", "versions"], "GET", .providers(.versions(ProviderPath(namespace: "acme", type: "keys")))),
            (
                ["v1", "archives", "providers", "demo", "x", "1.0.0", "y.tar.gz"], "GET",
                .archives(.archive(ModulePath(namespace: "providers", name: "demo", system: "x"), version: "1.0.0", file: "y.tar.gz"))
            ),
            (
                ["v1", "archives", "providers", "acme", "demo", "1.0.0", "ab", "f.zip"], "GET",
                .archives(.providerFile(p, version: "1.0.0", sha256: "ab", file: "f.zip"))
            ),
            (
                ["v1", "grants", "acme", "arn:aws:iam::1:role", "ci"], "DELETE",
                .grants(.delete(namespace: "acme", identity: "arn:aws:iam::1:role/ci"))
            ),
        ]
        for (segments, method, endpoint) in table { #expect(Self.route(segments, method) == endpoint, "\(method) \(segments)") }
        // `[]` (`/`) is the web index now.
        #expect(Self.route([], "GET") == .web(.index))
        for unknown in [
            ["v1"], ["v2", "modules"], ["v1", "modules", "a", "b"], ["v1", "modules", "a", "b", "c", "1.0.0", "nope"],
            ["v1", "archives", "a", "b", "c", "d"], ["v1", "grants"], ["token", "x"], ["v1", "modules", "a", "b", "c", "d", "e", "f"],
            ["health", "x"], [".well-known"], ["v1", "grants", "a", "b", "c", "d", "e", "f", "g", "h", "i"], ["modules", "a"],
            ["login", "x"], ["static", "other.css"], ["logout", "x"],
        ] {
            #expect(Endpoint.parse(unknown, method: "GET") == nil, "\(unknown)")
        }
    }

    @Test func aPathWithoutTheMethodListsTheMethodsOfEveryOperationThere() {
        let cases: [([String], String, [String], String)] = [
            (
                ["v1", "modules", "acme", "vpc", "aws", "1.0.0"], "PATCH", ["GET", "HEAD", "DELETE"],
                "/v1/modules/{namespace}/{name}/{system}/{version}"
            ),
            (["v1", "grants", "acme"], "DELETE", ["GET", "HEAD", "PUT"], "/v1/grants/{namespace}"),
            (["token"], "PUT", ["GET", "HEAD", "POST"], "/token"),
            (
                ["v1", "modules", "acme", "vpc", "aws", "1.0.0", "deprecate"], "GET", ["POST", "DELETE"],
                "/v1/modules/{namespace}/{name}/{system}/{version}/deprecate"
            ),
            (
                ["v1", "modules", "acme", "vpc", "aws", "1.0.0", "upload"], "GET", ["POST", "PUT"],
                "/v1/modules/{namespace}/{name}/{system}/{version}/upload"
            ),
            (["v1", "grants", "acme", "token:ci"], "GET", ["DELETE"], "/v1/grants/{namespace}/{identity}"),
        ]
        for (segments, method, allow, template) in cases {
            #expect(Endpoint.parse(segments, method: method) == .methodNotAllowed(allow: allow, template: template), "\(method) \(segments)")
        }
    }

    @Test func onlyPublicRoutesSkipAuthentication() {
        for e in Self.examples {
            switch e {
            case .service, .token, .archives: #expect(!e.needsCaller, "\(e)")
            case .modules, .grants, .audit, .providers, .mirror: #expect(e.needsCaller, "\(e)")
            case .web(let r): #expect(e.needsCaller == (r == .loginCode), "\(e)")
            }
        }
    }

    /// One example of every operation of every area, with parameters that exercise the path writer
    /// (a pre-release with build metadata, an IAM identity with '/', a token id with '#'). The switches
    /// are exhaustive: a new operation does not compile until it has an example here.
    static let examples: [Endpoint] = {
        let m = ModulePath(namespace: "acme", name: "vpc", system: "aws")
        let v = "1.0.0-rc.1+build.5"
        let p = ProviderPath(namespace: "acme", type: "demo")
        func service(_ op: ServiceRoute.Operation) -> ServiceRoute {
            switch op {
            case .discovery: .discovery
            case .health: .health
            }
        }
        func token(_ op: TokenRoute.Operation) -> TokenRoute {
            switch op {
            case .fromFrontEnd: .fromFrontEnd
            case .exchange: .exchange
            }
        }
        func module(_ op: ModuleRoute.Operation) -> ModuleRoute {
            switch op {
            case .list: .list
            case .listNamespace: .listNamespace("acme")
            case .search: .search
            case .module: .module(m)
            case .versions: .versions(m)
            case .latestDownload: .latestDownload(m)
            case .version: .version(m, v)
            case .deleteVersion: .deleteVersion(m, v)
            case .download: .download(m, v)
            case .upload: .upload(m, v)
            case .create: .create(m, v)
            case .deprecate: .deprecate(m, v)
            case .undeprecate: .undeprecate(m, v)
            }
        }
        func archive(_ op: ArchiveRoute.Operation) -> ArchiveRoute {
            switch op {
            case .archive: .archive(m, version: v, file: String(repeating: "ab", count: 32) + ".tar.gz")
            case .providerFile:
                .providerFile(p, version: v, sha256: String(repeating: "ab", count: 32), file: "terraform-provider-demo_1.0.0_linux_amd64.zip")
            case .mirrorFile:
                .mirrorFile(
                    hostname: "registry.terraform.io",
                    p,
                    version: v,
                    sha256: String(repeating: "ab", count: 32),
                    file: "terraform-provider-demo_1.0.0_linux_amd64.zip"
                )
            }
        }
        func mirror(_ op: MirrorRoute.Operation) -> MirrorRoute {
            switch op {
            case .index: .index(hostname: "registry.example.com:8443", p)
            case .version: .version(hostname: "registry.example.com:8443", p, version: v)
            case .upload: .upload(hostname: "registry.terraform.io", p, version: v)
            }
        }
        func provider(_ op: ProviderRoute.Operation) -> ProviderRoute {
            switch op {
            case .versions: .versions(p)
            case .download: .download(p, version: v, os: "linux", arch: "amd64")
            case .upload: .upload(p, version: v)
            case .create: .create(p, version: v)
            case .deleteVersion: .deleteVersion(p, version: v)
            case .deprecate: .deprecate(p, version: v)
            case .undeprecate: .undeprecate(p, version: v)
            case .keys: .keys(namespace: "acme")
            case .addKey: .addKey(namespace: "acme")
            case .removeKey: .removeKey(namespace: "acme", fingerprint: String(repeating: "AB", count: 20))
            }
        }
        func grant(_ op: GrantRoute.Operation) -> GrantRoute {
            switch op {
            case .list: .list(namespace: "acme")
            case .put: .put(namespace: "acme")
            case .delete: .delete(namespace: "acme", identity: "arn:aws:iam::123456789012:role/ci")
            }
        }
        func web(_ op: WebRoute.Operation) -> WebRoute {
            switch op {
            case .index: .index
            case .module: .module(m)
            case .moduleVersion: .moduleVersion(m, v)
            case .login: .login
            case .loginSubmit: .loginSubmit
            case .loginCode: .loginCode
            case .logout: .logout
            case .stylesheet: .stylesheet
            }
        }
        return WebRoute.Operation.allCases.map { .web(web($0)) } + ServiceRoute.Operation.allCases.map { .service(service($0)) }
            + TokenRoute.Operation.allCases.map { .token(token($0)) }
            + ModuleRoute.Operation.allCases.map { .modules(module($0)) } + ArchiveRoute.Operation.allCases.map { .archives(archive($0)) }
            + GrantRoute.Operation.allCases.map { .grants(grant($0)) } + [.grants(.delete(namespace: "acme", identity: "token:ci#0a1b2c"))] + [
                .audit(.events)
            ] + ProviderRoute.Operation.allCases.map { .providers(provider($0)) }
            + MirrorRoute.Operation.allCases.map { .mirror(mirror($0)) }
    }()

    /// Which area and operation an endpoint is (exhaustive over the areas).
    static func operation(_ e: Endpoint) -> AnyHashable {
        switch e {
        case .service(let r): r.operation
        case .token(let r): r.operation
        case .modules(let r): r.operation
        case .archives(let r): r.operation
        case .grants(let r): r.operation
        case .web(let r): r.operation
        case .audit(let r): r.operation
        case .providers(let r): r.operation
        case .mirror(let r): r.operation
        }
    }

    @Test func everyOperationHasMethodsAndHEADGoesWithGET() {
        let operations = WebRoute.Operation.allCases.count + ModuleRoute.Operation.allCases.count + ProviderRoute.Operation.allCases.count
        #expect(Self.examples.count == operations + 2 + 2 + 3 + 3 + 1 + 1 + 3)
        for e in Self.examples {
            #expect(!e.methods.isEmpty, "\(e)")
            #expect(e.methods.contains("GET") == e.methods.contains("HEAD"), "\(e)")
            #expect(e.methods.allSatisfy { ["GET", "HEAD", "POST", "PUT", "DELETE"].contains($0) }, "\(e)")
        }
    }

    @Test func everyTemplateParsesBackToItsOperation() throws {
        for e in Self.examples {
            let segments = try #require(URLParsing.segments(of: e.template), "\(e.template)")
            let parsed = try #require(Self.route(segments, e.methods[0]), "\(e.template)")
            #expect(Self.operation(parsed) == Self.operation(e) && parsed.template == e.template, "\(e.template) → \(parsed)")
        }
    }

    @Test func everyPathParsesBackToItsRoute() throws {
        for e in Self.examples {
            let segments = try #require(URLParsing.segments(of: e.path), "\(e.path)")
            #expect(Self.route(segments, e.methods[0]) == e, "\(e.path)")
        }
    }

    /// The paths the API and the CLI write are byte for byte those written before routes wrote them.
    @Test func pathsAreWrittenAsBefore() throws {
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        let version = try Version("1.2.0")
        #expect(ModuleRoute.download(module, version: version).path == "/v1/modules/acme/vpc/aws/1.2.0/download")
        #expect(ModuleRoute.version(module, version: version).path == "/v1/modules/acme/vpc/aws/1.2.0")
        #expect(ModuleRoute.upload(module, version: version).relativePath == "acme/vpc/aws/1.2.0/upload")
        #expect(ModuleRoute.undeprecate(module, version: version).relativePath == "acme/vpc/aws/1.2.0/deprecate")
        #expect(ModuleRoute.versions(of: module).relativePath == "acme/vpc/aws/versions")
        #expect(ModuleRoute.list.path == "/v1/modules" && ModuleRoute.search.path == "/v1/modules/search")
        #expect(ModuleRoute.listNamespace("acme").path == "/v1/modules/acme")
        #expect(ArchiveRoute.archive(module, version: version, sha256: "ab").path == "/v1/archives/acme/vpc/aws/1.2.0/ab.tar.gz")
        let role = try Identity("arn:aws:iam::123456789012:role/ci")
        #expect(GrantRoute.delete(role, in: try Namespace("acme")).path == "/v1/grants/acme/arn:aws:iam::123456789012:role/ci")
        #expect(GrantRoute.list(namespace: "acme").path == "/v1/grants/acme")
        #expect(ServiceRoute.discovery.path == "/.well-known/terraform.json" && TokenRoute.exchange.path == "/token")
        // '#' would end the path (a fragment): it is the one character of an identity that is encoded.
        #expect(GrantRoute.delete(namespace: "acme", identity: "token:ci#0a1b").path == "/v1/grants/acme/token:ci%230a1b")
        #expect(ModuleRoute.version(module, version: try Version("1.0.0-rc.1+b.5")).path == "/v1/modules/acme/vpc/aws/1.0.0-rc.1+b.5")
    }

    /// `needsCaller` is what the router does: without a token, every operation that needs a caller is
    /// 401 and no other is.
    @Test func theRouterAuthenticatesExactlyTheOperationsThatNeedACaller() async throws {
        let h = try APIHarness()
        for e in Self.examples {
            let r = await h.send(e.methods[0], e.path)
            #expect((r.status == 401) == e.needsCaller, "\(e.methods[0]) \(e.path): \(r.status) \(r.text)")
        }
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
