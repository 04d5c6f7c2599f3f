import Foundation
import TFRegAWS
import TFRegCrypto
import TFRegHTTPClient
import TFRegStoreAWS
import Testing

/// The gateway in front of moto that verifies presigned S3 URLs with botocore (see s3_gateway.py).
final class S3Gateway: @unchecked Sendable {
    let process = Process()
    let port: Int
    var endpoint: String { "http://127.0.0.1:\(port)" }

    init(moto: MotoServer) throws {
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("s3_gateway.py").path
        process.executableURL = URL(fileURLWithPath: which("python3")!)
        process.arguments = [script, moto.endpoint, moto.accessKeyID, moto.secretAccessKey]
        process.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard let p = Int(line) else { throw TestFailure("s3_gateway.py did not start") }
        port = p
    }

    func counts() throws -> [String: Int] {
        let r = try runCommand(which("curl") ?? "/usr/bin/curl", ["-s", endpoint + "/__counts"])
        return (try? JSONDecoder().decode([String: Int].self, from: Data(r.stdout.utf8))) ?? [:]
    }

    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}

extension MotoBackedTests {
    /// `tfreg serve` on DynamoDB + S3 (moto, signatures checked) over HTTPS: a module uploaded with the
    /// AWS CLI is registered through `create`, another through the upload route (stored in S3), and the
    /// real Terraform CLI installs both through presigned S3 URLs.
    @Suite(
        .serialized,
        .enabled(
            if: MotoServer.available && TerraformEndToEndTests.terraform != nil && which("aws") != nil,
            "needs moto_server, terraform and the aws CLI (make test installs them)"
        )
    )
    struct AWSServeEndToEndTests {
        @Test func terraformInstallsModulesRegisteredOnDynamoDBAndS3() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let gateway = try S3Gateway(moto: moto)
            defer { gateway.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            let s3 = S3Client(client: aws)
            try await s3.createBucket("tfreg-archives")
            try await s3.createBucket("byob")
            let awsEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": gateway.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]

            // The user's own upload, with the AWS CLI and a SHA-256 checksum (as the replaced tool documents).
            let work = makeTemporaryDirectory("aws-e2e")
            try writeModule(at: work + "/byob", version: "1.0.0")
            let tar = try runCommand("/bin/tar", ["-czf", work + "/byob.tar.gz", "-C", work + "/byob", "."])
            #expect(tar.status == 0)
            let put = try runCommand(
                which("aws")!,
                [
                    "s3api", "put-object", "--bucket", "byob", "--key", "modules/acme/vpc/1.0.0.tar.gz", "--body", work + "/byob.tar.gz",
                    "--checksum-algorithm", "SHA256", "--output", "json",
                ],
                env: awsEnv.merging(["HOME": work]) { a, _ in a }
            )
            #expect(put.status == 0, "aws s3api put-object: \(put.stderr)")
            let checksum = try #require(try JSONDecoder().decode([String: String].self, from: Data(put.stdout.utf8))["ChecksumSHA256"])
            let digest = SHA256.hash(try Array(Data(contentsOf: URL(fileURLWithPath: work + "/byob.tar.gz"))))
            #expect(checksum == Base64.encode(digest))
            // And one object without a checksum.
            let plain = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    boto3.client("s3", endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)",
                                 aws_secret_access_key="\(moto.secretAccessKey)").put_object(Bucket="byob", Key="plain.tar.gz", Body=b"x")
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(plain.status == 0, "\(plain.stderr)")

            let server = try ServerProcess(
                extraEnv: awsEnv.merging(["TABLE_NAME": "registry", "TFREG_STORAGE": "s3://tfreg-archives/registry"]) { a, _ in a },
                extraArgs: ["--metrics-listen", "127.0.0.1:0"]
            )
            let publisher = try server.tfreg(
                ["grant", "create", "-n", "acme", "--new-token", "publisher", "--upload"],
                env: awsEnv.merging(["TABLE": "registry"]) { a, _ in a }
            )
            #expect(publisher.status == 0, "\(publisher.stderr)")
            let reader = try server.tfreg(
                ["grant", "create", "--table", "registry", "-n", "acme", "--new-token", "reader", "--download"],
                env: awsEnv
            )
            #expect(reader.status == 0, "\(reader.stderr)")
            let publisherToken = publisher.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let readerToken = reader.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let http = server.client
            func create(_ version: String, _ body: String, token: String? = nil) async throws -> HTTPResponse {
                try await http.send(
                    HTTPRequest(
                        method: "POST",
                        url: server.baseURL + "/v1/modules/acme/vpc/aws/\(version)/create",
                        headers: [("Authorization", "Bearer \(token ?? publisherToken)"), ("Content-Type", "application/json")],
                        body: Array(body.utf8)
                    )
                )
            }

            // create: the bad cases first, each a clear 4xx with {"errors": [...]}.
            let mismatch = try await create(
                "1.0.0",
                #"{"bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\#(Base64.encode([UInt8](repeating: 1, count: 32)))"}"#
            )
            #expect(mismatch.status == 400 && mismatch.bodyText.contains("does not match"), "\(mismatch.status) \(mismatch.bodyText)")
            let missing = try await create("1.0.0", #"{"bucket": "byob", "key": "nope/1.0.0.tar.gz", "expected_checksum": "\#(checksum)"}"#)
            #expect(missing.status == 400 && missing.bodyText.contains("does not exist"), "\(missing.status) \(missing.bodyText)")
            let noChecksum = try await create("1.0.0", #"{"bucket": "byob", "key": "plain.tar.gz", "expected_checksum": "\#(checksum)"}"#)
            #expect(noChecksum.status == 400 && noChecksum.bodyText.contains("no SHA-256 checksum"), "\(noChecksum.status) \(noChecksum.bodyText)")
            let badKey = try await create("1.0.0", #"{"bucket": "byob", "key": "../etc/passwd", "expected_checksum": "\#(checksum)"}"#)
            #expect(badKey.status == 400)
            let duplicateField = try await create(
                "1.0.0",
                #"{"bucket": "byob", "bucket": "other", "key": "k.tar.gz", "expected_checksum": "\#(checksum)"}"#
            )
            #expect(duplicateField.status == 400 && duplicateField.bodyText.contains("duplicate key"))
            let readerCannot = try await create(
                "1.0.0",
                #"{"bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\#(checksum)"}"#,
                token: readerToken
            )
            #expect(readerCannot.status == 403)

            let created = try await create(
                "1.0.0",
                #"{"bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\#(checksum)"}"#
            )
            #expect(created.status == 201, "\(created.status) \(created.bodyText)")
            // The registry records the digest of its own (imported) copy.
            let registered = try #require(try JSONDecoder().decode([String: AnyCodableValue].self, from: Data(created.body))["sha256"]?.string)
            let again = try await create("1.0.0", #"{"bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\#(checksum)"}"#)
            #expect(again.status == 409)

            // The upload route stores into the configured bucket and prefix.
            try writeModule(at: work + "/up", version: "1.1.0")
            let published = try server.tfreg([
                "publish", work + "/up", "--registry", server.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", "1.1.0", "--token",
                publisherToken,
            ])
            #expect(published.status == 0, "\(published.stderr)")
            let listing = try await http.send(
                HTTPRequest(url: server.baseURL + "/v1/modules/acme/vpc/aws/versions", headers: [("Authorization", "Bearer \(readerToken)")])
            )
            #expect(listing.status == 200 && listing.bodyText.contains("1.0.0") && listing.bodyText.contains("1.1.0"), "\(listing.bodyText)")
            // The metrics listener counts the AWS calls behind these requests by service, operation and
            // outcome (the creates' refusals included), and the canonicalizations (create and publish).
            let scrape = try await http.send(HTTPRequest(url: "http://127.0.0.1:\(try #require(server.metricsPort))/metrics")).bodyText
            func count(_ series: String) -> Double {
                scrape.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") } ?? 0
            }
            #expect(count(#"tfreg_aws_calls_total{service="dynamodb",operation="Query",outcome="ok"}"#) >= 1, "\(scrape)")
            #expect(count(#"tfreg_aws_calls_total{service="s3",operation="PutObject",outcome="ok"}"#) >= 1, "\(scrape)")
            #expect(count(#"tfreg_aws_calls_total{service="s3",operation="GetObject",outcome="notFound"}"#) >= 1, "\(scrape)")
            #expect(count(#"tfreg_aws_call_duration_seconds_count{service="dynamodb",operation="Query"}"#) >= 1, "\(scrape)")
            #expect(count(#"tfreg_cache_lookups_total{cache="static_tokens",result="miss"}"#) >= 1, "\(scrape)")
            #expect(count(#"tfreg_canonicalization_duration_seconds_count{result="ok"}"#) == 2, "\(scrape)")
            // (No --prefix: moto miscomputes the signature of an encoded '/' in the prefix parameter.)
            let stored = try runCommand(
                which("aws")!,
                ["s3api", "list-objects-v2", "--bucket", "tfreg-archives", "--output", "text", "--query", "Contents[].Key"],
                env: awsEnv.merging(["HOME": work]) { a, _ in a }
            )
            // Content-addressed: the key is the digest, under the configured prefix.
            #expect(stored.status == 0 && stored.stdout.contains("registry/sha256/"), "\(stored.stdout) \(stored.stderr)")

            // tfreg publish --s3: into the user's own bucket with a checksum, then registered through create.
            try writeModule(at: work + "/own", version: "2.0.0")
            let viaS3 = try server.tfreg(
                [
                    "publish", work + "/own", "--registry", server.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", "2.0.0",
                    "--token", publisherToken, "--s3", "s3://byob/cli",
                ],
                env: awsEnv
            )
            #expect(viaS3.status == 0 && viaS3.stdout.contains("s3://byob/cli/acme/vpc/aws/2.0.0.tar.gz"), "\(viaS3.stdout) \(viaS3.stderr)")
            let attributes = try await s3.objectAttributes(bucket: "byob", key: "cli/acme/vpc/aws/2.0.0.tar.gz")
            #expect(attributes?.checksumSHA256 != nil)

            // tfreg provider publish --s3 (issue 20): the release tar streamed to the user's bucket, copied
            // and verified by the registry through create, and the transfer object removed afterwards.
            if which("gpg") != nil {
                let admin = try server.tfreg(
                    ["grant", "create", "--table", "registry", "-n", "acme", "--new-token", "keys", "-d", "-c"],
                    env: awsEnv
                )
                #expect(admin.status == 0, "\(admin.stderr)")
                let gnupg = try ProviderEndToEndTests.signingKeys(
                    server,
                    admin: admin.stdout.trimmingCharacters(in: .whitespacesAndNewlines),
                    uids: ["Release <release@example.com>"]
                )
                defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
                let release = try ProviderEndToEndTests().release("3.0.0", in: work, gnupg: gnupg, key: "release@example.com")
                let provider = try server.tfreg(
                    [
                        "provider", "publish", release.dir, "--registry", server.host, "-n", "acme", "--type", "demo", "--version", "3.0.0",
                        "--token", publisherToken, "--s3", "s3://byob/ci",
                    ],
                    env: awsEnv
                )
                #expect(provider.status == 0 && provider.stdout.contains("published"), "\(provider.stdout) \(provider.stderr)")
                #expect(try await s3.headObject(bucket: "byob", key: "ci/providers/acme/demo/3.0.0.tar") == nil, "the transfer object is removed")
                let versions = try await http.send(
                    HTTPRequest(url: server.baseURL + "/v1/providers/acme/demo/versions", headers: [("Authorization", "Bearer \(readerToken)")])
                )
                #expect(versions.status == 200 && String(decoding: versions.body, as: UTF8.self).contains("\"3.0.0\""))
            }

            // The download answer is a presigned S3 GET whose path ends in the archive's extension; the
            // brought object was imported, so the link names the registry's own content-addressed copy.
            let download = try await http.send(
                HTTPRequest(url: server.baseURL + "/v1/modules/acme/vpc/aws/1.0.0/download", headers: [("Authorization", "Bearer \(readerToken)")])
            )
            let link = try #require(download.headers.first { $0.name.lowercased() == "x-terraform-get" }?.value)
            #expect(
                download.status == 204 && link.hasPrefix(gateway.endpoint + "/tfreg-archives/registry/sha256/") && link.contains("X-Amz-Signature="),
                "\(link)"
            )
            // A tampered presigned URL is refused by the gateway, as S3 would.
            let tampered = try runCommand(
                which("curl")!,
                ["-s", "-o", "/dev/null", "-w", "%{http_code}", link.replacingOccurrences(of: "X-Amz-Expires=300", with: "X-Amz-Expires=600")]
            )
            #expect(tampered.stdout == "403")

            // A version written by the tool tfreg replaces (boto3, its exact item layout) is served too.
            let seed = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~seed~aws~0.1.0", "namespace": "acme", "system": "aws", "name": "seed",
                                     "version": "0.1.0", "bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\(checksum)"})
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(seed.status == 0, "\(seed.stderr)")

            // Real terraform init: every version through presigned URLs (verified by botocore in the gateway).
            let tf = makeTemporaryDirectory("tf-aws")
            try """
            module "pinned" {
              source  = "\(server.host)/acme/vpc/aws"
              version = "1.0.0"
            }
            module "latest" {
              source  = "\(server.host)/acme/vpc/aws"
              version = "~> 1.0"
            }
            module "legacy" {
              source  = "\(server.host)/acme/seed/aws"
              version = "0.1.0"
            }
            """.write(toFile: tf + "/main.tf", atomically: true, encoding: .utf8)
            try "credentials \"\(server.host)\" {\n  token = \"\(readerToken)\"\n}\n".write(toFile: tf + "/rc", atomically: true, encoding: .utf8)
            let before = try gateway.counts()
            let initResult = try runCommand(
                TerraformEndToEndTests.terraform!,
                ["init", "-input=false", "-no-color"],
                env: [
                    "HOME": tf, "TF_CLI_CONFIG_FILE": tf + "/rc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
                ],
                cwd: tf
            )
            #expect(initResult.status == 0, "terraform init failed:\n\(initResult.stdout)\n\(initResult.stderr)\n\(server.logText.suffix(2000))")
            #expect(try String(contentsOfFile: tf + "/.terraform/modules/pinned/main.tf", encoding: .utf8).contains("\"1.0.0\""))
            #expect(try String(contentsOfFile: tf + "/.terraform/modules/latest/main.tf", encoding: .utf8).contains("\"1.1.0\""))
            #expect(try String(contentsOfFile: tf + "/.terraform/modules/legacy/main.tf", encoding: .utf8).contains("\"1.0.0\""))
            let after = try gateway.counts()
            func delta(_ k: String) -> Int { (after[k] ?? 0) - (before[k] ?? 0) }
            // Verified presigned GETs, none refused. Terraform also sends a HEAD first; a
            // URL presigned for GET does not authorize HEAD (real S3 answers 403 too) and Terraform goes
            // on to the GET, which is what a presigned-URL store must tolerate and what this proves end to end.
            // "pinned" and "legacy" are the same S3 object: presigned within one second their URLs are
            // identical and Terraform fetches them once, so 2 or 3 GETs.
            #expect((2...3).contains(delta("presigned-GET")), "\(after)")
            #expect(delta("presigned-rejected-GET") == 0, "\(after)")

            // The owner of the brought bucket overwrites the object after create: the imported version
            // keeps serving the bytes that were registered; the replaced tool's item (pointing at the
            // object) is refused with 502 instead of serving other code.
            let evil = work + "/evil"
            try writeModule(at: evil, version: "6.6.6")
            #expect(try runCommand("/bin/tar", ["-czf", work + "/evil.tar.gz", "-C", evil, "."]).status == 0)
            let overwrite = try runCommand(
                which("aws")!,
                [
                    "s3api", "put-object", "--bucket", "byob", "--key", "modules/acme/vpc/1.0.0.tar.gz", "--body", work + "/evil.tar.gz",
                    "--checksum-algorithm", "SHA256", "--output", "json",
                ],
                env: awsEnv.merging(["HOME": work]) { a, _ in a }
            )
            #expect(overwrite.status == 0, "\(overwrite.stderr)")
            let readerAuth = [(name: "Authorization", value: "Bearer \(readerToken)")]
            let imported = try await http.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/vpc/aws/1.0.0/download", headers: readerAuth))
            let importedLink = try #require(imported.headers.first { $0.name.lowercased() == "x-terraform-get" }?.value)
            let fetched = try await CurlHTTPClient().send(HTTPRequest(url: importedLink))
            #expect(fetched.status == 200 && Hex.encode(SHA256.hash(fetched.body)) == registered, "the imported copy must be the registered bytes")
            let legacyAfter = try await http.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/seed/aws/0.1.0/download", headers: readerAuth))
            #expect(
                legacyAfter.status == 502 && legacyAfter.bodyText.contains("changed after it was registered"),
                "\(legacyAfter.status) \(legacyAfter.bodyText)"
            )
            #expect(server.logShows("changed after it was registered"))
            let tfAfter = try runCommand(
                TerraformEndToEndTests.terraform!,
                ["init", "-input=false", "-no-color", "-upgrade"],
                env: [
                    "HOME": tf, "TF_CLI_CONFIG_FILE": tf + "/rc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
                ],
                cwd: tf
            )
            #expect(tfAfter.status != 0, "terraform init must fail for the legacy module, not install other code")
            #expect(!((try? String(contentsOfFile: tf + "/.terraform/modules/legacy/main.tf", encoding: .utf8)) ?? "").contains("6.6.6"))
            #expect(!((try? String(contentsOfFile: tf + "/.terraform/modules/pinned/main.tf", encoding: .utf8)) ?? "").contains("6.6.6"))

            // Deleting versions leaves a tombstone; the user's object is never touched.
            for v in ["1.0.0", "1.1.0"] {
                let d = try await http.send(
                    HTTPRequest(
                        method: "DELETE",
                        url: server.baseURL + "/v1/modules/acme/vpc/aws/\(v)",
                        headers: [("Authorization", "Bearer \(publisherToken)")]
                    )
                )
                #expect(d.status == 204)
            }
            #expect(try await s3.headObject(bucket: "byob", key: "modules/acme/vpc/1.0.0.tar.gz") != nil)
            let gone = try await http.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/vpc/aws/1.0.0/download", headers: readerAuth))
            #expect(gone.status == 404)
            let reuse = try await create("1.0.0", #"{"bucket": "byob", "key": "modules/acme/vpc/1.0.0.tar.gz", "expected_checksum": "\#(checksum)"}"#)
            #expect(reuse.status == 409 && reuse.bodyText.contains("was deleted on"), "\(reuse.bodyText)")

            #expect(server.stop() == 0)
            for t in [publisherToken, readerToken] { #expect(!server.logText.contains(t)) }
        }
    }
}

extension S3Gateway {
    /// Makes forwarded AWS calls fail in one of s3_gateway.py's modes (`none` restores them).
    func fault(_ mode: String) throws {
        let r = try runCommand(which("curl") ?? "/usr/bin/curl", ["-s", "-X", "POST", "--data", mode, endpoint + "/__fault"])
        guard r.stdout == "ok" else { throw TestFailure("could not set fault mode \(mode)") }
    }
}

extension MotoBackedTests {
    /// AWS misbehaving under `tfreg serve`: every failure is a 503 with a JSON body (never a crash or
    /// a 500), and the server serves again as soon as AWS does.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct AWSFaultTests {
        @Test func malformedTruncatedThrottledAndDownAre503AndTheServerRecovers() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let gateway = try S3Gateway(moto: moto)
            defer { gateway.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("faults")
            let awsEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": gateway.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "TABLE_NAME": "faults",
            ]
            let server = try ServerProcess(extraEnv: awsEnv)
            let writer = try server.tfreg(["grant", "create", "-n", "acme", "--new-token", "ci", "-d", "-u"], env: awsEnv)
            #expect(writer.status == 0, "\(writer.stderr)")
            let token = writer.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            try writeModule(at: server.dir + "/m", version: "1.0.0")
            let published = try server.tfreg([
                "publish", server.dir + "/m", "--registry", server.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", "1.0.0",
                "--token", token,
            ])
            #expect(published.status == 0, "\(published.stderr)")
            let http = server.client
            func versions() async throws -> HTTPResponse {
                try await http.send(
                    HTTPRequest(
                        url: server.baseURL + "/v1/modules/acme/vpc/aws/versions",
                        headers: [("Authorization", "Bearer \(token)")],
                        timeout: 60
                    )
                )
            }
            #expect(try await versions().status == 200)
            // Throttling, 5xx and a dropped connection are retried (3 attempts, standard mode); an
            // answer that does not parse is not. The token is cached, so the first failing call is the grant read.
            let attempts = ["garbage": 1, "truncate": 1, "throttle": 3, "error500": 3, "down": 3]
            for mode in ["garbage", "truncate", "throttle", "error500", "down"] {
                try gateway.fault(mode)
                let before = try gateway.counts().values.reduce(0, +)
                let r = try await versions()
                let seen = try gateway.counts()
                #expect(seen.values.reduce(0, +) - before == attempts[mode], "\(mode): \(seen)")
                #expect(r.status == 503, "\(mode): \(r.status) \(r.bodyText)")
                #expect(r.bodyText.hasPrefix(#"{"errors":["#) && r.bodyText.contains("unavailable"), "\(mode): \(r.bodyText)")
                try gateway.fault("none")
                let back = try await versions()
                #expect(back.status == 200 && back.bodyText.contains("1.0.0"), "after \(mode): \(back.status) \(back.bodyText)")
            }
            #expect(server.process.isRunning)
            #expect(server.stop() == 0)
            #expect(!server.logText.contains(token))
        }
    }
}

/// Just enough of a JSON value to read one string field of an answer.
enum AnyCodableValue: Decodable {
    case string(String)
    case other
    var string: String? { if case .string(let s) = self { return s } else { return nil } }
    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        self = (try? c.decode(String.self)).map(AnyCodableValue.string) ?? .other
    }
}
