import Foundation
import TFRegAWS
import TFRegHTTPClient
import Testing

extension MotoBackedTests {
    /// IAM authentication end to end: `tfreg token` signs a GetCallerIdentity bound to the registry's
    /// host, `tfreg serve` sends it to STS (moto, checking the signature with the Host the client
    /// signed), seals a short-lived token for the normalized principal, and terraform installs with it.
    @Suite(
        .serialized,
        .enabled(if: MotoServer.available && TerraformEndToEndTests.terraform != nil, "needs moto_server and terraform (make test installs them)")
    )
    struct IAMTokenTests {
        @Test func tokenFromIAMIdentityWorksWithTerraformAndAttacksAreRefused() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let port = try MotoServer.freePort()
            let host = "127.0.0.1:\(port)"
            let server = try ServerProcess(
                extraEnv: [
                    "TFREG_AUDIENCE": host, "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                    "MAX_IAM_TOKEN_EXPIRATION_WINDOW": "900",
                ],
                port: port
            )
            let publisher = try server.token("publisher", namespace: "acme", flags: ["--upload"])
            try writeModule(at: server.dir + "/m", version: "1.0.0")
            let published = try server.tfreg([
                "publish", server.dir + "/m", "--registry", host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0", "--token",
                publisher,
            ])
            #expect(published.status == 0, "\(published.stderr)")
            // moto's IAM user is arn:aws:iam::123456789012:user/tfreg-test.
            let grant = try server.tfreg(["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:user/tfreg-test", "-d"])
            #expect(grant.status == 0, "\(grant.stderr)")

            let clientEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_EC2_METADATA_DISABLED": "true",
            ]
            let issued = try server.tfreg(["token", "-r", host, "-T", "600", "token"], env: clientEnv)
            #expect(issued.status == 0, "\(issued.stderr)")
            let token = issued.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
            #expect(token.hasPrefix("tfi_"))
            let config = try server.tfreg(["token", "-r", host, "config"], env: clientEnv)
            #expect(config.stdout.hasPrefix("credentials \"\(host)\" {\n  token = \"tfi_"))
            let env = try server.tfreg(["token", "-r", host, "env"], env: clientEnv)
            #expect(env.status != 0 && env.stderr.contains("port"))
            // The replaced tool's name for the command works too.
            let legacy = try runCommand(
                "/bin/sh",
                [
                    "-c",
                    "ln -sf '\(TFRegBinary.path)' '\(server.dir)/get-registry-token' && '\(server.dir)/get-registry-token' --registry-host \(host) --time 120 token",
                ],
                env: clientEnv.merging(["SSL_CERT_FILE": server.cert, "HOME": server.dir]) { a, _ in a }
            )
            #expect(legacy.status == 0 && legacy.stdout.hasPrefix("tfi_"), "\(legacy.stderr)")

            // Terraform installs with the IAM token.
            let work = makeTemporaryDirectory("tf-iam")
            try "module \"net\" {\n  source  = \"\(host)/acme/net/aws\"\n  version = \"1.0.0\"\n}\n".write(
                toFile: work + "/main.tf",
                atomically: true,
                encoding: .utf8
            )
            try "credentials \"\(host)\" {\n  token = \"\(token)\"\n}\n".write(toFile: work + "/rc", atomically: true, encoding: .utf8)
            let tf = try runCommand(
                TerraformEndToEndTests.terraform!,
                ["init", "-input=false", "-no-color"],
                env: [
                    "HOME": work, "TF_CLI_CONFIG_FILE": work + "/rc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                ],
                cwd: work
            )
            #expect(tf.status == 0, "terraform init failed:\n\(tf.stdout)\n\(tf.stderr)")

            // install-helper, then terraform init with no token anywhere: the helper proves the AWS
            // identity from the environment and hands terraform a fresh token.
            let home = makeTemporaryDirectory("tf-helper")
            let installed = try runCommand(
                TFRegBinary.path,
                ["install-helper", "--expiration-window", "900", "--registry-host", host],
                env: ["HOME": home, "SSL_CERT_FILE": server.cert]
            )
            #expect(installed.status == 0, "\(installed.stderr)")
            let rc = try String(contentsOfFile: home + "/.terraformrc", encoding: .utf8)
            #expect(rc.contains("credentials_helper \"tfreg\" {\n  args = [\"--expiration-window\", \"900\"]\n}"), "\(rc)")
            #expect(
                try FileManager.default.destinationOfSymbolicLink(atPath: home + "/.terraform.d/plugins/terraform-credentials-tfreg").hasSuffix(
                    "/tfreg"
                )
            )
            #expect(try runCommand(TFRegBinary.path, ["install-helper"], env: ["HOME": home]).stdout.contains("already"))
            try "module \"net\" {\n  source  = \"\(host)/acme/net/aws\"\n  version = \"1.0.0\"\n}\n".write(
                toFile: home + "/main.tf",
                atomically: true,
                encoding: .utf8
            )
            let viaHelper = try runCommand(
                TerraformEndToEndTests.terraform!,
                ["init", "-input=false", "-no-color"],
                env: clientEnv.merging([
                    "HOME": home, "TF_CLI_CONFIG_FILE": home + "/.terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                ]) { a, _ in a },
                cwd: home
            )
            #expect(viaHelper.status == 0, "terraform init through the helper failed:\n\(viaHelper.stdout)\n\(viaHelper.stderr)")
            // The helper protocol directly: a token for an IAM registry, cached (0600) and reused.
            let helper = home + "/.terraform.d/plugins/terraform-credentials-tfreg"
            let got = try runCommand(
                helper,
                ["--expiration-window", "900", "get", host],
                env: clientEnv.merging(["HOME": home, "SSL_CERT_FILE": server.cert]) { a, _ in a }
            )
            #expect(got.status == 0 && got.stdout.hasPrefix(#"{"token":"tfi_"#), "\(got.stdout) \(got.stderr)")
            let cache = home + "/.cache/tfreg/tokens.json"
            #expect((try FileManager.default.attributesOfItem(atPath: cache)[.posixPermissions] as? Int) == 0o600)
            // The same credentials again: the cached token. No AWS credentials at all: never a cached token
            // (the cache is keyed by the credentials a token was obtained with).
            let cached = try runCommand(helper, ["get", host], env: clientEnv.merging(["HOME": home, "SSL_CERT_FILE": server.cert]) { a, _ in a })
            #expect(cached.stdout == got.stdout, "\(cached.stdout) \(cached.stderr)")
            let noCredentials = try runCommand(
                helper,
                ["get", host],
                env: ["HOME": home, "SSL_CERT_FILE": server.cert, "AWS_EC2_METADATA_DISABLED": "true"]
            )
            #expect(noCredentials.status != 0 && !noCredentials.stdout.contains("tfi_"), "\(noCredentials.stdout) \(noCredentials.stderr)")
            // --no-iam, or a host that is not a tfreg registry: {}.
            #expect(
                try runCommand(helper, ["--no-iam", "get", "127.0.0.1:1"], env: ["HOME": home]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
                    == "{}"
            )
            #expect(
                try runCommand(helper, ["get", "127.0.0.1:1"], env: ["HOME": home]).stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "{}"
            )

            // The token grants only what the principal's grants allow.
            let http = server.client
            let upload = try await http.send(
                HTTPRequest(method: "DELETE", url: server.baseURL + "/v1/modules/acme/net/aws/1.0.0", headers: [("Authorization", "Bearer \(token)")])
            )
            #expect(upload.status == 403)

            // Delegation through the API as the IAM user (tfreg grant --registry fetches an IAM token).
            #expect(try server.tfreg(["grant", "update", "-n", "acme", "-r", "arn:aws:iam::123456789012:user/tfreg-test", "-d", "-c"]).status == 0)
            let delegated = try server.tfreg(
                ["grant", "create", "--registry", host, "-n", "acme", "-r", "arn:aws:iam::123456789012:role/reader", "-d"],
                env: clientEnv
            )
            #expect(delegated.status == 0, "\(delegated.stderr)")
            let escalate = try server.tfreg(
                ["grant", "create", "--registry", host, "-n", "acme", "-r", "arn:aws:iam::123456789012:role/other", "-d", "-u"],
                env: clientEnv
            )
            #expect(escalate.status != 0 && escalate.stderr.contains("403") && escalate.stderr.contains("do not hold"), "\(escalate.stderr)")
            let listed = try server.tfreg(["grant", "list", "--registry", host, "-n", "acme"], env: clientEnv)
            #expect(listed.status == 0 && listed.stdout.contains("arn:aws:iam::123456789012:role/reader"), "\(listed.stdout) \(listed.stderr)")

            // Attacks on /token: each is refused before or by STS.
            let creds = AWSCredentials(accessKeyID: moto.accessKeyID, secretAccessKey: moto.secretAccessKey)
            func signed(
                audience: String,
                body: String = "Action=GetCallerIdentity&Version=2011-06-15",
                secret: String? = nil,
                extra: [(name: String, value: String)] = [],
                signAudience: Bool = true
            ) -> [(name: String, value: String)] {
                var headers: [(name: String, value: String)] =
                    [("Host", "sts.us-east-1.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")] + extra
                if signAudience { headers.append(("X-TFReg-Audience", audience)) }
                var s = SigV4Signer(service: "sts", region: "us-east-1").sign(
                    SigV4Request(method: "POST", path: "/", headers: headers, body: Array(body.utf8)),
                    credentials: secret.map { AWSCredentials(accessKeyID: creds.accessKeyID, secretAccessKey: $0) } ?? creds,
                    now: Int64(Date().timeIntervalSince1970)
                ).headers
                if !signAudience { s.append(("X-TFReg-Audience", audience)) }
                return s
            }
            func exchange(
                _ headers: [(name: String, value: String)],
                url: String = "https://sts.us-east-1.amazonaws.com/",
                body: String = "Action=GetCallerIdentity&Version=2011-06-15"
            ) async throws -> HTTPResponse {
                let h = headers.map { "\"\($0.name)\": \"\($0.value.replacingOccurrences(of: "\"", with: "\\\""))\"" }.joined(separator: ", ")
                let json = #"{"method": "POST", "url": "\#(url)", "headers": {\#(h)}, "body": "\#(body)"}"#
                return try await http.send(
                    HTTPRequest(
                        method: "POST",
                        url: server.baseURL + "/token",
                        headers: [("Content-Type", "application/json")],
                        body: Array(json.utf8)
                    )
                )
            }
            let good = try await exchange(signed(audience: host))
            #expect(good.status == 200 && good.bodyText.contains("arn:aws:iam::123456789012:user/tfreg-test"), "\(good.bodyText)")
            let otherRegistry = try await exchange(signed(audience: "registry.other.example"))
            #expect(otherRegistry.status == 401, "\(otherRegistry.bodyText)")
            let unsignedAudience = try await exchange(signed(audience: host, signAudience: false))
            #expect(unsignedAudience.status == 400, "\(unsignedAudience.bodyText)")
            let wrongSecret = try await exchange(signed(audience: host, secret: "not-the-secret"))
            #expect(wrongSecret.status == 401, "\(wrongSecret.bodyText)")
            let otherAction = try await exchange(
                signed(audience: host, body: "Action=AssumeRole&Version=2011-06-15"),
                body: "Action=AssumeRole&Version=2011-06-15"
            )
            #expect(otherAction.status == 400)
            let evilHost = try await exchange(signed(audience: host), url: "https://sts.us-east-1.amazonaws.com.evil.example/")
            #expect(evilHost.status == 400)
            let duplicated = try await exchange(signed(audience: host) + [("x-tfreg-audience", host)])
            #expect(duplicated.status == 400)
            let extraHeader = try await exchange(signed(audience: host, extra: [("X-Forwarded-For", "1.2.3.4")]))
            #expect(extraHeader.status == 400)
            for bad in ["tfi_AAAA", String(token.dropLast(2)) + "AA"] {
                let r = try await http.send(
                    HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/versions", headers: [("Authorization", "Bearer \(bad)")])
                )
                #expect(r.status == 401 && r.bodyText == #"{"errors":["invalid or expired token"]}"#, "\(r.bodyText)")
            }
            #expect(server.stop() == 0)
            #expect(!server.logText.contains(token) && !server.logText.contains(moto.secretAccessKey))
        }

        /// The issue's scenario: roles assumed through moto STS, exposed as named profiles in a temporary
        /// ~/.aws; install-helper; plain terraform init with no token anywhere. The role with a grant
        /// installs the module; a second role without one is refused.
        @Test func assumedRoleProfilesAndTheHelper() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let port = try MotoServer.freePort()
            let host = "127.0.0.1:\(port)"
            let server = try ServerProcess(
                extraEnv: ["TFREG_AUDIENCE": host, "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true"],
                port: port
            )
            let publisher = try server.token("publisher", namespace: "acme", flags: ["--upload"])
            try writeModule(at: server.dir + "/m", version: "1.0.0")
            #expect(
                try server.tfreg([
                    "publish", server.dir + "/m", "--registry", host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0",
                    "--token", publisher,
                ]).status == 0
            )
            #expect(
                try server.tfreg(["grant", "create", "--role-arn", "arn:aws:iam::123456789012:role/deployer", "--namespace", "acme", "--download"])
                    .status == 0
            )

            let home = makeTemporaryDirectory("tf-roles")
            let setup = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, json, os
                    kw = dict(endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    iam, sts = boto3.client("iam", **kw), boto3.client("sts", **kw)
                    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tfreg-test"}, "Action": "sts:AssumeRole"}]})
                    lines = []
                    for name in ("deployer", "outsider"):
                        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
                        iam.put_role_policy(RoleName=name, PolicyName="sts", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
                        c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run")["Credentials"]
                        lines += ["[%s]" % name, "aws_access_key_id = " + c["AccessKeyId"], "aws_secret_access_key = " + c["SecretAccessKey"], "aws_session_token = " + c["SessionToken"], "region = us-east-1", ""]
                    os.makedirs("\(home)/.aws", exist_ok=True)
                    open("\(home)/.aws/credentials", "w").write("\\n".join(lines))
                    """,
                ],
                env: ["HOME": home]
            )
            #expect(setup.status == 0, "\(setup.stderr)")
            #expect(try runCommand(TFRegBinary.path, ["install-helper"], env: ["HOME": home]).status == 0)
            try "module \"net\" {\n  source  = \"\(host)/acme/net/aws\"\n  version = \"1.0.0\"\n}\n".write(
                toFile: home + "/main.tf",
                atomically: true,
                encoding: .utf8
            )
            func initAs(_ profile: String) throws -> CommandResult {
                // The helper's token cache stays: it is keyed by identity, so the outsider never gets the deployer's token.
                try? FileManager.default.removeItem(atPath: home + "/.terraform")
                return try runCommand(
                    TerraformEndToEndTests.terraform!,
                    ["init", "-input=false", "-no-color"],
                    env: [
                        "HOME": home, "AWS_PROFILE": profile, "AWS_EC2_METADATA_DISABLED": "true", "SSL_CERT_FILE": server.cert,
                        "CHECKPOINT_DISABLE": "1",
                    ],
                    cwd: home
                )
            }
            let ok = try initAs("deployer")
            #expect(ok.status == 0, "terraform init as the deployer role failed:\n\(ok.stdout)\n\(ok.stderr)")
            #expect(FileManager.default.fileExists(atPath: home + "/.terraform/modules/net/main.tf"))
            let refused = try initAs("outsider")
            #expect(refused.status != 0 && (refused.stdout + refused.stderr).contains("403"), "\(refused.stdout)\n\(refused.stderr)")
            #expect(server.logShows("arn:aws:iam::123456789012:role/outsider"))
            #expect(server.stop() == 0)
        }
    }
}
