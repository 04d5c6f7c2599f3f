import Foundation
import Testing

/// The README's recipes run as written, and commands that talk to a registry use the caller's AWS
/// identity when no static token is given (issue 22, items 1, 4 and 7).
extension MotoBackedTests {
    @Suite(.serialized, .enabled(if: MotoServer.available, "needs moto_server (make test installs it)"))
    struct CallerIdentityTests {
        /// README, `tfreg token`: the `env` recipe, taken from the README, run by bash. When tfreg fails
        /// (an unreachable registry, no AWS credentials) nothing is printed or exported — a planted AWS
        /// secret never reaches the output, as it did when the recipe ran a bare `export` — and the line
        /// fails, with and without `set -e`; against a working registry the variable is exported.
        @Test(.timeLimit(.minutes(3))) func theReadmesTokenEnvRecipeFailsSafe() throws {
            let recipe = try ReadmeText.line { $0.contains("tfreg token") && $0.contains(" env") && $0.hasPrefix("eval ") }
            let moto = try MotoServer()
            defer { moto.stop() }
            // `env` cannot name a port, so the registry is `localhost` (the test certificate's DNS name)
            // reached through a CONNECT proxy to the server's port.
            let server = try ServerProcess(
                extraEnv: ["TFREG_AUDIENCE": "localhost", "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true"]
            )
            #expect(try server.tfreg(["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:user/tfreg-test", "-d"]).status == 0)
            let proxy = try ConnectProxy(to: server.port)
            defer { proxy.stop() }
            let bin = makeTemporaryDirectory("tfreg-path")
            defer { try? FileManager.default.removeItem(atPath: bin) }
            try FileManager.default.createSymbolicLink(atPath: bin + "/tfreg", withDestinationPath: TFRegBinary.path)
            let script = recipe.replacingOccurrences(of: "registry.example.com", with: "localhost")
            let secret = "planted-secret-\(UUID().uuidString)"
            let base = [
                "PATH": bin + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "HOME": server.dir,
                "SSL_CERT_FILE": server.cert, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent",
            ]
            let keys = ["AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey]
            let failures: [(String, [String: String])] = [
                (
                    "an unreachable registry",
                    ["HTTPS_PROXY": "http://127.0.0.1:1", "AWS_ACCESS_KEY_ID": "AKIDPLANTED", "AWS_SECRET_ACCESS_KEY": secret]
                ),
                ("no AWS credentials", ["HTTPS_PROXY": proxy.url, "PLANTED_SECRET": secret]),
            ]
            for (why, extra) in failures {
                let env = base.merging(extra) { _, b in b }
                let plain = try runCommand("/bin/bash", ["-c", script + "\necho status=$?"], env: env)
                #expect(plain.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "status=1", "\(why): \(plain.stdout) \(plain.stderr)")
                let strict = try runCommand("/bin/bash", ["-c", "set -e\n" + script + "\necho carried on"], env: env)
                #expect(strict.status != 0 && !strict.stdout.contains("carried on"), "\(why): \(strict.stdout)")
                for r in [plain, strict] {
                    #expect(!(r.stdout + r.stderr).contains(secret), "\(why): the secret was printed")
                    #expect(!r.stdout.contains("declare -x") && !r.stdout.contains("TF_TOKEN_"), "\(why): \(r.stdout)")
                }
            }
            let works = try runCommand(
                "/bin/bash",
                ["-c", "set -e\n" + script + "\nprintenv TF_TOKEN_localhost"],
                env: base.merging(keys) { _, b in b }.merging(["HTTPS_PROXY": proxy.url]) { _, b in b }
            )
            #expect(works.status == 0 && works.stdout.hasPrefix("tfi_"), "\(works.stdout) \(works.stderr)")
            // The line itself: one export, the token single-quoted.
            let line = try runCommand(
                TFRegBinary.path,
                ["token", "--registry", "localhost", "env"],
                env: base.merging(keys) { _, b in b }.merging(["HTTPS_PROXY": proxy.url]) { _, b in b }
            )
            #expect(line.stdout.hasPrefix("export TF_TOKEN_localhost='tfi_") && line.stdout.hasSuffix("'\n"), "\(line.stdout)")
            #expect(server.stop() == 0)
        }

        /// Item 4: with no static token anywhere, `publish`, `deprecate` and `delete` use an IAM token
        /// for the caller's AWS identity (a role with `upload`, assumed through moto STS), as
        /// `grant --registry` does; without AWS credentials the error says why and mentions `tfreg token`.
        @Test func publishDeprecateDeleteUseTheCallersRole() throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let port = try MotoServer.freePort()
            let host = "127.0.0.1:\(port)"
            let server = try ServerProcess(
                extraEnv: ["TFREG_AUDIENCE": host, "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true"],
                port: port
            )
            #expect(
                try server.tfreg(["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:role/ci", "--download", "--upload"]).status == 0
            )
            let role = try assumeRole("ci", moto: moto)
            try writeModule(at: server.dir + "/m", version: "1.0.0")
            let home = makeTemporaryDirectory("tfreg-ci")
            defer { try? FileManager.default.removeItem(atPath: home) }
            // Nothing static: no TFREG_TOKEN, no TF_TOKEN_…, no CLI config in HOME.
            let env = role.merging(["HOME": home, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"]) { a, _ in a }
            let address = ["--registry", host, "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "1.0.0"]
            let published = try server.tfreg(["publish", server.dir + "/m"] + address, env: env)
            #expect(published.status == 0, "\(published.stderr)")
            #expect(published.stderr.contains("using an IAM token for arn:aws:iam::123456789012:role/ci"), "\(published.stderr)")
            let deprecated = try server.tfreg(["deprecate"] + address + ["--reason", "old", "--yes"], env: env)
            #expect(deprecated.status == 0, "\(deprecated.stderr)")
            let deleted = try server.tfreg(["delete"] + address + ["--yes"], env: env)
            #expect(deleted.status == 0, "\(deleted.stderr)")
            #expect(server.logShows("arn:aws:iam::123456789012:role/ci"))

            // No AWS credentials either: denied (77), saying what failed and where to look.
            let none = try server.tfreg(
                ["publish", server.dir + "/m"] + address,
                env: [
                    "HOME": home, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent",
                    "AWS_CONFIG_FILE": "/nonexistent",
                ]
            )
            #expect(none.status == 77, "\(none.stderr)")
            #expect(none.stderr.contains("tfreg token --registry \(host)") && none.stderr.contains("no AWS credentials"), "\(none.stderr)")
            #expect(none.stderr.components(separatedBy: "credentials \"\(host)\" block").count == 2, "\(none.stderr)")
            #expect(server.stop() == 0)
        }

        /// README, AWS backends: the table commands run as written with the AWS CLI (on moto), and
        /// `tfreg serve --check-config` accepts the table they make.
        @Test(.enabled(if: which("aws") != nil, "needs the AWS CLI (make test installs it)"))
        func theReadmesTableCommandsMakeATableTFRegAccepts() throws {
            let block = try ReadmeText.block { $0.contains("aws dynamodb create-table") }
            #expect(block.contains("--billing-mode PAY_PER_REQUEST") && block.contains("AttributeName=expires_at"))
            let moto = try MotoServer()
            defer { moto.stop() }
            let dir = makeTemporaryDirectory("tfreg-table")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try FileManager.default.createSymbolicLink(atPath: dir + "/tfreg", withDestinationPath: TFRegBinary.path)
            try FileManager.default.createDirectory(atPath: dir + "/data", withIntermediateDirectories: true)
            let r = try runCommand(
                "/bin/bash",
                ["-c", "set -e\n" + block],
                env: [
                    "PATH": dir + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"), "HOME": dir,
                    "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
                    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                    "TFREG_DATA_DIR": dir + "/data", "AWS_PAGER": "",
                ]
            )
            #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
            #expect(r.stdout.contains("configuration OK") || r.stderr.contains("configuration OK"), "\(r.stdout)\n\(r.stderr)")
            // The table as DynamoDB describes it: the keys and billing mode tfreg expects, TTL on.
            let ttl = try runCommand(
                which("aws")!,
                ["dynamodb", "describe-time-to-live", "--table-name", "tfreg"],
                env: [
                    "HOME": dir, "AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": moto.accessKeyID,
                    "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_DEFAULT_REGION": "us-east-1",
                ]
            )
            #expect(ttl.stdout.contains("ENABLED") && ttl.stdout.contains("expires_at"), "\(ttl.stdout) \(ttl.stderr)")
        }

        /// Temporary credentials of a new role NAME, assumed through moto STS: the environment variables.
        func assumeRole(_ name: String, moto: MotoServer) throws -> [String: String] {
            let r = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, json
                    kw = dict(endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    iam, sts = boto3.client("iam", **kw), boto3.client("sts", **kw)
                    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tfreg-test"}, "Action": "sts:AssumeRole"}]})
                    role = iam.create_role(RoleName="\(name)", AssumeRolePolicyDocument=trust)["Role"]
                    iam.put_role_policy(RoleName="\(name)", PolicyName="sts", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
                    c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="pipeline")["Credentials"]
                    print(c["AccessKeyId"]); print(c["SecretAccessKey"]); print(c["SessionToken"])
                    """,
                ],
                env: ["HOME": NSTemporaryDirectory()]
            )
            let lines = r.stdout.split(separator: "\n").map(String.init)
            guard r.status == 0, lines.count == 3 else { throw TestFailure("assume role failed: \(r.stderr)") }
            return ["AWS_ACCESS_KEY_ID": lines[0], "AWS_SECRET_ACCESS_KEY": lines[1], "AWS_SESSION_TOKEN": lines[2]]
        }
    }
}

/// Without a token and against a registry that issues no IAM tokens, the message names every way to
/// give one, each once (item 5: it named the credentials block twice for a host with a port).
@Suite struct NoTokenMessageTests {
    @Test func namesEachWayOnceAndThatTheRegistryIssuesNoIAMTokens() throws {
        let server = try ServerProcess()
        try writeModule(at: server.dir + "/m", version: "1.0.0")
        let r = try server.tfreg(
            [
                "publish", server.dir + "/m", "--registry", server.host, "-n", "acme", "--name", "net", "--provider", "aws", "--module-version",
                "1.0.0",
            ],
            env: ["HOME": server.dir + "/empty"]
        )
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.components(separatedBy: "credentials").count == 2, "\(r.stderr)")
        #expect(r.stderr.contains("does not issue IAM tokens") && !r.stderr.contains("TF_TOKEN_"), "\(r.stderr)")
        #expect(server.stop() == 0)
    }
}

/// Text of README.md's fenced shell blocks.
enum ReadmeText {
    static func blocks() throws -> [String] {
        let readme = try String(contentsOfFile: ReadmeCommands.readmePath, encoding: .utf8)
        var blocks: [String] = []
        var current: [String]?
        for line in readme.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                if let c = current {
                    blocks.append(c.joined(separator: "\n"))
                    current = nil
                } else if trimmed == "```sh" || trimmed == "```bash" {
                    current = []
                } else {
                    current = nil
                }
                continue
            }
            current?.append(line)
        }
        return blocks
    }

    /// The one shell block that `matches`.
    static func block(_ matches: (String) -> Bool) throws -> String {
        let found = try blocks().filter(matches)
        guard found.count == 1 else { throw TestFailure("expected one README shell block to match, found \(found.count)") }
        return found[0]
    }

    /// The one shell line that `matches`, without its trailing comment.
    static func line(_ matches: (String) -> Bool) throws -> String {
        let found = try blocks().flatMap { $0.components(separatedBy: "\n") }.filter(matches)
        guard found.count == 1 else { throw TestFailure("expected one README line to match, found \(found.count)") }
        return ReadmeCommands.withoutComment(found[0]).trimmingCharacters(in: .whitespaces)
    }
}

/// An HTTP CONNECT proxy on loopback that tunnels every request to one local port: a registry host
/// without a port (`localhost`, as `TF_TOKEN_…` needs) reaches a test server on a free port.
final class ConnectProxy: @unchecked Sendable {
    let process = Process()
    let port: Int
    var url: String { "http://127.0.0.1:\(port)" }

    init(to target: Int) throws {
        process.executableURL = URL(fileURLWithPath: which("python3")!)
        process.arguments = [
            "-c",
            """
            import socket, sys, threading
            listener = socket.socket()
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            print(listener.getsockname()[1], flush=True)
            def pump(a, b):
                try:
                    while True:
                        data = a.recv(65536)
                        if not data:
                            break
                        b.sendall(data)
                except OSError:
                    pass
                try:
                    b.shutdown(socket.SHUT_WR)
                except OSError:
                    pass
            def serve(client):
                head = b""
                while b"\\r\\n\\r\\n" not in head:
                    data = client.recv(4096)
                    if not data:
                        client.close()
                        return
                    head += data
                if not head.startswith(b"CONNECT "):
                    client.close()
                    return
                upstream = socket.create_connection(("127.0.0.1", \(target)))
                client.sendall(b"HTTP/1.1 200 Connection established\\r\\n\\r\\n")
                rest = head.split(b"\\r\\n\\r\\n", 1)[1]
                if rest:
                    upstream.sendall(rest)
                threading.Thread(target=pump, args=(upstream, client), daemon=True).start()
                pump(client, upstream)
            while True:
                conn, _ = listener.accept()
                threading.Thread(target=serve, args=(conn,), daemon=True).start()
            """,
        ]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let d = out.fileHandleForReading.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        guard let p = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            throw TestFailure("the proxy did not start: \(text)")
        }
        port = p
    }

    /// SIGKILL: a Python child of the test process does not act on SIGTERM (as moto does not).
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }

    deinit { stop() }
}
