import Foundation
import TFRegAWS
import TFRegArchive
import TFRegCrypto
import TFRegHTTPClient
import Testing

/// The loopback Runtime API (lambda_runtime_api.py) and `tfreg lambda` as real processes.
final class LambdaHarness: @unchecked Sendable {
    let runtime = Process()
    let function = Process()
    let port: Int
    let log = LockedLog()
    var api: String { "http://127.0.0.1:\(port)" }

    init(env: [String: String]) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("lambda_runtime_api.py").path
        runtime.executableURL = URL(fileURLWithPath: which("python3")!)
        runtime.arguments = [script]
        let out = Pipe()
        runtime.standardOutput = out
        runtime.standardError = FileHandle.nullDevice
        try runtime.run()
        guard let p = Int(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw TestFailure("runtime API did not start")
        }
        port = p
        // Started under the name Lambda uses: bootstrap. TFREG_LAMBDA_BOOTSTRAP names the `bootstrap`
        // unpacked from the Lambda zip (make lambda-zip-test), which then runs with its bundled lib/.
        let dir = makeTemporaryDirectory("lambda-task")
        if let unpacked = ProcessInfo.processInfo.environment["TFREG_LAMBDA_BOOTSTRAP"], !unpacked.isEmpty {
            function.executableURL = URL(fileURLWithPath: unpacked)
        } else {
            try FileManager.default.createSymbolicLink(atPath: dir + "/bootstrap", withDestinationPath: TFRegBinary.path)
            function.executableURL = URL(fileURLWithPath: dir + "/bootstrap")
        }
        function.environment = env.merging(["AWS_LAMBDA_RUNTIME_API": "127.0.0.1:\(port)", "PATH": "/usr/bin:/bin", "HOME": dir]) { a, _ in a }
        let pipe = Pipe()
        function.standardOutput = pipe
        function.standardError = pipe
        let log = self.log
        pipe.fileHandleForReading.readabilityHandler = { h in
            let d = h.availableData
            if !d.isEmpty { log.append(String(decoding: d, as: UTF8.self)) }
        }
        try function.run()
    }

    func curl(_ args: [String]) throws -> String { try runCommand(which("curl")!, ["-s"] + args).stdout }

    /// Sends one event and waits for what the function answered.
    func invoke(_ event: String) throws -> (kind: String, body: String, errorType: String?) {
        let id = try curl(["-X", "POST", "--data-binary", event, api + "/__enqueue"])
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let r = try runCommand(which("curl")!, ["-s", "-f", api + "/__result/" + id])
            if r.status == 0, let d = try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any] {
                return (d["kind"] as? String ?? "", d["body"] as? String ?? "", d["error_type"] as? String)
            }
            usleep(20_000)
        }
        throw TestFailure("no answer for \(id); function log:\n\(log.text)")
    }

    func stop() {
        for p in [function, runtime] where p.isRunning {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
    }

    deinit { stop() }
}

func json(_ s: String) -> [String: Any] { (try? JSONSerialization.jsonObject(with: Data(s.utf8)) as? [String: Any]) ?? [:] }

extension MotoBackedTests {
    /// `tfreg lambda` (started as `bootstrap`) against the loopback Runtime API, on DynamoDB + S3 + KMS
    /// (moto, signatures checked): every front end's event format, IAM tokens from the request context,
    /// create, and failures that end one invocation but not the process.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct LambdaProcessTests {
        @Test func servesAllFourFrontEndsWithIAMTokensFromTheRequestContext() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            // The function reaches AWS through the gateway, which also checks presigned URLs like S3.
            let gateway = try S3Gateway(moto: moto)
            defer { gateway.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("lambda-registry")
            let s3 = S3Client(client: aws)
            try await s3.createBucket("byob")
            let archive = try Gzip.compress(
                TarWriter.archive([TarEntry(path: "main.tf", kind: .file(Array("output \"v\" { value = \"1.0.0\" }\n".utf8)))])
            )
            try await s3.putObject(bucket: "byob", key: "acme/vpc/1.0.0.tar.gz", body: archive)
            let kmsKey = try await KMSClient(client: aws).createKey(description: "tfreg lambda tokens")
            let awsEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": gateway.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
            let dataDir = makeTemporaryDirectory("lambda-admin")
            let grant = try runCommand(
                TFRegBinary.path,
                ["grant", "create", "--table", "lambda-registry", "-n", "acme", "--new-token", "ci", "-d", "-u"],
                env: awsEnv.merging(["HOME": dataDir]) { a, _ in a }
            )
            #expect(grant.status == 0, "\(grant.stderr)")
            let ci = grant.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(
                try runCommand(
                    TFRegBinary.path,
                    ["grant", "create", "--table", "lambda-registry", "-n", "acme", "-r", "arn:aws:iam::123456789012:role/dev", "-d"],
                    env: awsEnv.merging(["HOME": dataDir]) { a, _ in a }
                ).status == 0
            )

            let lambda = try LambdaHarness(
                env: awsEnv.merging([
                    "TABLE_NAME": "lambda-registry", "RESOLVER_TYPE": "API_GATEWAY_HTTP",
                    "IAM_AUTH_KMS_KEY": kmsKey, "TFREG_AUDIENCE": "registry.example.com",
                    "TFREG_TOKEN_SERVICE": "execute-api",
                ]) { a, _ in a }
            )
            defer { lambda.stop() }
            let host = "registry.example.com"

            // HTTP API v2: discovery.
            let v2ctx =
                #""requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "registry.example.com", "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"}, "requestId": "r1", "routeKey": "$default", "stage": "$default""#
            let discovery = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/.well-known/terraform.json", "rawQueryString": "", "headers": {"host": "\#(host)"}, \#(v2ctx)}, "isBase64Encoded": false}"#
            )
            #expect(discovery.kind == "response")
            let d = json(discovery.body)
            #expect(d["statusCode"] as? Int == 200 && (d["body"] as? String ?? "").contains(#""modules.v1":"/v1/modules/""#), "\(discovery.body)")
            // Clients learn to sign GET /token for API Gateway in the function's region (the deployment module's setting).
            let tfregDoc = json(d["body"] as? String ?? "")["tfreg.v1"] as? [String: Any] ?? [:]
            #expect(tfregDoc["token_service"] as? String == "execute-api" && tfregDoc["token_region"] as? String == "us-east-1", "\(discovery.body)")

            // REST v1: create (bring your own bucket) with the static token.
            let digest = Base64.encode(SHA256.hash(archive))
            let createBody = #"{\"bucket\": \"byob\", \"key\": \"acme/vpc/1.0.0.tar.gz\", \"expected_checksum\": \"\#(digest)\"}"#
            let create = try lambda.invoke(
                #"{"resource": "/{proxy+}", "path": "/v1/modules/acme/vpc/aws/1.0.0/create", "httpMethod": "POST", "headers": {"Host": "\#(host)", "Authorization": "Bearer \#(ci)", "Content-Type": "application/json"}, "multiValueHeaders": {"Host": ["\#(host)"], "Authorization": ["Bearer \#(ci)"], "Content-Type": ["application/json"]}, "queryStringParameters": null, "multiValueQueryStringParameters": null, "requestContext": {"requestId": "r2", "identity": {"sourceIp": "192.0.2.1"}}, "body": "\#(createBody)", "isBase64Encoded": false}"#
            )
            let c = json(create.body)
            #expect(c["statusCode"] as? Int == 201 && c["multiValueHeaders"] != nil, "\(create.body)")

            // HTTP API v2 GET /token: the ARN comes from requestContext.authorizer.iam (the front end checked the signature);
            // JSON because the request asks for it, as tfreg's clients do (LegacyClientTests: the bare token otherwise).
            let iamCtx = v2ctx.replacing(
                #""requestId": "r1""#,
                with:
                    #""requestId": "r3", "authorizer": {"iam": {"accountId": "123456789012", "callerId": "AROAEXAMPLE:alice", "userArn": "arn:aws:sts::123456789012:assumed-role/dev/alice", "userId": "AROAEXAMPLE:alice"}}"#
            )
            let tokenAnswer = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/token", "rawQueryString": "expiration_seconds=600", "headers": {"host": "\#(host)", "accept": "application/json"}, \#(iamCtx)}, "isBase64Encoded": false}"#
            )
            let t = json(tokenAnswer.body)
            #expect(t["statusCode"] as? Int == 200, "\(tokenAnswer.body)")
            let token = json(t["body"] as? String ?? "")["token"] as? String ?? ""
            #expect(token.hasPrefix("tfi_") && (t["body"] as? String ?? "").contains("arn:aws:iam::123456789012:role/dev"))

            // Function URL: versions with the IAM token (answered as v2 although RESOLVER_TYPE says HTTP API).
            let fnCtx =
                #""requestContext": {"accountId": "123456789012", "apiId": "fnid", "domainName": "fnid.lambda-url.us-east-1.on.aws", "http": {"method": "GET", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"}, "requestId": "r4", "routeKey": "$default", "stage": "$default""#
            let versions = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/v1/modules/acme/vpc/aws/versions", "rawQueryString": "", "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
            )
            let v = json(versions.body)
            #expect(v["statusCode"] as? Int == 200 && (v["body"] as? String ?? "").contains(#"{"version":"1.0.0"}"#), "\(versions.body)")

            // The web pages on Lambda (HTTP API v2): the IAM token trades for a one-time code, the code for a
            // session cookie (the v2 `cookies` arrays both ways) that lives no longer than the token, and the
            // session renders `/` and the module's page.
            let codeAnswer = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/login/code", "rawQueryString": "", "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, \#(fnCtx.replacing("\"GET\"", with: "\"POST\""))}, "isBase64Encoded": false}"#
            )
            let codeBody = json(json(codeAnswer.body)["body"] as? String ?? "")
            let codePath = codeBody["path"] as? String ?? ""
            #expect(codePath.hasPrefix("/login?code=tfc_"), "\(codeAnswer.body)")
            let signIn = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/login", "rawQueryString": "\#(codePath.dropFirst("/login?".count))", "headers": {"host": "\#(host)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
            )
            let signedIn = json(signIn.body)
            let sessionCookie = (signedIn["cookies"] as? [String] ?? []).first { $0.hasPrefix("tfreg_session=tfs_") } ?? ""
            #expect(signedIn["statusCode"] as? Int == 303 && sessionCookie.contains("; HttpOnly; Secure; SameSite=Strict"), "\(signIn.body)")
            let maxAge = Int(sessionCookie.split(separator: ";").first { $0.contains("Max-Age=") }?.split(separator: "=").last ?? "") ?? Int.max
            #expect(maxAge > 0 && maxAge <= 600, "the session ends with the 600 s token: \(sessionCookie)")
            let cookieValue = String(sessionCookie.prefix { $0 != ";" })
            for (path, expected) in [("/", "acme/vpc/aws"), ("/modules/acme/vpc/aws", "1.0.0")] {
                let page = try lambda.invoke(
                    #"{"version": "2.0", "routeKey": "$default", "rawPath": "\#(path)", "rawQueryString": "", "cookies": ["\#(cookieValue)"], "headers": {"host": "\#(host)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
                )
                let p = json(page.body)
                let headers = p["headers"] as? [String: String] ?? [:]
                let csp = headers.first { $0.key.lowercased() == "content-security-policy" }?.value ?? ""
                #expect(p["statusCode"] as? Int == 200 && (p["body"] as? String ?? "").contains(expected), "\(path): \(page.body.prefix(500))")
                #expect(csp.hasPrefix("default-src 'self'") && (p["body"] as? String ?? "").hasPrefix("<!doctype html>"), "\(path): \(headers)")
            }
            // The code was single use, on Lambda too.
            let replay = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/login", "rawQueryString": "\#(codePath.dropFirst("/login?".count))", "headers": {"host": "\#(host)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
            )
            #expect(json(replay.body)["statusCode"] as? Int == 401, "\(replay.body)")

            // ALB: download → 204 with a presigned S3 URL; statusDescription as ALB requires.
            let download = try lambda.invoke(
                #"{"requestContext": {"elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tfreg/49e9d65c45c6791a"}}, "httpMethod": "GET", "path": "/v1/modules/acme/vpc/aws/1.0.0/download", "queryStringParameters": {}, "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, "body": "", "isBase64Encoded": false}"#
            )
            let dl = json(download.body)
            let link = (dl["headers"] as? [String: String])?["X-Terraform-Get"] ?? ""
            #expect(dl["statusCode"] as? Int == 204 && dl["statusDescription"] as? String == "204 No Content", "\(download.body)")
            #expect(link.hasPrefix(gateway.endpoint + "/byob/acme/vpc/1.0.0.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&"), "\(link)")
            // The presigned URL fetches exactly the archive (the gateway verifies its signature as S3 would).
            let fetched = makeTemporaryDirectory("lambda-fetch") + "/a.tar.gz"
            let get = try runCommand(which("curl")!, ["-s", "-o", fetched, "-w", "%{http_code}", link])
            #expect(get.stdout == "200" && FileManager.default.contents(atPath: fetched).map { Array($0) } == archive, "\(get.stdout)")

            // A version written by the tool tfreg replaces (boto3, its item layout) is served unchanged.
            let seed = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("lambda-registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~seed~aws~0.1.0", "namespace": "acme", "system": "aws", "name": "seed",
                                     "version": "0.1.0", "bucket": "byob", "key": "acme/vpc/1.0.0.tar.gz", "expected_checksum": "\(digest)"})
                    """,
                ],
                env: ["HOME": dataDir]
            )
            #expect(seed.status == 0, "\(seed.stderr)")
            let seedVersions = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/v1/modules/acme/seed/aws/versions", "rawQueryString": "", "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
            )
            #expect((json(seedVersions.body)["body"] as? String ?? "").contains(#"{"version":"0.1.0"}"#), "\(seedVersions.body)")
            let seedDownload = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/v1/modules/acme/seed/aws/0.1.0/download", "rawQueryString": "", "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, \#(fnCtx)}, "isBase64Encoded": false}"#
            )
            let seedLink =
                ((json(seedDownload.body)["headers"] as? [String: String]) ?? [:]).first { $0.key.lowercased() == "x-terraform-get" }?.value ?? ""
            #expect(seedLink.hasPrefix(gateway.endpoint + "/byob/acme/vpc/1.0.0.tar.gz?"), "\(seedDownload.body)")

            // Errors: a token without a grant's permission, a forged identity header, an unknown event.
            let upload = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/v1/modules/acme/vpc/aws/1.0.0", "rawQueryString": "", "headers": {"host": "\#(host)", "authorization": "Bearer \#(token)"}, \#(fnCtx.replacing("\"GET\"", with: "\"DELETE\""))}, "isBase64Encoded": false}"#
            )
            #expect(json(upload.body)["statusCode"] as? Int == 403, "\(upload.body)")
            let forged = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/token", "rawQueryString": "", "headers": {"host": "\#(host)", "x-amzn-iam-userarn": "arn:aws:iam::123456789012:role/admin"}, \#(v2ctx)}, "isBase64Encoded": false}"#
            )
            #expect(json(forged.body)["statusCode"] as? Int == 401, "\(forged.body)")
            let garbage = try lambda.invoke(#"{"hello": "world"}"#)
            #expect(garbage.kind == "error" && garbage.errorType == "Runtime.HandlerError")
            let notJSON = try lambda.invoke("not json at all")
            #expect(notJSON.kind == "error")
            // The process survived both and still answers.
            let again = try lambda.invoke(
                #"{"version": "2.0", "routeKey": "$default", "rawPath": "/health", "rawQueryString": "", "headers": {"host": "\#(host)"}, \#(v2ctx)}, "isBase64Encoded": false}"#
            )
            #expect(json(again.body)["statusCode"] as? Int == 200 && lambda.function.isRunning)
            // JSON log lines on stdout carry the request id; tokens never appear.
            #expect(
                lambda.log.text.contains(#""request_id":"req-"#) && !lambda.log.text.contains(token) && !lambda.log.text.contains(ci),
                "\(lambda.log.text.suffix(1500))"
            )
            // Issue 21: one Embedded Metric Format line per invocation, labelled by route template; audit
            // events as JSON lines and as items of the table (read back with `tfreg audit`).
            let lines = lambda.log.text.split(separator: "\n").map(String.init)
            let emf = lines.filter { $0.hasPrefix(#"{"_aws":{"Timestamp":"#) }.map(json)
            #expect(emf.count >= 10, "\(lines.suffix(5))")
            let directive = ((emf.first?["_aws"] as? [String: Any])?["CloudWatchMetrics"] as? [[String: Any]])?.first
            #expect(directive?["Namespace"] as? String == "tfreg" && (directive?["Dimensions"] as? [[String]]) == [["route", "status"]])
            let seedEMF = emf.first { $0["module"] as? String == "acme/seed/aws" }
            #expect(
                seedEMF?["route"] as? String == "/v1/modules/{namespace}/{name}/{system}/{version}/download" && seedEMF?["downloads"] as? Int == 1
            )
            #expect(emf.contains { $0["status"] as? String == "403" && $0["refused_writes"] as? Int == 1 })
            #expect(emf.contains { $0["route"] as? String == "/token" && $0["token_issues"] as? Int == 1 })
            #expect(!emf.contains { ($0["route"] as? String ?? "").contains("acme") }, "routes are templates")
            // After each invocation's line, one per AWS operation it called (moto's DynamoDB here).
            let calls = emf.filter { $0["aws_calls"] != nil && $0["operation"] != nil }
            let callDirective = ((calls.first?["_aws"] as? [String: Any])?["CloudWatchMetrics"] as? [[String: Any]])?.first
            #expect((callDirective?["Dimensions"] as? [[String]]) == [["service", "operation", "outcome"]], "\(calls.prefix(2))")
            let getItems = calls.filter { $0["service"] as? String == "dynamodb" && $0["operation"] as? String == "GetItem" }
            #expect(getItems.contains { $0["outcome"] as? String == "ok" })
            #expect(calls.contains { $0["operation"] as? String == "PutItem" || $0["operation"] as? String == "TransactWriteItems" })
            #expect(emf.contains { ($0["aws_call_duration"] as? [Any])?.isEmpty == false })
            let audit = lines.filter { $0.hasPrefix(#"{"audit":true"#) }.map(json)
            #expect(
                audit.contains {
                    $0["action"] as? String == "DELETE /v1/modules/{namespace}/{name}/{system}/{version}" && $0["result"] as? String == "denied"
                }
            )
            #expect(audit.contains { $0["action"] as? String == "issue_token" && $0["principal"] as? String == "arn:aws:iam::123456789012:role/dev" })
            let stored = try runCommand(
                TFRegBinary.path,
                ["audit", "--table", "lambda-registry", "-n", "acme", "--output", "json"],
                env: awsEnv.merging(["HOME": dataDir]) { a, _ in a }
            )
            let storedActions = ((json(stored.stdout)["events"] as? [[String: Any]]) ?? []).map { $0["action"] as? String ?? "" }
            #expect(
                storedActions.first == "put_grant" && storedActions.contains("DELETE /v1/modules/{namespace}/{name}/{system}/{version}"),
                "\(stored.stderr) \(storedActions)"
            )
            let issued = try runCommand(
                TFRegBinary.path,
                ["audit", "--table", "lambda-registry"],
                env: awsEnv.merging(["HOME": dataDir]) { a, _ in a }
            )
            #expect(issued.stdout.contains("create_token") && issued.stdout.contains("issue_token"), "\(issued.stdout)")
        }

        @Test func aConfigurationErrorIsReportedToInitErrorAndExits() async throws {
            let lambda = try LambdaHarness(env: [
                "TABLE_NAME": "t-1", "RESOLVER_TYPE": "BOGUS", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b",
                "AWS_EC2_METADATA_DISABLED": "true",
            ])
            defer { lambda.stop() }
            lambda.function.waitUntilExit()
            #expect(lambda.function.terminationStatus == 1)
            let e = json(try lambda.curl([lambda.api + "/__init_error"]))
            #expect(e["error_type"] as? String == "Runtime.ConfigError" && (e["body"] as? String ?? "").contains("RESOLVER_TYPE"), "\(e)")
        }
    }
}
