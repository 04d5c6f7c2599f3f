import TFRegHTTPClient
import TFRegSystem
import Testing

@testable import TFRegAWS

@Suite struct EndpointTests {
    @Test func regionNamesFollowTheirGrammar() {
        for r in ["us-east-1", "cn-north-1", "us-gov-west-1", "ap-southeast-2", "eu-central-2"] { #expect(AWSEndpoint.isValidRegion(r), "\(r)") }
        for r in [
            "", "US-EAST-1", "us-east-1.", "us--east-1", "-us-east-1", "us-east-1-", "1us-east", "us-east-1/x", "evil.example.com#", "us-east-1\r\n",
        ] {
            #expect(!AWSEndpoint.isValidRegion(r), "\(r)")
        }
    }

    @Test func standardVariables() {
        #expect(AWSEndpoint.resolve(service: "dynamodb", region: "eu-west-1", environment: [:]).baseURL == "https://dynamodb.eu-west-1.amazonaws.com")
        #expect(AWSEndpoint.resolve(service: "sts", region: "cn-north-1", environment: [:]).baseURL == "https://sts.cn-north-1.amazonaws.com.cn")
        let env = ["AWS_ENDPOINT_URL": "http://127.0.0.1:5000/", "AWS_ENDPOINT_URL_DYNAMODB": "http://127.0.0.1:6000"]
        #expect(
            AWSEndpoint.resolve(service: "dynamodb", region: "us-east-1", environment: env)
                == AWSEndpoint(baseURL: "http://127.0.0.1:6000", isCustom: true)
        )
        #expect(AWSEndpoint.resolve(service: "s3", region: "us-east-1", environment: env).baseURL == "http://127.0.0.1:5000")
        #expect(AWSEndpoint.resolve(service: "s3", region: "us-east-1", environment: env).host == "127.0.0.1:5000")
        var ignored = env
        ignored["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
        #expect(AWSEndpoint.resolve(service: "s3", region: "us-east-1", environment: ignored).isCustom == false)
        #expect(AWSEndpoint.partition(region: "us-gov-west-1") == "aws-us-gov")
    }
}

/// Records what an `AWSClient` reports, as "service operation outcome" lines in order.
final class RecordingSink: MetricsSink, @unchecked Sendable {
    var counts: [String] = []
    var durations: [String] = []
    func increment(_ name: String, _ labels: [String], by amount: Double) {
        if name == "tfreg_aws_calls_total" { counts.append("\(labels[1]) \(labels[3]) \(labels[5])") }
    }
    func observe(_ name: String, _ labels: [String], seconds: Double) {
        if name == "tfreg_aws_call_duration_seconds", seconds >= 0 { durations.append("\(labels[1]) \(labels[3])") }
    }
    func addCounter(_ name: String, _ labels: [String], read: @escaping @Sendable () -> Double) {}
}

/// A scripted HTTP client: answers from a list and counts calls.
final class ScriptedHTTPClient: HTTPClient, @unchecked Sendable {
    var answers: [Result<HTTPResponse, HTTPClientError>]
    var requests: [HTTPRequest] = []
    init(_ answers: [Result<HTTPResponse, HTTPClientError>]) { self.answers = answers }
    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        requests.append(request)
        return try answers.removeFirst().get()
    }
}

@Suite struct ErrorAndRetryTests {
    static func response(_ status: Int, _ body: String, headers: [(String, String)] = []) -> Result<HTTPResponse, HTTPClientError> {
        .success(HTTPResponse(status: status, headers: headers.map { ($0.0, $0.1) }, body: Array(body.utf8)))
    }

    func client(_ http: ScriptedHTTPClient) -> AWSClient {
        AWSClient(
            http: http,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
            region: "us-east-1",
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1"],
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.001)
        )
    }

    @Test func classifiesJSONAndXMLErrors() {
        let ddb = AWSClient.parseError(
            HTTPResponse(
                status: 400,
                headers: [],
                body: Array(
                    #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException","message":"The conditional request failed"}"#.utf8
                )
            )
        )
        #expect(ddb.kind == .conditionalCheckFailed && ddb.message == "The conditional request failed")
        let throttled = AWSClient.parseError(
            HTTPResponse(status: 400, headers: [], body: Array(#"{"__type":"ProvisionedThroughputExceededException","message":"slow down"}"#.utf8))
        )
        #expect(throttled.kind == .throttling && throttled.isRetryable)
        let sts = AWSClient.parseError(
            HTTPResponse(
                status: 403,
                headers: [],
                body: Array(
                    "<ErrorResponse><Error><Type>Sender</Type><Code>SignatureDoesNotMatch</Code><Message>bad &amp; wrong</Message></Error></ErrorResponse>"
                        .utf8
                )
            )
        )
        #expect(sts.kind == .authentication && sts.message == "bad & wrong" && !sts.isRetryable)
        let s3 = AWSClient.parseError(
            HTTPResponse(status: 404, headers: [], body: Array("<Error><Code>NoSuchKey</Code><Message>x</Message></Error>".utf8))
        )
        #expect(s3.kind == .notFound)
        let denied = AWSClient.parseError(HTTPResponse(status: 403, headers: [], body: []))
        #expect(denied.kind == .accessDenied)
        let truncated = AWSClient.parseError(HTTPResponse(status: 500, headers: [], body: Array(#"{"__type":"Intern"#.utf8)))
        #expect(truncated.kind == .serviceUnavailable && truncated.isRetryable)
    }

    /// Issue 17: every `TransactionCanceledException` was taken for a conflict (409, or "not found" for a
    /// delete), even when DynamoDB cancelled for throttling or a conflicting transaction, which retrying
    /// fixes. Its `CancellationReasons` decide now; without them, the reasons its message lists.
    @Test func transactionCancellationsAreClassifiedByTheirReasons() {
        func cancelled(
            _ reasons: String?,
            message: String = "Transaction cancelled, please refer cancellation reasons for specific reasons"
        ) -> AWSError {
            let list = reasons.map { #","CancellationReasons":"# + $0 } ?? ""
            return AWSClient.parseError(
                HTTPResponse(
                    status: 400,
                    headers: [],
                    body: Array(#"{"__type":"com.amazonaws.dynamodb.v20120810#TransactionCanceledException","Message":"\#(message)"\#(list)}"#.utf8)
                )
            )
        }
        let condition = cancelled(#"[{"Code":"None"},{"Code":"ConditionalCheckFailed","Message":"The conditional request failed"}]"#)
        #expect(condition.kind == .conditionalCheckFailed && condition.code == "TransactionCanceledException")
        let throttled = cancelled(#"[{"Code":"ThrottlingError","Message":"Throughput exceeds the current capacity"},{"Code":"None"}]"#)
        #expect(throttled.kind == .throttling && throttled.isRetryable)
        #expect(cancelled(#"[{"Code":"TransactionConflict"},{"Code":"None"}]"#).kind == .throttling)
        #expect(cancelled(#"[{"Code":"ProvisionedThroughputExceeded"}]"#).kind == .throttling)
        #expect(cancelled(#"[{"Code":"ValidationError","Message":"bad"}]"#).kind == .validation)
        // A condition failing beside a throttled item is still a conflict: retrying cannot make it hold.
        #expect(cancelled(#"[{"Code":"ThrottlingError"},{"Code":"ConditionalCheckFailed"}]"#).kind == .conditionalCheckFailed)
        // No reasons, or ones not known: the service failed (503), it is not a conflict.
        #expect(cancelled(nil).kind == .serviceUnavailable)
        #expect(cancelled(#"[{"Code":"SomethingNew"}]"#).kind == .serviceUnavailable)
        #expect(cancelled(#"[{"Message":"no code"}]"#).kind == .serviceUnavailable)
        #expect(cancelled(#"{"Code":"ConditionalCheckFailed"}"#).kind == .serviceUnavailable, "not an array: no reasons")
        // The message's list when the body has no CancellationReasons (moto, older SDK answers).
        #expect(
            cancelled(nil, message: "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ConditionalCheckFailed]")
                .kind == .conditionalCheckFailed
        )
        #expect(
            cancelled(nil, message: "Transaction cancelled, please refer cancellation reasons for specific reasons [TransactionConflict]").kind
                == .throttling
        )
        // ConditionalCheckFailed named anywhere else in the message is not a reason.
        #expect(cancelled(nil, message: "ConditionalCheckFailed? no: [ThrottlingError]").kind == .throttling)
        #expect(AWSError.reasonsListed(in: "x [a, b ,c]") == ["a", "b", "c"])
        #expect(AWSError.reasonsListed(in: "x ] [") == [])
    }

    /// JSON error bodies are JSON: `\u` escapes and escaped quotes are decoded, and a `"message"` inside
    /// another string or object is not the message.
    @Test func readsJSONErrorBodiesAsJSON() {
        let escaped = AWSClient.parseError(
            HTTPResponse(
                status: 400,
                headers: [],
                body: Array(#"{"__type":"com.amazonaws.kms#\u0041ccessDeniedException","message":"key \"alias/x\" is \u0064isabled"}"#.utf8)
            )
        )
        #expect(escaped.code == "AccessDeniedException" && escaped.kind == .accessDenied)
        #expect(escaped.message == #"key "alias/x" is disabled"#)
        let nested = AWSClient.parseError(
            HTTPResponse(
                status: 400,
                headers: [],
                body: Array(#"{"detail":{"message":"inner"},"__type":"ValidationException","Message":"outer"}"#.utf8)
            )
        )
        #expect(nested.code == "ValidationException" && nested.message == "outer")
    }

    @Test func retriesThrottlingAnd5xxButNotClientErrors() async throws {
        let http = ScriptedHTTPClient([Self.response(503, ""), Self.response(400, #"{"__type":"ThrottlingException"}"#), Self.response(200, "ok")])
        let r = try await client(http).send(service: "dynamodb", method: "POST", body: [])
        #expect(r.status == 200 && http.requests.count == 3)
        // Every attempt is signed afresh and carries an Authorization header.
        #expect(http.requests.allSatisfy { $0.headers.contains { $0.name == "Authorization" } })

        let validation = ScriptedHTTPClient([Self.response(400, #"{"__type":"ValidationException","message":"no"}"#), Self.response(200, "")])
        await #expect(throws: AWSError.self) { try await client(validation).send(service: "dynamodb", method: "POST") }
        #expect(validation.requests.count == 1)

        let down = ScriptedHTTPClient((0..<3).map { _ in .failure(HTTPClientError(kind: .connect, message: "refused")) })
        let e = await #expect(throws: AWSError.self) { try await client(down).send(service: "sts", method: "POST") }
        #expect(e?.kind == .network && down.requests.count == 3)
    }

    /// What `--metrics-listen` shows of AWS: one count per call (its retries inside it) by service,
    /// operation and outcome, and its time; the operation is read from tfreg's own request.
    @Test func callsAreCountedByOperationAndOutcome() async throws {
        let sink = RecordingSink()
        let http = ScriptedHTTPClient([
            Self.response(503, ""), Self.response(200, "{}"),  // GetItem: retried once, one call
            Self.response(400, #"{"__type":"com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}"#),
            Self.response(200, "<GetCallerIdentityResponse/>"), Self.response(404, ""),
        ])
        let aws = AWSClient(
            http: http,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
            region: "us-east-1",
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1"],
            retry: RetryPolicy(maxAttempts: 3, baseDelay: 0.001),
            metrics: sink
        )
        _ = try await aws.sendJSON(service: "dynamodb", target: "DynamoDB_20120810.GetItem", jsonVersion: "1.0", body: [])
        await #expect(throws: AWSError.self) {
            try await aws.sendJSON(service: "dynamodb", target: "DynamoDB_20120810.PutItem", jsonVersion: "1.0", body: [])
        }
        _ = try await aws.send(service: "sts", method: "POST", body: Array("Action=GetCallerIdentity&Version=2011-06-15".utf8))
        await #expect(throws: AWSError.self) { try await aws.send(service: "s3", method: "HEAD", path: "/bucket/key") }
        #expect(
            sink.counts == [
                "dynamodb GetItem ok", "dynamodb PutItem conditionalCheckFailed", "sts GetCallerIdentity ok", "s3 HeadObject notFound",
            ]
        )
        #expect(sink.durations == ["dynamodb GetItem", "dynamodb PutItem", "sts GetCallerIdentity", "s3 HeadObject"])
        #expect(http.requests.count == 5)
        #expect(AWSClient.operation(service: "s3", method: "GET", query: [("list-type", "2")], headers: [], body: []) == "ListObjectsV2")
        #expect(AWSClient.operation(service: "s3", method: "PUT", query: [], headers: [("x-amz-copy-source", "b/k")], body: []) == "CopyObject")
    }

    @Test func backoffIsCappedWithFullJitter() {
        let p = RetryPolicy(maxAttempts: 5, baseDelay: 0.1, maxDelay: 1)
        #expect(p.delay(afterAttempt: 1, random: 1) == 0.2)
        #expect(p.delay(afterAttempt: 10, random: 1) == 1)
        #expect(p.delay(afterAttempt: 3, random: 0) == 0)
    }
}

/// `DynamoDBClient.queryPage` from a start key: the request carries the limit, the filter (its names
/// and values merged with the key condition's), the direction and the start key only when given, and
/// the answer's items and `LastEvaluatedKey` come back.
@Suite struct QueryPageTests {
    func dynamo(_ http: ScriptedHTTPClient) -> DynamoDBClient {
        DynamoDBClient(
            client: AWSClient(
                http: http,
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "AKID", secretAccessKey: "s")),
                region: "us-east-1",
                environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1"],
                retry: RetryPolicy(maxAttempts: 1, baseDelay: 0.001)
            )
        )
    }

    @Test func sendsLimitFilterDirectionAndStartKeyAndReadsTheNextKey() async throws {
        let answer =
            #"{"Count":1,"ScannedCount":3,"Items":[{"pk":{"S":"ns"},"sk":{"S":"ModuleSummary/a/aws"}}],"LastEvaluatedKey":{"pk":{"S":"ns"},"sk":{"S":"ModuleSummary/c/aws"}}}"#
        let http = ScriptedHTTPClient([ErrorAndRetryTests.response(200, answer), ErrorAndRetryTests.response(200, #"{"Count":0,"Items":[]}"#)])
        let key = DynamoDBClient.Expression("pk = :pk AND begins_with(sk, :p)", values: [":pk": .s("ns"), ":p": .s("ModuleSummary/")])
        let page = try await dynamo(http).queryPage(
            table: "t",
            keyCondition: key,
            filter: .init("#system = :system", names: ["#system": "system"], values: [":system": .s("aws")]),
            limit: 7,
            from: ["pk": .s("ns"), "sk": .s("ModuleSummary/0/aws")],
            forward: false
        )
        #expect(page.items == [["pk": .s("ns"), "sk": .s("ModuleSummary/a/aws")]])
        #expect(page.next == ["pk": .s("ns"), "sk": .s("ModuleSummary/c/aws")])
        let body = String(decoding: http.requests[0].body, as: UTF8.self)
        for part in [
            #""Limit":7"#, ##""FilterExpression":"#system = :system""##, ##""ExpressionAttributeNames":{"#system":"system"}"##,
            #""ExpressionAttributeValues":{":p":{"S":"ModuleSummary/"},":pk":{"S":"ns"},":system":{"S":"aws"}}"#, #""ScanIndexForward":false"#,
            #""ExclusiveStartKey":{"pk":{"S":"ns"},"sk":{"S":"ModuleSummary/0/aws"}}"#,
        ] {
            #expect(body.contains(part), "\(part) in \(body)")
        }
        // The first page, forward, unfiltered: none of the optional members.
        let first = try await dynamo(http).queryPage(table: "t", keyCondition: key, limit: 1, from: nil)
        #expect(first.items.isEmpty && first.next == nil)
        let plain = String(decoding: http.requests[1].body, as: UTF8.self)
        #expect(
            ["FilterExpression", "ScanIndexForward", "ExclusiveStartKey", "ExpressionAttributeNames"].allSatisfy { !plain.contains($0) },
            "\(plain)"
        )
        #expect(plain.contains(#""Limit":1"#))
    }
}
