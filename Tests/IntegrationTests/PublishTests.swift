import Foundation
import TFRegAWS
import TFRegCrypto
import TFRegHTTPClient
import Testing

/// Writes `files` (path → text) under `root`, creating directories.
func writeTree(_ root: String, _ files: [String: String]) throws {
    for (path, text) in files {
        let full = root + "/" + path
        try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: full, atomically: true, encoding: .utf8)
    }
}

/// `tfreg publish` as a process: what the archive holds, --exclude, --include and --dry-run.
@Suite struct PublishPackingTests {
    static let publishArgs = ["--registry", "127.0.0.1:9", "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0"]

    @Test func dryRunListsPackedAndLeftOutFilesAndTheDigest() throws {
        let work = makeTemporaryDirectory("publish-dry")
        defer { try? FileManager.default.removeItem(atPath: work) }
        try writeTree(
            work + "/m",
            [
                "main.tf": "variable \"x\" {}\n", "README.md": "# net\n", ".env": "TOKEN=1\n", "prod.tfvars": "x = 1\n", "example.tfvars": "x = 0\n",
                "terraform.tfstate": "{}", "id_rsa": "key", "node_modules/x.js": "1", "dist/lambda.zip": "zip", "docs/big.png": "png",
                ".terraformignore": "docs/\n",
            ]
        )
        // Nothing is contacted: the registry address is a closed port.
        let dry = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + ["--dry-run", "--exclude", "*.zip", "--include", "example.tfvars"],
            env: ["HOME": work]
        )
        #expect(dry.status == 0, "\(dry.stderr)")
        func row(_ size: Int, _ path: String) -> String { "  " + String(repeating: " ", count: 10 - String(size).count) + "\(size)  \(path)" }
        let lines: [String] = dry.stdout.split(separator: "\n").map(String.init)
        var expected: [String] = ["packs 4 entries (.terraformignore applied):"]
        expected += [row(6, ".terraformignore"), row(6, "README.md"), row(6, "example.tfvars"), row(16, "main.tf")]
        expected += [
            "leaves out 7:", "  .env (secret)", "  dist/lambda.zip (--exclude *.zip)", "  docs/ (.terraformignore)", "  id_rsa (private key)",
        ]
        expected += ["  node_modules/ (dependencies)", "  prod.tfvars (variables, may hold secrets)", "  terraform.tfstate (state)"]
        let listed = Array(lines.dropLast())
        #expect(listed == expected, "\(dry.stdout)")
        // The last line ends in the digest (other tests read it as the last ':'-separated field).
        let last = try #require(lines.last)
        #expect(last.range(of: #"^\d+ bytes sha256:[0-9a-f]{64}$"#, options: .regularExpression) != nil, "\(last)")

        // --archive-file writes that very archive; GNU tar reads exactly the listed files.
        let out = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + [
                "--dry-run", "--exclude", "*.zip", "--include", "example.tfvars", "--archive-file", work + "/m.tar.gz",
            ],
            env: ["HOME": work]
        )
        #expect(out.status == 0, "\(out.stderr)")
        let digest = try #require(out.stdout.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })
        #expect(last.hasSuffix(digest))
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: work + "/m.tar.gz")))
        #expect(Hex.encode(SHA256.hash(bytes)) == digest)
        let tar = try runCommand("/bin/tar", ["-tzf", work + "/m.tar.gz"])
        #expect(
            tar.stdout.split(separator: "\n").map(String.init) == [".terraformignore", "README.md", "example.tfvars", "main.tf"],
            "\(tar.stdout)"
        )

        // --include re-includes a default exclusion; --exclude wins over --include.
        let both = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + ["--dry-run", "--include", "node_modules/", "--exclude", "x.js", "--include", "id_rsa"],
            env: ["HOME": work]
        )
        #expect(both.status == 0, "\(both.stderr)")
        #expect(both.stdout.contains("  id_rsa\n") && both.stdout.contains("  node_modules/x.js (--exclude x.js)\n"), "\(both.stdout)")

        // Flags that make no sense fail before anything is packed.
        let badGlob = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + ["--dry-run", "--exclude", "!main.tf"],
            env: ["HOME": work]
        )
        #expect(badGlob.status != 0 && badGlob.stderr.contains("--exclude '!main.tf'"), "\(badGlob.stderr)")
        let outputAlone = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + ["--archive-file", work + "/x.tar.gz"],
            env: ["HOME": work]
        )
        #expect(outputAlone.status != 0 && outputAlone.stderr.contains("--archive-file needs --dry-run"), "\(outputAlone.stderr)")
        let nothing = try runCommand(
            TFRegBinary.path,
            ["publish", work + "/m"] + Self.publishArgs + ["--dry-run", "--exclude", "*.tf"],
            env: ["HOME": work]
        )
        #expect(nothing.status != 0 && nothing.stderr.contains("no Terraform files"), "\(nothing.stderr)")
    }
}

extension MotoBackedTests {
    /// `tfreg publish --s3` against moto (signatures checked): a version is never published twice and
    /// an object in the user's bucket is never replaced.
    @Suite(.serialized, .enabled(if: MotoServer.available && which("aws") != nil, "needs moto_server and the aws CLI (make test installs them)"))
    struct PublishS3Tests {
        @Test func publishingAVersionAgainNeverReplacesTheObject() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s3 = S3Client(client: moto.client())
            try await s3.createBucket("tfreg-archives")
            try await s3.createBucket("byob")
            let awsEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
            let server = try ServerProcess(extraEnv: awsEnv.merging(["TFREG_STORAGE": "s3://tfreg-archives/registry"]) { a, _ in a })
            let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
            let uploadOnly = try server.token("ci", namespace: "acme", flags: ["-u"])
            let key = "cli/acme/vpc/aws/1.0.0.tar.gz"
            func publish(_ dir: String, _ version: String, token: String, env: [String: String] = awsEnv) throws -> CommandResult {
                try server.tfreg(
                    [
                        "publish", dir, "--registry", server.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", version,
                        "--token", token, "--s3", "s3://byob/cli",
                    ],
                    env: env
                )
            }
            /// The object's bytes as the AWS CLI downloads them, and the checksum and ETag S3 keeps.
            func live(_ key: String) throws -> (bytes: Data, checksum: String?, etag: String?) {
                let file = server.dir + "/get-\(UUID().uuidString)"
                let r = try runCommand(
                    which("aws")!,
                    ["s3api", "get-object", "--bucket", "byob", "--key", key, "--checksum-mode", "ENABLED", file, "--output", "json"],
                    env: awsEnv.merging(["HOME": server.dir]) { a, _ in a }
                )
                guard r.status == 0 else { throw TestFailure("aws s3api get-object: \(r.stderr)") }
                let meta = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
                return (try Data(contentsOf: URL(fileURLWithPath: file)), meta?["ChecksumSHA256"] as? String, meta?["ETag"] as? String)
            }

            try writeTree(server.dir + "/v1", ["main.tf": "output \"v\" { value = 1 }\n", ".env": "TOKEN=secret\n"])
            let first = try publish(server.dir + "/v1", "1.0.0", token: rw)
            #expect(
                first.status == 0 && first.stdout.contains("published acme/vpc/aws 1.0.0 from s3://byob/\(key)"),
                "\(first.stdout) \(first.stderr)"
            )
            #expect(first.stderr.contains("left out: .env (secret)"), "\(first.stderr)")
            let original = try live(key)
            #expect(original.checksum == Base64.encode(SHA256.hash(Array(original.bytes))))

            // The same version again with other content: the registry says it exists, S3 is not touched.
            try writeTree(server.dir + "/v2", ["main.tf": "output \"v\" { value = 2 }\n"])
            let again = try publish(server.dir + "/v2", "1.0.0", token: rw)
            #expect(
                again.status != 0 && again.stderr.contains("the registry already has version 1.0.0")
                    && again.stderr.contains("versions are immutable: publish a new version"),
                "\(again.stdout) \(again.stderr)"
            )
            // One of the same precedence (build metadata only) is the same version.
            let build = try publish(server.dir + "/v2", "1.0.0+rebuild", token: rw)
            #expect(build.status != 0 && build.stderr.contains("the registry already has version 1.0.0"), "\(build.stderr)")

            // A token that may not list versions: the object check stops it.
            let blind = try publish(server.dir + "/v2", "1.0.0", token: uploadOnly)
            #expect(
                blind.status != 0 && blind.stderr.contains("s3://byob/\(key) already exists; versions are immutable: publish a new version"),
                "\(blind.stderr)"
            )

            // AWS credentials that may only PutObject (moto enforces the policy): nothing can be read
            // first, so the conditional write (If-None-Match: *) is what refuses.
            let r = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, json
                    iam = boto3.client("iam", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    iam.create_user(UserName="put-only")
                    k = iam.create_access_key(UserName="put-only")["AccessKey"]
                    iam.put_user_policy(UserName="put-only", PolicyName="put", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::byob/*"}]}))
                    print(k["AccessKeyId"]); print(k["SecretAccessKey"])
                    """,
                ],
                env: ["HOME": server.dir]
            )
            let keys = r.stdout.split(separator: "\n").map(String.init)
            #expect(r.status == 0 && keys.count == 2, "\(r.stderr)")
            let putOnly = awsEnv.merging(["AWS_ACCESS_KEY_ID": keys[0], "AWS_SECRET_ACCESS_KEY": keys[1]]) { _, b in b }
            let limited = S3Client(
                client: AWSClient(
                    http: CurlHTTPClient(),
                    credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: keys[0], secretAccessKey: keys[1])),
                    region: "us-east-1",
                    environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                    timeout: 60
                )
            )
            let denied = await #expect(throws: AWSError.self) { try await limited.objectAttributes(bucket: "byob", key: key) }
            #expect(denied?.kind == .accessDenied, "these credentials cannot look first: \(String(describing: denied))")
            let conditional = try publish(server.dir + "/v2", "1.0.0", token: uploadOnly, env: putOnly)
            #expect(
                conditional.status != 0 && conditional.stderr.contains("s3://byob/\(key) already exists; versions are immutable"),
                "\(conditional.stderr)"
            )
            // And the client's conditional put on its own.
            await #expect(throws: AWSError(kind: .conditionalCheckFailed, code: "PreconditionFailed", message: "", status: 412)) {
                try await s3.putObject(bucket: "byob", key: key, body: Array("other bytes".utf8), onlyIfAbsent: true)
            }

            let after = try live(key)
            #expect(after.bytes == original.bytes && after.checksum == original.checksum && after.etag == original.etag)
            let download = try await server.client.send(
                HTTPRequest(url: server.baseURL + "/v1/modules/acme/vpc/aws/versions", headers: [("Authorization", "Bearer \(rw)")])
            )
            #expect(download.status == 200 && !download.bodyText.contains("rebuild"))

            // A publish whose registration failed can run again: the object with the same bytes is reused.
            let dry = try server.tfreg([
                "publish", server.dir + "/v2", "--registry", server.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", "2.0.0",
                "--dry-run", "--archive-file", server.dir + "/v2.tar.gz",
            ])
            #expect(dry.status == 0, "\(dry.stderr)")
            let put = try runCommand(
                which("aws")!,
                [
                    "s3api", "put-object", "--bucket", "byob", "--key", "cli/acme/vpc/aws/2.0.0.tar.gz", "--body", server.dir + "/v2.tar.gz",
                    "--checksum-algorithm", "SHA256", "--output", "json",
                ],
                env: awsEnv.merging(["HOME": server.dir]) { a, _ in a }
            )
            #expect(put.status == 0, "\(put.stderr)")
            let retried = try publish(server.dir + "/v2", "2.0.0", token: uploadOnly)
            #expect(
                retried.status == 0 && retried.stderr.contains("already holds this archive (same SHA-256): registering it"),
                "\(retried.stdout) \(retried.stderr)"
            )

            // A token the registry does not accept stops the publish before S3 is touched.
            let bogus = try publish(server.dir + "/v2", "4.0.0", token: "tfr_not-a-real-token")
            #expect(bogus.status != 0 && bogus.stderr.contains("HTTP 401"), "\(bogus.stderr)")
            #expect(try await s3.headObject(bucket: "byob", key: "cli/acme/vpc/aws/4.0.0.tar.gz") == nil)

            // A registry that stores archives itself does not offer create (its discovery says so):
            // publish --s3 stops before uploading anything, and says to drop --s3.
            #expect(server.stop() == 0)
            let local = try ServerProcess()
            let localToken = try local.token("rw", namespace: "acme", flags: ["-d", "-u"])
            let refused = try local.tfreg(
                [
                    "publish", server.dir + "/v2", "--registry", local.host, "-n", "acme", "--name", "vpc", "--system", "aws", "--version", "3.0.0",
                    "--token", localToken, "--s3", "s3://byob/cli",
                ],
                env: awsEnv
            )
            #expect(
                refused.status == 78 && refused.stderr.contains("has no S3 storage") && refused.stderr.contains("drop --s3"),
                "\(refused.stderr)"
            )
            #expect(try await s3.headObject(bucket: "byob", key: "cli/acme/vpc/aws/3.0.0.tar.gz") == nil)
            #expect(local.stop() == 0)
            for t in [rw, uploadOnly] { #expect(!server.logText.contains(t)) }
        }
    }
}
