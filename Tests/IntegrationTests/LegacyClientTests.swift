import Foundation
import TFRegAWS
import TFRegArchive
import TFRegCrypto
import TFRegHTTPClient
import Testing

extension MotoBackedTests {
    /// A team on the replaced Python tool swaps its Lambda for `tfreg lambda` and changes nothing else:
    /// the function runs on exactly the old tool's variables (no TFREG_*), the data the old tool wrote
    /// (a version pointing at the user's bucket, a grant under a role ARN with a path) is served, and
    /// the old clients' contract holds: `GET /token` with python-requests' `Accept: */*`, the response
    /// text used verbatim as `Authorization: Bearer <text>`. Each front end's event format (HTTP API
    /// v2, REST v1, Function URL) on the loopback Runtime API, DynamoDB/S3/KMS on moto (signatures checked).
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct LegacyClientTests {
        static let account = "123456789012"

        @Test func theReplacedToolsClientsAndConfigurationWork() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let gateway = try S3Gateway(moto: moto)
            defer { gateway.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            let s3 = S3Client(client: aws)
            try await s3.createBucket("byob")
            let archive = try Gzip.compress(
                TarWriter.archive([TarEntry(path: "main.tf", kind: .file(Array("output \"v\" { value = \"0.3.0\" }\n".utf8)))])
            )
            try await s3.putObject(bucket: "byob", key: "modules/vpc-0.3.0.tar.gz", body: archive)
            let digest = Base64.encode(SHA256.hash(archive))
            let kmsKey = try await KMSClient(client: aws).createKey(description: "the replaced tool's token key")
            let work = makeTemporaryDirectory("legacy-client")
            // The replaced tool's items, written with boto3 in its layout: a version in the user's bucket and
            // a grant for a role with a path (as IAM Identity Center roles have).
            let pathRole = "arn:aws:iam::\(Self.account):role/teams/platform/dev"
            let seed = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~vpc~aws~0.3.0", "namespace": "acme", "system": "aws", "name": "vpc",
                                     "version": "0.3.0", "bucket": "byob", "key": "modules/vpc-0.3.0.tar.gz", "expected_checksum": "\(digest)"})
                    t.put_item(Item={"pk": "acme", "sk": "IAMBearerAuth~\(pathRole)", "namespace": "acme", "identifier": "\(pathRole)",
                                     "permissions": {"download": True, "upload": False, "create_grant": False, "delete_grant": False}})
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(seed.status == 0, "\(seed.stderr)")

            // Exactly the replaced tool's configuration (its Terraform set API_GATEWAY_REST behind an HTTP API),
            // plus the AWS endpoint variables that point at moto. No TFREG_* variable.
            let env = [
                "TABLE_NAME": "registry", "RESOLVER_TYPE": "API_GATEWAY_REST", "IAM_AUTH_KMS_KEY": kmsKey, "MAX_IAM_TOKEN_EXPIRATION_WINDOW": "900",
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": gateway.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
            #expect(!env.keys.contains { $0.hasPrefix("TFREG_") })
            let lambda = try LambdaHarness(env: env)
            defer { lambda.stop() }

            // What python-requests sends (the old get-registry-token and credentials helper).
            let requests = #""accept": "*/*", "accept-encoding": "gzip, deflate", "user-agent": "python-requests/2.31.0""#
            func v2(_ domain: String, _ path: String, query: String = "", arn: String?, headers: String) -> String {
                let authorizer =
                    arn.map {
                        #", "authorizer": {"iam": {"accountId": "\#(Self.account)", "callerId": "AROAEXAMPLE:s", "userArn": "\#($0)", "userId": "AROAEXAMPLE:s"}}"#
                    } ?? ""
                return
                    #"{"version": "2.0", "routeKey": "$default", "rawPath": "\#(path)", "rawQueryString": "\#(query)", "headers": {"host": "\#(domain)", \#(headers)}, "requestContext": {"accountId": "\#(Self.account)", "apiId": "abc", "domainName": "\#(domain)", "http": {"method": "GET", "path": "\#(path)", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"}, "requestId": "r", "routeKey": "$default", "stage": "$default"\#(authorizer)}, "isBase64Encoded": false}"#
            }
            func rest(_ domain: String, _ path: String, query: [String: String] = [:], arn: String?, headers: [String: String]) -> String {
                let h = (["Host": domain]).merging(headers) { a, _ in a }
                let hs = h.map { #""\#($0.key)": "\#($0.value)""# }.joined(separator: ", ")
                let mhs = h.map { #""\#($0.key)": ["\#($0.value)"]"# }.joined(separator: ", ")
                let q = query.isEmpty ? "null" : "{" + query.map { #""\#($0.key)": "\#($0.value)""# }.joined(separator: ", ") + "}"
                let mq = query.isEmpty ? "null" : "{" + query.map { #""\#($0.key)": ["\#($0.value)"]"# }.joined(separator: ", ") + "}"
                let identity =
                    arn.map { #""userArn": "\#($0)", "accountId": "\#(Self.account)", "sourceIp": "192.0.2.1""# } ?? #""sourceIp": "192.0.2.1""#
                return
                    #"{"resource": "/{proxy+}", "path": "\#(path)", "httpMethod": "GET", "headers": {\#(hs)}, "multiValueHeaders": {\#(mhs)}, "queryStringParameters": \#(q), "multiValueQueryStringParameters": \#(mq), "requestContext": {"requestId": "r", "domainName": "\#(domain)", "identity": {\#(identity)}}, "body": null, "isBase64Encoded": false}"#
            }
            func answer(_ event: String) throws -> (status: Int, headers: [String: String], body: String) {
                let r = try lambda.invoke(event)
                let d = json(r.body)
                var headers: [String: String] = [:]
                for (k, v) in d["headers"] as? [String: Any] ?? [:] { headers[k.lowercased()] = v as? String ?? "\(v)" }
                for (k, v) in d["multiValueHeaders"] as? [String: [Any]] ?? [:] { headers[k.lowercased()] = v.map { "\($0)" }.joined(separator: ",") }
                return (d["statusCode"] as? Int ?? 0, headers, d["body"] as? String ?? "")
            }
            let dev = "arn:aws:sts::\(Self.account):assumed-role/dev/alice"

            // HTTP API v2 (the replaced tool's own deployment): the token is the response text, verbatim.
            let httpDomain = "registry.example.com"
            let t2 = try answer(v2(httpDomain, "/token", query: "expiration_seconds=300", arn: dev, headers: requests))
            #expect(t2.status == 200 && t2.headers["content-type"]?.hasPrefix("text/plain") == true, "\(t2)")
            #expect(t2.body.hasPrefix("tfi_") && !t2.body.contains("{") && !t2.body.contains("\n"), "\(t2.body)")
            let bearer2 = #""authorization": "Bearer \#(t2.body)", "#
            let versions2 = try answer(v2(httpDomain, "/v1/modules/acme/vpc/aws/versions", arn: nil, headers: bearer2 + requests))
            #expect(versions2.status == 200 && versions2.body.contains(#"{"version":"0.3.0"}"#), "\(versions2)")
            let download2 = try answer(v2(httpDomain, "/v1/modules/acme/vpc/aws/0.3.0/download", arn: nil, headers: bearer2 + requests))
            let link = download2.headers["x-terraform-get"] ?? ""
            #expect(download2.status == 204 && link.hasPrefix(gateway.endpoint + "/byob/modules/vpc-0.3.0.tar.gz?"), "\(download2)")
            let fetched = work + "/fetched.tar.gz"
            let get = try runCommand(which("curl")!, ["-s", "-o", fetched, "-w", "%{http_code}", link])
            #expect(get.stdout == "200" && FileManager.default.contents(atPath: fetched).map { Array($0) } == archive, "\(get.stdout)")
            // tfreg's own clients ask for JSON and get it.
            let asJSON = try answer(v2(httpDomain, "/token", query: "expiration_seconds=300", arn: dev, headers: #""accept": "application/json""#))
            #expect(asJSON.status == 200 && (json(asJSON.body)["token"] as? String ?? "").hasPrefix("tfi_"), "\(asJSON)")
            #expect(json(asJSON.body)["principal"] as? String == "arn:aws:iam::\(Self.account):role/dev")

            // REST API v1: identity in requestContext.identity, headers in both forms.
            let restDomain = "abc123.execute-api.us-east-1.amazonaws.com"
            let oldHeaders = ["Accept": "*/*", "User-Agent": "python-requests/2.31.0"]
            let t1 = try answer(rest(restDomain, "/token", query: ["expiration_seconds": "300"], arn: dev, headers: oldHeaders))
            #expect(t1.status == 200 && t1.body.hasPrefix("tfi_") && !t1.body.contains("{"), "\(t1)")
            let versions1 = try answer(
                rest(
                    restDomain,
                    "/v1/modules/acme/vpc/aws/versions",
                    arn: nil,
                    headers: oldHeaders.merging(["Authorization": "Bearer \(t1.body)"]) { a, _ in a }
                )
            )
            #expect(versions1.status == 200 && versions1.body.contains(#"{"version":"0.3.0"}"#), "\(versions1)")

            // Function URL (signed for `lambda`): the same contract.
            let urlDomain = "fnid0123.lambda-url.us-east-1.on.aws"
            let tf = try answer(v2(urlDomain, "/token", query: "expiration_seconds=300", arn: dev, headers: requests))
            #expect(tf.status == 200 && tf.body.hasPrefix("tfi_") && !tf.body.contains("{"), "\(tf)")
            let versionsF = try answer(
                v2(urlDomain, "/v1/modules/acme/vpc/aws/versions", arn: nil, headers: #""authorization": "Bearer \#(tf.body)", "# + requests)
            )
            #expect(versionsF.status == 200 && versionsF.body.contains(#"{"version":"0.3.0"}"#), "\(versionsF)")
            let downloadF = try answer(
                v2(urlDomain, "/v1/modules/acme/vpc/aws/0.3.0/download", arn: nil, headers: #""authorization": "Bearer \#(tf.body)", "# + requests)
            )
            #expect(downloadF.status == 204 && downloadF.headers["x-terraform-get"] != nil, "\(downloadF)")

            // Without TFREG_AUDIENCE a token is sealed for the domain it was issued on and works nowhere else.
            let crossed = try answer(v2(urlDomain, "/v1/modules/acme/vpc/aws/versions", arn: nil, headers: bearer2 + requests))
            #expect(crossed.status == 401, "\(crossed)")
            // The role-path grant is matched by account + role name only: another role gets its token, then 403.
            let ops = try answer(v2(httpDomain, "/token", arn: "arn:aws:sts::\(Self.account):assumed-role/ops/bob", headers: requests))
            let denied = try answer(
                v2(httpDomain, "/v1/modules/acme/vpc/aws/versions", arn: nil, headers: #""authorization": "Bearer \#(ops.body)", "# + requests)
            )
            #expect(ops.status == 200 && denied.status == 403, "\(ops) \(denied)")
            // POST /token (presigned STS) needs TFREG_AUDIENCE, and says so.
            let post = try lambda.invoke(
                v2(httpDomain, "/token", arn: nil, headers: #""content-type": "application/json""#).replacing(
                    #""method": "GET""#,
                    with: #""method": "POST""#
                )
            )
            let p = json(json(post.body)["body"] as? String ?? "")
            #expect(json(post.body)["statusCode"] as? Int == 404 && "\(p["errors"] ?? "")".contains("TFREG_AUDIENCE"), "\(post.body)")
            // The start log says how IAM runs; tokens never appear in it.
            #expect(lambda.log.text.contains("TFREG_AUDIENCE is not set"), "\(lambda.log.text.suffix(1500))")
            #expect(!lambda.log.text.contains(t2.body) && !lambda.log.text.contains(tf.body))

            // import-legacy reports the grant written with a path, and changes nothing about it.
            let report = try runCommand(
                TFRegBinary.path,
                ["import-legacy", "--table", "registry", "--dry-run"],
                env: env.merging(["AWS_ENDPOINT_URL": moto.endpoint, "HOME": work, "TFREG_DATA_DIR": work + "/data"]) { _, b in b }
            )
            #expect(
                report.status == 0
                    && report.stdout.contains(
                        "grant in namespace acme for \(pathRole): written with a role path; applies to arn:aws:iam::\(Self.account):role/dev"
                    )
                    && report.stdout.contains("1 grant(s) written with a role path"),
                "\(report.stdout)\(report.stderr)"
            )
        }
    }
}
