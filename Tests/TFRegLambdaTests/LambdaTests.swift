import Logging
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegTesting
import Testing

@testable import TFRegLambda

/// Event shapes as AWS documents them (API Gateway proxy integration, HTTP API payload 2.0, Function
/// URLs, ALB targets), trimmed to the fields that matter.
enum Events {
    static let restV1 = """
        {"resource": "/{proxy+}", "path": "/v1/modules/acme/vpc aws/aws/versions", "httpMethod": "GET",
         "headers": {"Authorization": "Bearer tfr_x", "Host": "abc123.execute-api.us-east-1.amazonaws.com"},
         "multiValueHeaders": {"Authorization": ["Bearer tfr_x"], "Host": ["abc123.execute-api.us-east-1.amazonaws.com"], "X-Multi": ["a", "b"]},
         "queryStringParameters": {"q": "a b&c"}, "multiValueQueryStringParameters": {"q": ["a b&c"], "limit": ["5"]},
         "pathParameters": {"proxy": "v1/modules"}, "stageVariables": null,
         "requestContext": {"accountId": "123456789012", "apiId": "abc123", "httpMethod": "GET", "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
           "identity": {"userArn": "arn:aws:sts::123456789012:assumed-role/dev/alice", "sourceIp": "192.0.2.1"}, "resourcePath": "/{proxy+}", "stage": "prod"},
         "body": null, "isBase64Encoded": false}
        """
    static let httpV2 = """
        {"version": "2.0", "routeKey": "$default", "rawPath": "/token", "rawQueryString": "expiration_seconds=600",
         "cookies": ["a=1", "b=2"], "headers": {"host": "abc123.execute-api.us-east-1.amazonaws.com", "x-multi": "a,b"},
         "queryStringParameters": {"expiration_seconds": "600"},
         "requestContext": {"accountId": "123456789012", "apiId": "abc123", "domainName": "abc123.execute-api.us-east-1.amazonaws.com",
           "authorizer": {"iam": {"accessKey": "ASIAEXAMPLE", "accountId": "123456789012", "callerId": "AROAEXAMPLE:alice", "principalOrgId": null,
             "userArn": "arn:aws:sts::123456789012:assumed-role/dev/alice", "userId": "AROAEXAMPLE:alice"}},
           "http": {"method": "GET", "path": "/token", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "tfreg"},
           "requestId": "JKJaXmPLvHcESHA=", "routeKey": "$default", "stage": "$default", "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1795687200000},
         "isBase64Encoded": false}
        """
    static let functionURL = """
        {"version": "2.0", "routeKey": "$default", "rawPath": "/v1/modules/acme/vpc/aws/1.0.0/upload", "rawQueryString": "",
         "headers": {"host": "abcdefg.lambda-url.us-east-1.on.aws", "content-type": "application/gzip", "authorization": "Bearer tfr_x"},
         "requestContext": {"accountId": "123456789012", "apiId": "abcdefg", "domainName": "abcdefg.lambda-url.us-east-1.on.aws", "domainPrefix": "abcdefg",
           "http": {"method": "POST", "path": "/v1/modules/acme/vpc/aws/1.0.0/upload", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "curl"},
           "requestId": "id-fn", "routeKey": "$default", "stage": "$default", "timeEpoch": 1795687200000},
         "body": "H4sIAAAAAAAAA+3OMQ6DMBAF0T8=", "isBase64Encoded": true}
        """
    static let alb = """
        {"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/lambda-279XGJDqGZ5rsrHC2Fjr/49e9d65c45c6791a"}},
         "httpMethod": "GET", "path": "/v1/modules/acme/vpc/aws/versions", "queryStringParameters": {"q": "a%20b"},
         "headers": {"authorization": "Bearer tfr_x", "host": "registry-alb.example.com", "x-amzn-trace-id": "Root=1-5bdb40ca-556d8b0c50dc66f0511bf520"},
         "body": "", "isBase64Encoded": false}
        """
}

@Suite struct EventAdapterTests {
    func decode(_ s: String, _ configured: EventFormat = .functionURL) throws -> DecodedEvent {
        try EventAdapter.decode(Array(s.utf8), configured: configured)
    }

    @Test func restV1() throws {
        let d = try decode(Events.restV1, .restV1)
        #expect(d.format == .restV1 && d.request.method == "GET" && d.request.requestID == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef")
        // REST paths and parameters arrive decoded: they are encoded again.
        #expect(d.request.path == "/v1/modules/acme/vpc%20aws/aws/versions")
        #expect(Set(d.request.query.split(separator: "&").map(String.init)) == ["q=a%20b%26c", "limit=5"])
        #expect(d.request.headers(named: "x-multi") == ["a", "b"])
        #expect(d.request.trustedCallerARN == "arn:aws:sts::123456789012:assumed-role/dev/alice")
    }

    @Test func httpV2AndFunctionURL() async throws {
        let v2 = try decode(Events.httpV2, .httpV2)
        #expect(v2.format == .httpV2 && v2.request.path == "/token" && v2.request.query == "expiration_seconds=600")
        #expect(v2.request.header("cookie") == "a=1; b=2" && v2.request.header("x-multi") == "a,b")
        #expect(v2.request.trustedCallerARN == "arn:aws:sts::123456789012:assumed-role/dev/alice")
        // The domain the front end reports: the token audience when TFREG_AUDIENCE is not set.
        #expect(v2.request.trustedHost == "abc123.execute-api.us-east-1.amazonaws.com")
        let fn = try decode(Events.functionURL)
        #expect(fn.request.trustedHost == "abcdefg.lambda-url.us-east-1.on.aws")
        #expect(fn.format == .functionURL && fn.request.method == "POST" && fn.request.trustedCallerARN == nil)
        #expect(try await fn.request.body.collect(limit: 1024) == Base64.decode("H4sIAAAAAAAAA+3OMQ6DMBAF0T8=")!)
    }

    @Test func albKeepsItsEncodingAndNeverCarriesAnIdentity() throws {
        let d = try decode(Events.alb, .alb)
        #expect(d.format == .alb && !d.multiValue && d.request.query == "q=a%20b" && d.request.trustedCallerARN == nil)
        #expect(d.request.trustedHost == nil)
        // A domain that is not a valid host name never becomes an audience; an upper-case one is lowercased.
        let odd = try decode(Events.httpV2.replacing(#""domainName": "abc123"#, with: #""domainName": "bad host/x"#))
        #expect(odd.request.trustedHost == nil)
        let upper = try decode(Events.httpV2.replacing(#""domainName": "abc123"#, with: #""domainName": "ABC123"#))
        #expect(upper.request.trustedHost == "abc123.execute-api.us-east-1.amazonaws.com")
        let r = String(
            decoding: EventAdapter.encode(
                APIResponse(status: 404, headers: [("Content-Type", "application/json")], body: .bytes(Array("{}".utf8))),
                as: d
            ),
            as: UTF8.self
        )
        #expect(
            r
                == #"{"statusCode":404,"statusDescription":"404 Not Found","headers":{"Content-Type":"application/json"},"body":"{}","isBase64Encoded":false}"#
        )
        let big = EventAdapter.encode(
            APIResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes([UInt8](repeating: 0x20, count: 1_100_000))),
            as: d
        )
        #expect(String(decoding: big, as: UTF8.self).hasPrefix(#"{"statusCode":502,"statusDescription":"502 Bad Gateway""#))
    }

    /// Headers a client sends can never pose as the front end's verified identity.
    @Test func identityComesOnlyFromTheRequestContext() throws {
        let forged = Events.functionURL.replacing(
            #""content-type": "application/gzip""#,
            with:
                #""content-type": "application/gzip", "x-amzn-iam-userarn": "arn:aws:iam::123456789012:role/admin", "userArn": "arn:aws:iam::123456789012:role/admin""#
        )
        #expect(try decode(forged).request.trustedCallerARN == nil)
    }

    @Test func encodesEachFormat() throws {
        let response = APIResponse(
            status: 200,
            headers: [("Content-Type", "application/json"), ("Set-Cookie", "s=1"), ("Vary", "a"), ("Vary", "b")],
            body: .bytes(Array(#"{"ok":true}"#.utf8))
        )
        let v2 = String(decoding: EventAdapter.encode(response, as: try decode(Events.httpV2)), as: UTF8.self)
        #expect(
            v2
                == #"{"statusCode":200,"headers":{"Content-Type":"application/json","Vary":"a,b"},"cookies":["s=1"],"body":"{\"ok\":true}","isBase64Encoded":false}"#
        )
        let v1 = String(decoding: EventAdapter.encode(response, as: try decode(Events.restV1)), as: UTF8.self)
        #expect(v1.contains(#""multiValueHeaders":{"Content-Type":["application/json"],"Set-Cookie":["s=1"],"Vary":["a","b"]}"#))
        let binary = String(
            decoding: EventAdapter.encode(
                APIResponse(status: 200, headers: [("Content-Type", "application/gzip")], body: .bytes([0x1f, 0x8b, 0xff])),
                as: try decode(Events.httpV2)
            ),
            as: UTF8.self
        )
        #expect(binary.hasSuffix(#""body":"H4v/","isBase64Encoded":true}"#))
    }

    @Test func malformedEventsAreClearErrors() {
        for bad in [
            "", "{}", "[]", #"{"version": "2.0"}"#, #"{"httpMethod": "GET"}"#,
            #"{"version": "2.0", "requestContext": {"http": {"method": "GET"}}, "body": "!!!", "isBase64Encoded": true}"#,
        ] {
            #expect(throws: RegistryError.self, "\(bad)") { try decode(bad) }
        }
    }
}

/// A scripted Runtime API: hands out invocations, records what comes back.
/// `respondFails` makes posting a response fail as a lost connection to the Runtime API would.
actor FakeRuntime: LambdaRuntimeClient {
    struct ConnectionLost: Error {}
    var queue: [Invocation]
    var responses: [(String, [UInt8])] = []
    var errors: [(String, String)] = []
    let respondFails: Bool
    init(_ q: [Invocation], respondFails: Bool = false) {
        queue = q
        self.respondFails = respondFails
    }
    /// An empty queue ends the loop, as a Runtime API that went away would.
    func next() async throws -> Invocation {
        guard !queue.isEmpty else { throw RuntimeAPIError("no more invocations") }
        return queue.removeFirst()
    }
    func respond(_ requestID: String, body: [UInt8]) async throws {
        if respondFails { throw ConnectionLost() }
        responses.append((requestID, body))
    }
    func fail(_ requestID: String, type: String, message: String) async throws { errors.append((requestID, type)) }
    func initFailure(type: String, message: String) async throws {}
}

/// Runs the loop until the fake has no invocations left (its `next` throws `RuntimeAPIError`).
func runUntilDrained(
    _ runtime: FakeRuntime,
    _ logger: Logger,
    handler: @Sendable (Invocation, Logger) async throws -> [UInt8]
) async throws {
    do { try await LambdaLoop.run(client: runtime, logger: logger, handler: handler) } catch is RuntimeAPIError {}
}

@Suite struct LambdaLoopTests {
    /// `afterResponse` (where `lambda` flushes due download counts) runs once per answered
    /// invocation, after its response was posted, and not for a failed one.
    @Test func afterResponseRunsOnceTheAnswerIsPosted() async throws {
        let runtime = FakeRuntime([
            Invocation(requestID: "1", event: Array("ok".utf8)), Invocation(requestID: "2", event: Array("boom".utf8)),
            Invocation(requestID: "3", event: Array("ok".utf8)),
        ])
        struct Boom: Error {}
        actor Seen {
            var postedBefore: [Int] = []
            func add(_ n: Int) { postedBefore.append(n) }
        }
        let seen = Seen()
        do {
            try await LambdaLoop.run(
                client: runtime,
                logger: Logger(label: "test"),
                afterResponse: { _ in await seen.add(await runtime.responses.count) },
                handler: { inv, _ in
                    if inv.event == Array("boom".utf8) { throw Boom() }
                    return Array("done".utf8)
                }
            )
        } catch is RuntimeAPIError {}
        #expect(await seen.postedBefore == [1, 2], "after the first and the third answer, each already posted")
    }

    /// Posting the response failed (the Runtime API is unreachable): the loop ends with that error; the
    /// invocation, which succeeded, is not reported to `/error` as a handler failure.
    @Test func aResponseThatCannotBePostedEndsTheLoopAndIsNotAnInvocationError() async throws {
        let runtime = FakeRuntime(
            [Invocation(requestID: "1", event: Array("ok".utf8)), Invocation(requestID: "2", event: Array("ok".utf8))],
            respondFails: true
        )
        await #expect(throws: FakeRuntime.ConnectionLost.self) {
            try await LambdaLoop.run(client: runtime, logger: Logger(label: "test")) { _, _ in Array("done".utf8) }
        }
        #expect(await runtime.errors.isEmpty)
        #expect(await runtime.queue.map(\.requestID) == ["2"])
    }

    @Test func aFailingInvocationPostsAnErrorAndTheLoopGoesOn() async throws {
        let runtime = FakeRuntime([
            Invocation(requestID: "1", traceID: "Root=1-abc", event: Array("ok".utf8)),
            Invocation(requestID: "2", event: Array("boom".utf8)),
            Invocation(requestID: "3", event: Array("ok".utf8)),
        ])
        struct Boom: Error {}
        try await runUntilDrained(runtime, Logger(label: "test")) { inv, _ in
            if inv.event == Array("boom".utf8) { throw Boom() }
            return Array("done \(inv.requestID)".utf8)
        }
        #expect(await runtime.responses.map(\.0) == ["1", "3"])
        let errors = await runtime.errors
        #expect(errors.map(\.0) == ["2"] && errors.first?.1 == "Runtime.HandlerError")
    }

    @Test func eachInvocationLogsItsTimeAndItsHTTPCalls() async throws {
        let lines = LogCapture()
        var logger = lines.logger()
        logger.logLevel = .debug
        let runtime = FakeRuntime([Invocation(requestID: "7", event: Array("ok".utf8))])
        try await runUntilDrained(runtime, logger) { _, _ in
            // Two real calls to a closed loopback port (refused at once), as AWS calls would be made.
            for _ in 0..<2 { _ = try? await CurlHTTPClient().send(HTTPRequest(url: "http://127.0.0.1:9/", timeout: 2)) }
            return Array("done".utf8)
        }
        let line = try #require(lines.all.first { $0.message == "invocation" })
        #expect(line.metadata["aws_calls"] == "2" && line.metadata["request_id"] == "7")
        let handler = try #require(Int(line.metadata["handler_us"] ?? ""))
        let aws = try #require(Int(line.metadata["aws_us"] ?? ""))
        #expect(aws > 0 && aws <= handler)
    }
}
