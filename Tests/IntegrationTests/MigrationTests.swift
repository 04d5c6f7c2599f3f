import Foundation
import TFRegAWS
import TFRegCrypto
import Testing

/// Runs `executable` and waits at most `seconds`; a process still running then is killed and reported
/// as `nil` (a server that starts instead of refusing its configuration).
private func runBriefly(_ executable: String, _ args: [String], env: [String: String], seconds: Double = 30) throws -> CommandResult? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    p.environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8", "TFREG_ENV_FILE": ""]
        .merging(env) { _, b in b }
    let dir = makeTemporaryDirectory("run-briefly")
    FileManager.default.createFile(atPath: dir + "/out", contents: nil)
    FileManager.default.createFile(atPath: dir + "/err", contents: nil)
    p.standardInput = FileHandle.nullDevice
    p.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/out"))
    p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: dir + "/err"))
    try p.run()
    let deadline = Date().addingTimeInterval(seconds)
    while p.isRunning && Date() < deadline { usleep(50_000) }
    if p.isRunning {
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        return nil
    }
    let out = (try? String(contentsOfFile: dir + "/out", encoding: .utf8)) ?? ""
    let err = (try? String(contentsOfFile: dir + "/err", encoding: .utf8)) ?? ""
    return CommandResult(status: p.terminationStatus, stdout: out, stderr: err)
}

extension MotoBackedTests {
    /// Migrating from the replaced tool (issue 22, item 2): a table whose versions keep their archives
    /// in S3 needs S3 storage configured. Without it `serve` and `serve --check-config` exit 78 naming the
    /// bucket(s) and --storage (they used to start and answer 404 for every such version, and say
    /// "configuration OK"); `tfreg lambda` without TFREG_STORAGE still serves the replaced tool's versions
    /// (LegacyClientTests) but refuses a table holding the registry's own archives, which it cannot find.
    @Suite(.serialized, .enabled(if: MotoServer.available && which("python3") != nil, "needs moto_server and python3 with boto3"))
    struct MigrationStorageTests {
        /// Seeds with boto3: the replaced tool's version item (pointing at s3://byob/m/vpc.tar.gz) when
        /// `legacy`, else a version in the registry's own storage as tfreg writes it (no `bucket`).
        static func seed(_ moto: MotoServer, home: String, legacy: Bool) throws {
            let digest = Base64.encode(SHA256.hash(Array("archive".utf8)))
            let location =
                legacy
                ? "\"bucket\": \"byob\", \"key\": \"m/vpc.tar.gz\"," : "\"key\": \"registry/sha256/ab/\(String(repeating: "ab", count: 32)).tar.gz\","
            let r = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~vpc~aws~1.0.0", "namespace": "acme", "system": "aws", "name": "vpc",
                                     "version": "1.0.0", \(location) "expected_checksum": "\(digest)"})
                    t.put_item(Item={"pk": "acme", "sk": "IAMBearerAuth~arn:aws:iam::123456789012:role/dev", "namespace": "acme",
                                     "identifier": "arn:aws:iam::123456789012:role/dev",
                                     "permissions": {"download": True, "upload": False, "create_grant": False, "delete_grant": False}})
                    """,
                ],
                env: ["HOME": home]
            )
            #expect(r.status == 0, "\(r.stderr)")
        }

        static func awsEnv(_ moto: MotoServer) -> [String: String] {
            [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
        }

        @Test func serveAndCheckConfigRefuseVersionsInS3WithoutStorage() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            try await S3Client(client: aws).createBucket("tfreg-archives")
            let home = makeTemporaryDirectory("migration-serve")
            try Self.seed(moto, home: home, legacy: true)
            let env = Self.awsEnv(moto).merging(["HOME": home, "TFREG_DATA_DIR": home + "/data"]) { a, _ in a }

            let check = try runCommand(TFRegBinary.path, ["serve", "--check-config", "--table", "registry"], env: env)
            #expect(check.status == 78, "check-config must not say OK: \(check.stdout) \(check.stderr)")
            #expect(!check.stdout.contains("configuration OK"))
            #expect(
                check.stderr.contains("s3://byob") && check.stderr.contains("--storage") && check.stderr.contains("TFREG_STORAGE"),
                "\(check.stderr)"
            )

            let served = try runBriefly(TFRegBinary.path, ["serve", "--table", "registry", "--port", "0"], env: env)
            let serve = try #require(served, "serve started with archives in the data directory for a table whose versions are in S3")
            #expect(serve.status == 78 && serve.stderr.contains("s3://byob") && serve.stderr.contains("--storage"), "\(serve.stderr)")

            // The same from the environment, and with the storage set both pass.
            let viaEnv = try runCommand(TFRegBinary.path, ["serve", "--check-config"], env: env.merging(["TABLE_NAME": "registry"]) { a, _ in a })
            #expect(viaEnv.status == 78 && viaEnv.stderr.contains("s3://byob"), "\(viaEnv.stderr)")
            let ok = try runCommand(
                TFRegBinary.path,
                ["serve", "--check-config", "--table", "registry"],
                env: env.merging(["TFREG_STORAGE": "s3://tfreg-archives/registry"]) { a, _ in a }
            )
            #expect(
                ok.status == 0
                    && ok.stdout.contains("archive locations: all 1 version(s): 0 in the registry's own storage, 1 in users' buckets (s3://byob)")
                    && ok.stdout.contains("configuration OK"),
                "\(ok.stdout) \(ok.stderr)"
            )
        }

        @Test func checkConfigPassesATableWithOnlyTheRegistrysOwnArchives() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("registry")
            let home = makeTemporaryDirectory("migration-own")
            try Self.seed(moto, home: home, legacy: false)
            let env = Self.awsEnv(moto).merging(["HOME": home, "TFREG_DATA_DIR": home + "/data"]) { a, _ in a }
            let ok = try runCommand(TFRegBinary.path, ["serve", "--check-config", "--table", "registry"], env: env)
            #expect(
                ok.status == 0 && ok.stdout.contains("archive locations: all 1 version(s): 1 in the registry's own storage, none in users' buckets"),
                "\(ok.stdout) \(ok.stderr)"
            )
        }

        /// `tfreg lambda` without TFREG_STORAGE on a table holding a version in the registry's own
        /// storage: reported to /init/error naming TFREG_STORAGE, instead of a function answering 404.
        @Test func lambdaWithoutStorageRefusesATableWithItsOwnArchives() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("registry")
            let home = makeTemporaryDirectory("migration-lambda")
            try Self.seed(moto, home: home, legacy: false)
            let lambda = try LambdaHarness(env: Self.awsEnv(moto).merging(["TABLE_NAME": "registry"]) { a, _ in a })
            defer { lambda.stop() }
            let deadline = Date().addingTimeInterval(30)
            while lambda.function.isRunning && Date() < deadline { usleep(50_000) }
            #expect(!lambda.function.isRunning, "the function started: \(lambda.log.text)")
            guard !lambda.function.isRunning else { return }
            #expect(lambda.function.terminationStatus == 1)
            let e = json(try lambda.curl([lambda.api + "/__init_error"]))
            let body = e["body"] as? String ?? ""
            #expect(e["error_type"] as? String == "Runtime.ConfigError" && body.contains("TFREG_STORAGE") && body.contains("registry"), "\(e)")
        }
    }
}

/// Scripts written for the replaced tool (issue 22, item 3): under its name, `manage-registry-permissions`,
/// a narrowing `update` and a `delete` go ahead without a terminal as that tool did, with a notice on
/// standard error; `tfreg grant` still asks (and refuses without a terminal unless --yes).
@Suite struct ReplacedToolScriptTests {
    @Test func manageRegistryPermissionsDoesNotAskWhileTfregGrantDoes() throws {
        let home = makeTemporaryDirectory("legacy-grant")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let env = ["HOME": home, "TFREG_DATA_DIR": home + "/data"]
        try FileManager.default.createDirectory(atPath: home + "/bin", withIntermediateDirectories: true)
        let legacy = home + "/bin/manage-registry-permissions"
        try FileManager.default.createSymbolicLink(atPath: legacy, withDestinationPath: TFRegBinary.path)
        let arn = "arn:aws:iam::123456789012:role/ci"
        func grants() throws -> String { try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme", "--json"], env: env).stdout }

        let created = try runCommand(TFRegBinary.path, ["grant", "create", "--init", "-n", "acme", "-r", arn, "-d", "-u"], env: env)
        #expect(created.status == 0, "\(created.stderr)")
        let asked = try runCommand(TFRegBinary.path, ["grant", "update", "-n", "acme", "-r", arn, "-d"], env: env)
        #expect(asked.status != 0 && asked.stderr.contains("pass --yes"), "tfreg grant still asks: \(asked.stderr)")

        // The replaced tool's order: options first, then the verb.
        let narrowed = try runCommand(legacy, ["--role-arn", arn, "--namespace", "acme", "update", "-d"], env: env)
        #expect(narrowed.status == 0, "\(narrowed.stderr)")
        #expect(narrowed.stderr.contains("notice: not asking") && narrowed.stderr.contains("remove upload"), "\(narrowed.stderr)")
        #expect(try grants().contains("\"download\":true,\"upload\":false"))

        let refused = try runCommand(TFRegBinary.path, ["grant", "delete", "-n", "acme", "-r", arn], env: env)
        #expect(refused.status != 0 && refused.stderr.contains("pass --yes"), "\(refused.stderr)")
        let deleted = try runCommand(legacy, ["--role-arn", arn, "--namespace", "acme", "delete"], env: env)
        #expect(deleted.status == 0 && deleted.stderr.contains("notice: not asking"), "\(deleted.stderr)")
        #expect(try grants().trimmingCharacters(in: .whitespacesAndNewlines) == "[]")
    }
}
