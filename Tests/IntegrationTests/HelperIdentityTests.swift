import Foundation
import TFRegHTTPClient
import Testing

extension MotoBackedTests {
    /// Trust II, item 3: the credentials helper's token cache is keyed by host and AWS identity. Two roles
    /// assumed through moto STS, as named profiles in ONE HOME (as on a CI runner with a persistent HOME):
    /// the role with a grant gets its token and installs; the role without one must get its OWN token
    /// (and the registry's 403), never the first role's cached token.
    @Suite(
        .serialized,
        .enabled(if: MotoServer.available && TerraformEndToEndTests.terraform != nil, "needs moto_server and terraform (make test installs them)")
    )
    struct HelperIdentityTests {
        struct Roles {
            let home: String
            /// Secret access keys and session tokens written to the shared files (none may reach the cache).
            let secrets: [String]
        }

        /// Profiles `dev`/`intruder` hold the session keys of the roles deployer/outsider; `dev-role` and
        /// `intruder-role` assume those roles themselves from the IAM user's keys in `base`.
        func makeRoles(_ moto: MotoServer) throws -> Roles {
            let home = makeTemporaryDirectory("tf-shared-home")
            let setup = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, json, os
                    kw = dict(endpoint_url="\(moto.endpoint)", region_name="us-east-1", aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    iam, sts = boto3.client("iam", **kw), boto3.client("sts", **kw)
                    trust = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:user/tfreg-test"}, "Action": "sts:AssumeRole"}]})
                    creds = ["[base]", "aws_access_key_id = \(moto.accessKeyID)", "aws_secret_access_key = \(moto.secretAccessKey)", ""]
                    config = ["[default]", "region = us-east-1", ""]
                    secrets = []
                    for profile, name in (("dev", "deployer"), ("intruder", "outsider")):
                        role = iam.create_role(RoleName=name, AssumeRolePolicyDocument=trust)["Role"]
                        iam.put_role_policy(RoleName=name, PolicyName="sts", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}))
                        c = sts.assume_role(RoleArn=role["Arn"], RoleSessionName="ci-run")["Credentials"]
                        creds += ["[%s]" % profile, "aws_access_key_id = " + c["AccessKeyId"], "aws_secret_access_key = " + c["SecretAccessKey"], "aws_session_token = " + c["SessionToken"], ""]
                        config += ["[profile %s]" % profile, "region = us-east-1", "", "[profile %s-role]" % profile, "role_arn = " + role["Arn"], "source_profile = base", "region = us-east-1", ""]
                        secrets += [c["SecretAccessKey"], c["SessionToken"]]
                    os.makedirs("\(home)/.aws", exist_ok=True)
                    open("\(home)/.aws/credentials", "w").write("\\n".join(creds))
                    open("\(home)/.aws/config", "w").write("\\n".join(config))
                    print("\\n".join(secrets))
                    """,
                ],
                env: ["HOME": home]
            )
            guard setup.status == 0 else { throw TestFailure(setup.stderr) }
            let secrets = setup.stdout.split(separator: "\n").map(String.init) + [moto.secretAccessKey]
            return Roles(home: home, secrets: secrets)
        }

        struct CacheEntry: Decodable {
            let host: String
            let principal: String?
            let token: String
            let expires_at: Int64
        }
        struct CacheFile: Decodable {
            let version: Int
            let entries: [String: CacheEntry]
        }

        func cache(_ home: String) throws -> (text: String, file: CacheFile) {
            let text = try String(contentsOfFile: home + "/.cache/tfreg/tokens.json", encoding: .utf8)
            return (text, try JSONDecoder().decode(CacheFile.self, from: Data(text.utf8)))
        }

        func token(fromHelperOutput out: String) -> String? {
            struct Answer: Decodable { let token: String? }
            return (try? JSONDecoder().decode(Answer.self, from: Data(out.utf8)))?.token
        }

        /// What the registry answers a versions request made with `token`: 200 with a grant, 403 without.
        func versionsStatus(_ server: ServerProcess, _ token: String) async throws -> Int {
            let request = HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/versions", headers: [("Authorization", "Bearer \(token)")])
            return try await server.client.send(request).status
        }

        @Test func eachIdentityGetsItsOwnTokenFromOneSharedHome() async throws {
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
            let published = try server.tfreg(
                [
                    "publish", server.dir + "/m", "--registry", host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0",
                    "--token-file", "-",
                ],
                stdin: publisher + "\n"
            )
            #expect(published.status == 0, "\(published.stderr)")
            #expect(
                try server.tfreg(["grant", "create", "--role-arn", "arn:aws:iam::123456789012:role/deployer", "--namespace", "acme", "--download"])
                    .status == 0
            )

            let roles = try makeRoles(moto)
            let home = roles.home
            #expect(try runCommand(TFRegBinary.path, ["install-helper"], env: ["HOME": home]).status == 0)
            let helper = home + "/.terraform.d/plugins/terraform-credentials-tfreg"
            func env(_ profile: String) -> [String: String] {
                [
                    "HOME": home, "AWS_PROFILE": profile, "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
                    "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                ]
            }
            func get(_ profile: String) throws -> String {
                let r = try runCommand(helper, ["get", host], env: env(profile))
                #expect(r.status == 0, "helper get as \(profile): \(r.stderr)")
                guard let t = token(fromHelperOutput: r.stdout) else { throw TestFailure("helper get as \(profile): \(r.stdout) \(r.stderr)") }
                return t
            }
            func status(_ token: String) async throws -> Int { try await versionsStatus(server, token) }

            // The role with a grant: a token for it, cached.
            let devToken = try get("dev")
            #expect(try await status(devToken) == 200)
            var entries = try cache(home).file.entries.values
            #expect(entries.count == 1 && entries.first?.principal == "arn:aws:iam::123456789012:role/deployer" && entries.first?.token == devToken)
            #expect(try get("dev") == devToken)  // reused for the same credentials

            // The role without one, same HOME: its own token, which the registry refuses.
            let intruderToken = try get("intruder")
            #expect(intruderToken != devToken)
            #expect(try await status(intruderToken) == 403)
            entries = try cache(home).file.entries.values
            #expect(entries.count == 2)
            #expect(Set(entries.compactMap(\.principal)) == ["arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/outsider"])
            #expect(entries.first { $0.token == intruderToken }?.principal == "arn:aws:iam::123456789012:role/outsider")
            #expect(try get("dev") == devToken)

            // Real terraform init, cache left in place between the two.
            try "module \"net\" {\n  source  = \"\(host)/acme/net/aws\"\n  version = \"1.0.0\"\n}\n".write(
                toFile: home + "/main.tf",
                atomically: true,
                encoding: .utf8
            )
            func initAs(_ profile: String) throws -> CommandResult {
                try? FileManager.default.removeItem(atPath: home + "/.terraform")
                return try runCommand(TerraformEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env(profile), cwd: home)
            }
            let ok = try initAs("dev")
            #expect(ok.status == 0, "terraform init as dev failed:\n\(ok.stdout)\n\(ok.stderr)")
            #expect(FileManager.default.fileExists(atPath: home + "/.terraform/modules/net/main.tf"))
            let refused = try initAs("intruder")
            #expect(
                refused.status != 0 && (refused.stdout + refused.stderr).contains("403"),
                "terraform init as intruder:\n\(refused.stdout)\n\(refused.stderr)"
            )
            #expect(!FileManager.default.fileExists(atPath: home + "/.terraform/modules/net/main.tf"))

            // Profiles that assume the roles themselves (role_arn + source_profile, one IAM user's keys).
            let devRole = try get("dev-role")
            #expect(devRole != devToken && devRole != intruderToken)
            #expect(try await status(devRole) == 200)
            #expect(try get("dev-role") == devRole)  // the cache key needs no AssumeRole to match
            let intruderRole = try get("intruder-role")
            #expect(intruderRole != devRole && intruderRole != devToken)
            #expect(try await status(intruderRole) == 403)
            let (text, file) = try cache(home)
            #expect(file.entries.count == 4)
            #expect(file.entries.values.first { $0.token == intruderRole }?.principal == "arn:aws:iam::123456789012:role/outsider")
            // No secret in the file: no secret access key, no session token, no access key id.
            for secret in roles.secrets { #expect(!text.contains(secret), "the cache file holds a secret") }
            #expect(!text.contains(moto.accessKeyID) && !text.contains("ASIA"))
            #expect((try FileManager.default.attributesOfItem(atPath: home + "/.cache/tfreg/tokens.json")[.posixPermissions] as? Int) == 0o600)
            #expect((try FileManager.default.attributesOfItem(atPath: home + "/.cache/tfreg")[.posixPermissions] as? Int) == 0o700)

            // No usable credentials: no cached token, whoever's it was.
            let none = try runCommand(
                helper,
                ["get", host],
                env: ["HOME": home, "AWS_PROFILE": "missing", "AWS_EC2_METADATA_DISABLED": "true", "SSL_CERT_FILE": server.cert]
            )
            for t in [devToken, intruderToken, devRole, intruderRole] { #expect(!none.stdout.contains(t)) }

            // Keys known only by asking (credential_process): resolved, keyed on what came back, reused.
            let script = home + "/credentials.sh"
            try "#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"\(moto.accessKeyID)\", \"SecretAccessKey\": \"\(moto.secretAccessKey)\"}'\n"
                .write(toFile: script, atomically: true, encoding: .utf8)
            chmod(script, 0o755)
            let config = try String(contentsOfFile: home + "/.aws/config", encoding: .utf8)
            try (config + "\n[profile proc]\nregion = us-east-1\ncredential_process = \(script)\n").write(
                toFile: home + "/.aws/config",
                atomically: true,
                encoding: .utf8
            )
            let proc = try get("proc")
            #expect(![devToken, intruderToken, devRole, intruderRole].contains(proc))
            #expect(try get("proc") == proc)
            #expect(try cache(home).file.entries.values.first { $0.token == proc }?.principal == "arn:aws:iam::123456789012:user/tfreg-test")
            #expect(try await status(proc) == 403)
            #expect(!(try cache(home).text.contains(moto.secretAccessKey)))

            // A world-writable cache file is not trusted: dev gets a fresh token, and the file is rewritten 0600.
            chmod(home + "/.cache/tfreg/tokens.json", 0o666)
            let fresh = try get("dev")
            #expect(fresh != devToken)
            #expect(try await status(fresh) == 200)
            #expect((try FileManager.default.attributesOfItem(atPath: home + "/.cache/tfreg/tokens.json")[.posixPermissions] as? Int) == 0o600)
            #expect(try cache(home).file.entries.count == 1)

            // tfreg token, same HOME: each profile's own principal, as the registry names it.
            struct Issued: Decodable {
                let token: String
                let principal: String?
            }
            for (profile, principal, expected) in [
                ("dev", "deployer", 200), ("intruder", "outsider", 403), ("dev-role", "deployer", 200), ("intruder-role", "outsider", 403),
            ] {
                let r = try runCommand(TFRegBinary.path, ["token", "-r", host, "json"], env: env(profile))
                #expect(r.status == 0, "tfreg token as \(profile): \(r.stderr)")
                let issued = try JSONDecoder().decode(Issued.self, from: Data(r.stdout.utf8))
                #expect(issued.principal == "arn:aws:iam::123456789012:role/\(principal)")
                #expect(try await status(issued.token) == expected)
            }

            #expect(server.stop() == 0)
            for t in [devToken, intruderToken, devRole, intruderRole, proc, fresh] { #expect(!server.logText.contains(t)) }
        }
    }
}
