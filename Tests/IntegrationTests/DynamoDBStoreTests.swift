import Foundation
import TFRegAWS
import TFRegCore
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegTesting
import Testing

extension MotoBackedTests {
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct DynamoDBStoreTests {
        func store(_ moto: MotoServer, table: String) async throws -> DynamoDBMetadataStore {
            let dynamo = DynamoDBClient(client: moto.client())
            try await dynamo.createTable(table)
            return DynamoDBMetadataStore(dynamo: dynamo, table: table)
        }

        /// A static-token grant item exactly as tfreg wrote it before token ids.
        static func legacyGrant(_ g: Grant) -> DynamoDBItem {
            let p = g.permissions
            return [
                "pk": .s(g.namespace.value), "sk": .s("StaticTokenAuth~\(g.identity.value)"), "namespace": .s(g.namespace.value),
                "identifier": .s(g.identity.value),
                "permissions": .m([
                    "download": .bool(p.download), "upload": .bool(p.upload), "create_grant": .bool(p.createGrant),
                    "delete_grant": .bool(p.deleteGrant),
                ]),
            ]
        }

        /// The same conformance suite the SQLite store passes, on DynamoDB (moto, signatures checked).
        @Test func conformance() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s = try await store(moto, table: "tfreg-conformance")
            try await MetadataStoreConformance.run(s) { g in
                // An item as tfreg wrote it before token ids: keyed and identified by token:NAME.
                try await s.dynamo.putItem(table: s.table, item: Self.legacyGrant(g))
            }
        }

        /// A token and its grants written by tfreg before ids (no token_id on the name item) keep
        /// working; a grant for the name written by that older tfreg after the token was revoked does
        /// not pass to a token created now.
        @Test func tokensFromBeforeIDsKeepTheirGrants() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s = try await store(moto, table: "legacy-tokens")
            let hash = String(repeating: "c", count: 64)
            let name = try Identity.token(named: "ci")
            let ns = try Namespace("acme")
            try await s.dynamo.putItem(
                table: s.table,
                item: ["pk": .s("StaticTokenName"), "sk": .s("token:ci"), "sha256": .s(hash), "created_at": .n("1")]
            )
            try await s.dynamo.putItem(
                table: s.table,
                item: ["pk": .s("StaticToken"), "sk": .s("StaticToken~\(hash)"), "identifier": .s("token:ci")]
            )
            let legacy = Self.legacyGrant(Grant(namespace: ns, identity: name, permissions: Permissions(download: true)))
            try await s.dynamo.putItem(table: s.table, item: legacy)
            let principal = try #require(try await s.staticTokenIdentity(hash: hash))
            #expect(principal == name)
            #expect(try await s.grant(for: principal, in: ns)?.permissions.download == true)
            try await s.putGrant(Grant(namespace: try Namespace("other"), identity: name, permissions: Permissions(upload: true)), mode: .create)
            #expect(try await s.grants(for: principal).count == 2)
            #expect(try await s.revokeStaticToken(name) == 2)
            // The older tfreg writes a grant for the name again; a token created now does not get it.
            try await s.dynamo.putItem(table: s.table, item: legacy)
            await #expect(throws: RegistryError.conflict("")) { try await s.createStaticToken(name, hash: hash, createdAt: 2) }
            let fresh = try await s.createStaticToken(name, hash: hash, createdAt: 2, discardingOrphans: true)
            #expect(fresh.tokenID != nil)
            #expect(try await s.grant(for: fresh, in: ns) == nil)
            #expect(try await s.grants(in: ns).isEmpty)
        }

        /// The replay guard's conditional put: the first claim wins, the second is refused, an expired
        /// item (TTL deletion is lazy) is claimed again.
        @Test func replayGuardClaimsOnce() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s = try await store(moto, table: "replay")
            let clock = TestClock(1_900_000_000)
            let guard1 = DynamoDBReplayGuard(dynamo: s.dynamo, table: s.table, clock: clock)
            let guard2 = DynamoDBReplayGuard(dynamo: DynamoDBClient(client: moto.client()), table: s.table, clock: clock)
            #expect(try await guard1.claim("k1", owner: "aws:1", until: clock.now() + 960))
            #expect(try await !guard2.claim("k1", owner: "aws:1", until: clock.now() + 960))
            #expect(try await guard2.claim("k2", owner: "aws:1", until: clock.now() + 960))
            clock.advance(961)
            #expect(try await guard2.claim("k1", owner: "aws:1", until: clock.now() + 960))
            #expect(try await !guard1.claim("k1", owner: "aws:1", until: clock.now() + 960))
        }

        /// A second store on the same table whose first write (PutItem or UpdateItem) waits for `between`
        /// to run: two writers of one item interleaved at the worst moment, deterministically.
        func interleaved(_ moto: MotoServer, table: String, between: @escaping @Sendable () async throws -> Void) -> DynamoDBMetadataStore {
            let http = InterleavingHTTPClient(operations: ["PutItem", "UpdateItem"], hook: between)
            let client = AWSClient(
                http: http,
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)),
                region: "us-east-1",
                environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                timeout: 60
            )
            return DynamoDBMetadataStore(dynamo: DynamoDBClient(client: client), table: table)
        }

        /// Issue 17: `deprecate` and `import-legacy` (replaceArchive) each rewrote the whole version item
        /// from what they had read, so whichever wrote last undid the other: a deprecation lost, or an
        /// archive location put back to the one import-legacy had just replaced. Each now updates only
        /// its own attributes; both orders keep both changes.
        @Test func deprecateAndReplaceArchiveDoNotUndoEachOther() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s = try await store(moto, table: "lost-update")
            let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
            let digest = String(repeating: "ab", count: 32)
            let newDigest = String(repeating: "cd", count: 32)
            let userObject = ArchiveLocation(bucket: "user-bucket", key: "acme/vpc/aws/1.0.0.tar.gz")
            let own = ArchiveLocation(key: "sha256/cd/\(newDigest).tar.gz")
            let deprecation = Deprecation(reason: "use 2.x", replacement: "2.0.0", at: 1_900_000_000, by: "token:admin#1")
            for (n, deprecateFirst) in [(1, true), (2, false)] {
                let version = try Version("1.0.\(n)")
                try await s.insertVersion(
                    ModuleVersionRecord(module: module, version: version, location: userObject, sha256: digest, size: 10, publishedAt: 1)
                )
                if deprecateFirst {
                    // deprecate reads, import-legacy replaces the archive, deprecate writes.
                    let racing = interleaved(moto, table: s.table) { () async throws in
                        let replaced = try await s.replaceArchive(of: version, of: module, from: userObject, to: own, sha256: newDigest, size: 20)
                        #expect(replaced)
                    }
                    #expect(try await racing.setDeprecation(deprecation, version: version, of: module) != nil)
                } else {
                    // import-legacy reads, deprecate writes, import-legacy writes.
                    let racing = interleaved(moto, table: s.table) { () async throws in
                        let deprecated = try await s.setDeprecation(deprecation, version: version, of: module)
                        #expect(deprecated != nil)
                    }
                    #expect(try await racing.replaceArchive(of: version, of: module, from: userObject, to: own, sha256: newDigest, size: 20))
                }
                let after = try #require(try await s.version(version, of: module))
                #expect(after.location == own, "order \(n): the archive replacement was lost")
                #expect(after.sha256 == newDigest && after.size == 20)
                #expect(after.deprecation == deprecation, "order \(n): the deprecation was lost")
                let item = try #require(
                    try await s.dynamo.getItem(table: s.table, key: ["pk": .s("acme"), "sk": .s("Module~acme~vpc~aws~1.0.\(n)")])
                )
                #expect(item["bucket"] == nil, "the registry's own archive has no bucket")
                // Undeprecating removes the deprecation and nothing else.
                let undone = try #require(try await s.setDeprecation(nil, version: version, of: module))
                #expect(undone.deprecation == nil && undone.location == own)
            }
            // A version that does not exist is neither deprecated nor replaced (and not created).
            let missing = try Version("9.9.9")
            #expect(try await s.setDeprecation(deprecation, version: missing, of: module) == nil)
            #expect(try await !s.replaceArchive(of: missing, of: module, from: userObject, to: own, sha256: newDigest, size: 1))
            #expect(try await s.version(missing, of: module) == nil)
            // A replacement from a location the item no longer names changes nothing.
            #expect(try await !s.replaceArchive(of: try Version("1.0.1"), of: module, from: userObject, to: userObject, sha256: digest, size: 1))
        }

        /// Items written exactly as the tool tfreg replaces writes them (boto3, its layout) are read unchanged.
        @Test func readsTablesOfTheReplacedTool() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s = try await store(moto, table: "seed")
            let digest = Data(repeating: 0xab, count: 32).base64EncodedString()
            let script = """
                import boto3
                t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                   aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("seed")
                t.put_item(Item={"pk": "acme", "sk": "Module~acme~vpc~aws~1.0.0", "namespace": "acme", "system": "aws", "name": "vpc",
                                 "version": "1.0.0", "bucket": "modules-bucket", "key": "acme/vpc/aws/1.0.0.tar.gz", "expected_checksum": "\(digest)"})
                t.put_item(Item={"pk": "acme", "sk": "IAMBearerAuth~arn:aws:iam::123456789012:role/deployer", "namespace": "acme",
                                 "identifier": "arn:aws:iam::123456789012:role/deployer",
                                 "permissions": {"download": True, "upload": False, "create_grant": False, "delete_grant": True}})
                """
            let r = try runCommand(which("python3")!, ["-c", script])
            #expect(r.status == 0, "\(r.stderr)")
            let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
            let versions = try await s.versions(of: module)
            #expect(versions.count == 1)
            let v = try #require(versions.first)
            #expect(v.location == ArchiveLocation(bucket: "modules-bucket", key: "acme/vpc/aws/1.0.0.tar.gz"))
            #expect(v.sha256 == String(repeating: "ab", count: 32))
            let grant = try await s.grant(for: try Identity("arn:aws:iam::123456789012:role/deployer"), in: try Namespace("acme"))
            #expect(grant?.permissions == Permissions(download: true, deleteGrant: true))
            // And what tfreg writes keeps the replaced tool's attributes.
            let id = try Identity("arn:aws:iam::123456789012:role/reader")
            try await s.putGrant(Grant(namespace: try Namespace("acme"), identity: id, permissions: Permissions(download: true)), mode: .create)
            let check = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3
                    t = boto3.resource("dynamodb", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)").Table("seed")
                    i = t.get_item(Key={"pk": "acme", "sk": "IAMBearerAuth~arn:aws:iam::123456789012:role/reader"})["Item"]
                    print(i["identifier"], i["permissions"]["download"], i["permissions"]["upload"])
                    """,
                ]
            )
            #expect(check.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "arn:aws:iam::123456789012:role/reader True False")
        }

        /// Only a backend that cannot be reached is "unavailable, try again" (503). A refusal (a table
        /// that does not exist, credentials moto rejects with an XML SignatureDoesNotMatch 403) is a
        /// configuration error that names the call, the table, the region and what to check.
        @Test func refusalsAreConfigurationErrorsAndOnlyAnUnreachableTableIs503() async throws {
            let moto = try MotoServer()
            let missing = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: moto.client()), table: "missing")
            do {
                _ = try await missing.versions(of: try ModuleAddress(namespace: "a", name: "b", system: "c"))
                Issue.record("a missing table must fail")
            } catch {
                #expect(error.code == .misconfigured, "\(error)")
                #expect(error.detail?.contains("table missing does not exist in region us-east-1") == true, "\(error.detail ?? "")")
                #expect(error.detail?.contains("Query") == true, "the refused call is named: \(error.detail ?? "")")
            }
            let dynamo = DynamoDBClient(client: moto.client())
            try await dynamo.createTable("present")
            #expect(try await dynamo.tableStatus("present") == "ACTIVE")
            #expect(try await dynamo.tableStatus("missing") == nil)
            let wrongSecret = DynamoDBMetadataStore(dynamo: DynamoDBClient(client: moto.client(secret: "not-the-secret")), table: "present")
            do {
                _ = try await wrongSecret.grant(for: try Identity.token(named: "x"), in: try Namespace("a"))
                Issue.record("a wrong secret must fail")
            } catch {
                #expect(error.code == .misconfigured, "\(error)")
                #expect(
                    error.detail?.contains("credentials were refused") == true && error.detail?.contains("GetItem") == true,
                    "\(error.detail ?? "")"
                )
                #expect(!error.message.contains("try again"))
            }
            // The CLI says it with exit code 78 (EX_CONFIG), never "try again later" (69).
            let env = [
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": "not-the-secret",
                "AWS_REGION": "us-east-1", "HOME": NSTemporaryDirectory(),
            ]
            let cli = try runCommand(TFRegBinary.path, ["grant", "list", "--table", "present", "-n", "acme"], env: env)
            #expect(
                cli.status == 78 && cli.stderr.contains("credentials were refused") && !cli.stderr.contains("try again"),
                "\(cli.status) \(cli.stderr)"
            )
            // serve fails at start, naming the table and the region.
            var good = env
            good["AWS_SECRET_ACCESS_KEY"] = moto.secretAccessKey
            let serve = try runCommand(
                TFRegBinary.path,
                ["serve", "--table", "nosuchtable", "--port", "0", "--data-dir", NSTemporaryDirectory() + "tfreg-missing-\(getpid())"],
                env: good
            )
            #expect(serve.status == 78 && serve.stderr.contains("nosuchtable does not exist in region us-east-1"), "\(serve.status) \(serve.stderr)")
            moto.stop()
            await #expect(throws: RegistryError.unavailable("", detail: nil)) {
                try await missing.grant(for: try Identity.token(named: "x"), in: try Namespace("a"))
            }
        }
    }
}

/// Runs `hook` once, just before the first request for one of `operations` (by X-Amz-Target) goes out.
final class InterleavingHTTPClient: HTTPClient, @unchecked Sendable {
    let inner = CurlHTTPClient()
    let operations: Set<String>
    let hook: @Sendable () async throws -> Void
    let lock = NSLock()
    var fired = false

    init(operations: Set<String>, hook: @escaping @Sendable () async throws -> Void) {
        self.operations = operations
        self.hook = hook
    }

    func send(_ request: HTTPRequest) async throws(HTTPClientError) -> HTTPResponse {
        let op = request.headers.first { $0.name.lowercased() == "x-amz-target" }.map { String($0.value.split(separator: ".").last ?? "") } ?? ""
        if operations.contains(op),
            lock.withLock({ () -> Bool in
                defer { fired = true }
                return !fired
            })
        {
            do { try await hook() } catch { Issue.record("the interleaved write failed: \(error)") }
        }
        return try await inner.send(request)
    }
}
