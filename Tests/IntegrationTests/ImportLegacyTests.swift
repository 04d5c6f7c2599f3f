import Foundation
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegStoreAWS
import Testing

extension MotoBackedTests {
    /// `tfreg import-legacy` on moto (signatures checked): a version in the replaced tool's layout,
    /// pointing at a user's object, becomes the registry's own canonical copy; a user's object that was
    /// overwritten after registration is refused and left as it was.
    @Suite(.serialized, .enabled(if: MotoServer.available && which("aws") != nil, "needs moto_server and the aws CLI (make test installs them)"))
    struct ImportLegacyTests {
        @Test func legacyVersionsBecomeRegistryCopies() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            let s3 = S3Client(client: aws)
            try await s3.createBucket("tfreg-archives")
            try await s3.createBucket("byob")
            let work = makeTemporaryDirectory("import-legacy")
            var checksums: [String: String] = [:]
            for (name, version) in [("good", "1.0.0"), ("swapped", "2.0.0")] {
                try writeModule(at: work + "/" + name, version: version)
                #expect(try runCommand("/bin/tar", ["-czf", work + "/\(name).tar.gz", "-C", work + "/" + name, "."]).status == 0)
                let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: work + "/\(name).tar.gz")))
                try await s3.putObject(bucket: "byob", key: "m/\(name).tar.gz", body: bytes)
                checksums[name] = Base64.encode(SHA256.hash(bytes))
            }
            // The replaced tool's items, written with boto3 in its exact layout.
            let seed = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("registry")
                    for name, version, checksum in [("good", "1.0.0", "\(checksums["good"]!)"), ("swapped", "2.0.0", "\(checksums["swapped"]!)")]:
                        t.put_item(Item={"pk": "acme", "sk": f"Module~acme~{name}~aws~{version}", "namespace": "acme", "system": "aws", "name": name,
                                         "version": version, "bucket": "byob", "key": f"m/{name}.tar.gz", "expected_checksum": checksum})
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(seed.status == 0, "\(seed.stderr)")
            // The owner overwrites one object after it was registered.
            try writeModule(at: work + "/evil", version: "6.6.6")
            #expect(try runCommand("/bin/tar", ["-czf", work + "/evil.tar.gz", "-C", work + "/evil", "."]).status == 0)
            try await s3.putObject(
                bucket: "byob",
                key: "m/swapped.tar.gz",
                body: try Array(Data(contentsOf: URL(fileURLWithPath: work + "/evil.tar.gz")))
            )

            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": work, "TFREG_DATA_DIR": work + "/data",
            ]
            let args = ["import-legacy", "--table", "registry", "--storage", "s3://tfreg-archives/registry"]
            let dry = try runCommand(TFRegBinary.path, args + ["--dry-run"], env: env)
            #expect(
                dry.status == 0 && dry.stdout.contains("would import acme/good/aws 1.0.0 from s3://byob/m/good.tar.gz")
                    && dry.stdout.contains("2 version(s) would be imported"),
                "\(dry.stdout)\(dry.stderr)"
            )
            let refused = try runCommand(TFRegBinary.path, args, env: env)
            #expect(refused.status != 0 && refused.stderr.contains("--yes"), "no terminal, no --yes: \(refused.stderr)")
            // It refuses before it says anything about a version: nothing reads as done.
            #expect(
                !refused.stdout.contains("import ") && !refused.stdout.contains("importing") && !refused.stdout.contains("imported"),
                "\(refused.stdout)"
            )
            let run = try runCommand(TFRegBinary.path, args + ["--yes"], env: env)
            // Left because the user's object changed: only deleting or deprecating the version settles it (1).
            #expect(run.status == 1, "one version could not be imported, so the command fails: \(run.status)")
            #expect(
                run.stdout.contains("imported acme/good/aws 1.0.0: sha256:") && run.stdout.contains("left acme/swapped/aws 2.0.0"),
                "\(run.stdout)\(run.stderr)"
            )
            #expect(run.stdout.contains("imported 1 of 2 version(s); left 1 as they were: acme/swapped/aws 2.0.0"), "\(run.stdout)")
            #expect(run.stderr.contains("1 of 2 version(s) could not be imported"), "\(run.stderr)")

            let store = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: aws), table: "registry")
            let good = try #require(
                try await store.version(try Version("1.0.0"), of: try ModuleAddress(namespace: "acme", name: "good", system: "aws"))
            )
            #expect(good.location.bucket == nil && good.location.key.hasPrefix("registry/sha256/"), "\(good.location)")
            let copy = try #require(try await s3.getObject(bucket: "tfreg-archives", key: good.location.key, limit: 1 << 20))
            #expect(Hex.encode(SHA256.hash(copy.body)) == good.sha256)
            let swapped = try #require(
                try await store.version(try Version("2.0.0"), of: try ModuleAddress(namespace: "acme", name: "swapped", system: "aws"))
            )
            #expect(swapped.location.bucket == "byob", "a mismatching object is left as it was")
            // Running it again only finds the one that is still legacy.
            let again = try runCommand(TFRegBinary.path, args + ["--dry-run"], env: env)
            #expect(again.stdout.contains("1 version(s) would be imported") && !again.stdout.contains("acme/good"), "\(again.stdout)")
        }

        /// One version in the replaced tool's layout (boto3), in the user's bucket `byob`.
        static func seedLegacyVersion(_ moto: MotoServer, home: String) throws {
            let digest = Base64.encode(SHA256.hash(Array("archive".utf8)))
            let seed = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~vpc~aws~1.0.0", "namespace": "acme", "system": "aws", "name": "vpc",
                                     "version": "1.0.0", "bucket": "byob", "key": "m/vpc.tar.gz", "expected_checksum": "\(digest)"})
                    """,
                ],
                env: ["HOME": home]
            )
            #expect(seed.status == 0, "\(seed.stderr)")
        }

        /// Without --storage on a table, import-legacy used to report the default data directory, create
        /// `archives/` and `tmp/` in it and fail every version. Now it writes nothing into a data directory
        /// it was not given, and never imports S3 objects into a local one; a dry run creates nothing.
        @Test func withoutStorageNothingIsWrittenIntoADataDirectory() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("registry")
            let work = makeTemporaryDirectory("import-legacy-nostorage")
            try Self.seedLegacyVersion(moto, home: work)
            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "HOME": work,
            ]
            let defaultDir = work + "/.local/share/tfreg"

            let dry = try runCommand(TFRegBinary.path, ["import-legacy", "--table", "registry", "--dry-run"], env: env)
            #expect(
                dry.status == 0 && dry.stdout.contains("would import acme/vpc/aws 1.0.0 from s3://byob/m/vpc.tar.gz")
                    && dry.stdout.contains("--storage s3://BUCKET"),
                "\(dry.stdout)\(dry.stderr)"
            )
            #expect(!FileManager.default.fileExists(atPath: defaultDir), "a dry run created the default data directory")

            let defaulted = try runCommand(TFRegBinary.path, ["import-legacy", "--table", "registry", "--yes"], env: env)
            #expect(defaulted.status == 78 && defaulted.stderr.contains("--storage s3://BUCKET"), "\(defaulted.status) \(defaulted.stderr)")
            #expect(!defaulted.stdout.contains("imported acme"), "\(defaulted.stdout)")
            #expect(!FileManager.default.fileExists(atPath: defaultDir), "the default data directory was created")

            let given = work + "/given"
            let local = try runCommand(TFRegBinary.path, ["import-legacy", "--table", "registry", "--data-dir", given, "--yes"], env: env)
            #expect(local.status == 78 && local.stderr.contains("s3://byob") && local.stderr.contains("--storage"), "\(local.stderr)")
            #expect(!FileManager.default.fileExists(atPath: given + "/archives"), "archives/ created for copies that cannot be made")
        }

        /// A version left because S3 could not be reached: the exit status says retrying may help (69),
        /// and the summary names what was left.
        @Test func leftVersionsExitWithTheKindOfTheirReason() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            try await DynamoDBClient(client: moto.client()).createTable("registry")
            let work = makeTemporaryDirectory("import-legacy-left")
            try Self.seedLegacyVersion(moto, home: work)
            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ENDPOINT_URL_S3": "http://127.0.0.1:9", "AWS_EC2_METADATA_DISABLED": "true",
                "HOME": work,
            ]
            let run = try runCommand(
                TFRegBinary.path,
                ["import-legacy", "--table", "registry", "--storage", "s3://tfreg-archives/registry", "--yes"],
                env: env
            )
            #expect(run.status == 69, "\(run.status) \(run.stdout) \(run.stderr)")
            #expect(run.stdout.contains("imported 0 of 1 version(s); left 1 as they were: acme/vpc/aws 1.0.0"), "\(run.stdout)")
            #expect(!FileManager.default.fileExists(atPath: work + "/.local/share/tfreg"), "staging went into the default data directory")
            // --output json: the lines go to standard error, standard output is one document; same status.
            let json = try runCommand(
                TFRegBinary.path,
                ["import-legacy", "--table", "registry", "--storage", "s3://tfreg-archives/registry", "--yes", "--output", "json"],
                env: env
            )
            #expect(json.status == 69, "\(json.status) \(json.stderr)")
            let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
            #expect(doc["total"] as? Int == 1 && (doc["imported"] as? [Any])?.count == 0 && (doc["left"] as? [Any])?.count == 1, "\(doc)")
            #expect(json.stderr.contains("left acme/vpc/aws 1.0.0"), "\(json.stderr)")
        }

        /// A version the replaced tool registered in a **versioned** bucket: each download checks the
        /// object and pins the presigned link to the object version whose checksum matched; once the
        /// owner overwrites the object, the download is refused (502) instead of serving other code.
        @Test func legacyObjectsInAVersionedBucketArePinnedAndAnOverwriteIsRefused() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            let s3 = S3Client(client: aws)
            try await s3.createBucket("tfreg-archives")
            let work = makeTemporaryDirectory("legacy-versioned")
            try writeModule(at: work + "/m", version: "1.0.0")
            #expect(try runCommand("/bin/tar", ["-czf", work + "/m.tar.gz", "-C", work + "/m", "."]).status == 0)
            let setup = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, base64, hashlib
                    kw = dict(endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    s3 = boto3.client("s3", **kw)
                    s3.create_bucket(Bucket="versioned")
                    s3.put_bucket_versioning(Bucket="versioned", VersioningConfiguration={"Status": "Enabled"})
                    body = open("\(work)/m.tar.gz", "rb").read()
                    v = s3.put_object(Bucket="versioned", Key="m/1.0.0.tar.gz", Body=body, ChecksumAlgorithm="SHA256")
                    t = boto3.resource("dynamodb", **kw).Table("registry")
                    t.put_item(Item={"pk": "acme", "sk": "Module~acme~m~aws~1.0.0", "namespace": "acme", "system": "aws", "name": "m", "version": "1.0.0",
                                     "bucket": "versioned", "key": "m/1.0.0.tar.gz", "expected_checksum": base64.b64encode(hashlib.sha256(body).digest()).decode()})
                    print(v["VersionId"])
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(setup.status == 0, "\(setup.stderr)")
            let versionId = setup.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            let env = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
            let server = try ServerProcess(
                extraEnv: env.merging(["TABLE_NAME": "registry", "TFREG_STORAGE": "s3://tfreg-archives/registry"]) { a, _ in a }
            )
            let reader = try server.tfreg(
                ["grant", "create", "-n", "acme", "--new-token", "reader", "--download"],
                env: env.merging(["TABLE": "registry"]) { a, _ in a }
            )
            #expect(reader.status == 0, "\(reader.stderr)")
            let auth = [(name: "Authorization", value: "Bearer \(reader.stdout.trimmingCharacters(in: .whitespacesAndNewlines))")]
            let before = try await server.client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/m/aws/1.0.0/download", headers: auth))
            let link = try #require(before.header("x-terraform-get"))
            #expect(before.status == 204 && link.contains("versionId=\(versionId)"), "the link is pinned to the checked version: \(link)")
            // The owner overwrites the object (a new version in a versioned bucket).
            try writeModule(at: work + "/evil", version: "6.6.6")
            #expect(try runCommand("/bin/tar", ["-czf", work + "/evil.tar.gz", "-C", work + "/evil", "."]).status == 0)
            let over = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    boto3.client("s3", endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)",
                                 aws_secret_access_key="\(moto.secretAccessKey)").put_object(Bucket="versioned", Key="m/1.0.0.tar.gz",
                                 Body=open("\(work)/evil.tar.gz", "rb").read(), ChecksumAlgorithm="SHA256")
                    """,
                ],
                env: ["HOME": work]
            )
            #expect(over.status == 0, "\(over.stderr)")
            let after = try await server.client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/m/aws/1.0.0/download", headers: auth))
            #expect(after.status == 502 && after.bodyText.contains("changed after it was registered"), "\(after.status) \(after.bodyText)")
            #expect(server.stop() == 0)
        }
    }
}
