import Foundation
import TFRegAWS
import TFRegCrypto
import TFRegHTTPClient
import Testing

/// Container credentials, EC2 IMDSv2 and IAM Identity Center (SSO) against one small HTTP server on
/// loopback that behaves like the real endpoints: it demands the container authorization token,
/// IMDSv2's session token (an IMDSv2-only instance answers 401 without it), and the SSO bearer token.
@Suite struct MetadataCredentialTests {
    static let server = #"""
        import http.server, json, sys, urllib.parse
        class H(http.server.BaseHTTPRequestHandler):
            def reply(self, status, body, ctype="application/json"):
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            def do_PUT(self):
                if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds") == "21600":
                    return self.reply(200, "IMDS-SESSION-TOKEN", "text/plain")
                self.reply(400, "bad token request", "text/plain")
            def do_GET(self):
                u = urllib.parse.urlsplit(self.path)
                if u.path == "/creds":
                    if self.headers.get("Authorization") != "container-secret-token":
                        return self.reply(401, '{"message":"unauthorized"}')
                    return self.reply(200, json.dumps({"AccessKeyId": "ASIACONTAINER", "SecretAccessKey": "s", "Token": "ctok", "Expiration": "2030-01-01T00:00:00Z"}))
                if u.path.startswith("/latest/meta-data/iam/security-credentials/"):
                    if self.headers.get("X-aws-ec2-metadata-token") != "IMDS-SESSION-TOKEN":
                        return self.reply(401, "", "text/plain")
                    role = u.path[len("/latest/meta-data/iam/security-credentials/"):]
                    if role == "":
                        return self.reply(200, "ec2-role\n", "text/plain")
                    if role == "ec2-role":
                        return self.reply(200, json.dumps({"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAEC2", "SecretAccessKey": "s", "Token": "etok", "Expiration": "2030-01-01T00:00:00Z"}))
                    return self.reply(404, "", "text/plain")
                if u.path == "/federation/credentials":
                    q = urllib.parse.parse_qs(u.query)
                    if self.headers.get("x-amz-sso_bearer_token") != "sso-access-token":
                        return self.reply(401, '{"message":"Session token not found or invalid"}')
                    if q != {"account_id": ["111122223333"], "role_name": ["Admin Role"]}:
                        return self.reply(400, '{"message":"bad query"}')
                    return self.reply(200, json.dumps({"roleCredentials": {"accessKeyId": "ASIASSO", "secretAccessKey": "s", "sessionToken": "stok", "expiration": 1893456000000}}))
                self.reply(404, "{}")
            def log_message(self, *a): pass
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    /// Runs `body` with the server's base URL; the server is stopped afterwards.
    func withServer(_ body: (String) async throws -> Void) async throws {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("python3")!)
        p.arguments = ["-c", Self.server]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        // Children inherit the test runner's blocked SIGTERM: SIGKILL them (as MotoServer does).
        defer {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let port = try #require(Int(line))
        try await body("http://127.0.0.1:\(port)")
    }

    func home() throws -> String {
        let dir = makeTemporaryDirectory("aws-meta")
        try FileManager.default.createDirectory(atPath: dir + "/.aws/sso/cache", withIntermediateDirectories: true)
        return dir
    }

    @Test func containerCredentialsWithAuthorizationTokenFile() async throws {
        try await withServer { base in
            let dir = try home()
            try "container-secret-token\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
            var env = [
                "HOME": dir, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI": base + "/creds", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": dir + "/token",
            ]
            let c = try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
            #expect(c.accessKeyID == "ASIACONTAINER" && c.sessionToken == "ctok" && c.expiration == 1_893_456_000)

            // A wrong token is an error, not "no credentials".
            try "wrong".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
            let denied = await #expect(throws: AWSError.self) {
                try await ContainerCredentialProvider(environment: env, http: CurlHTTPClient()).credentials()
            }
            #expect(denied?.message.contains("HTTP 401") == true)

            // Plain HTTP to anything but loopback or the ECS/EKS addresses is refused before any request.
            env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] = "http://203.0.113.10/creds"
            let refused = await #expect(throws: AWSError.self) {
                try await ContainerCredentialProvider(environment: env, http: CurlHTTPClient()).credentials()
            }
            #expect(refused?.message.contains("loopback") == true)
        }
    }

    @Test func instanceMetadataV2IsTheChainsLastSource() async throws {
        try await withServer { base in
            let dir = try home()
            let env = ["HOME": dir, "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_SERVICE_ENDPOINT": base + "/"]
            let c = try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
            #expect(c.accessKeyID == "ASIAEC2" && c.sessionToken == "etok" && c.expiration == 1_893_456_000)

            var off = env
            off["AWS_EC2_METADATA_DISABLED"] = "true"
            let none = await #expect(throws: AWSError.self) {
                try await AWSConfiguration.resolve(environment: off, http: CurlHTTPClient()).credentials.credentials()
            }
            #expect(none?.message.contains("no AWS credentials found") == true)
        }
    }

    @Test func ssoSessionProfileUsesTheCachedTokenAndExplainsExpiry() async throws {
        try await withServer { base in
            let dir = try home()
            try """
            [profile dev]
            sso_session = corp
            sso_account_id = 111122223333
            sso_role_name = Admin Role
            region = eu-west-1
            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
            sso_region = eu-west-1
            [profile legacy]
            sso_start_url = https://legacy.awsapps.com/start
            sso_region = eu-west-1
            region = eu-west-1
            sso_account_id = 111122223333
            sso_role_name = Admin Role
            """.write(toFile: dir + "/.aws/config", atomically: true, encoding: .utf8)
            func cache(_ key: String, expires: String) throws {
                let name = Hex.encode(SHA1.hash(Array(key.utf8)))
                try
                    #"{"startUrl": "https://corp.awsapps.com/start", "region": "eu-west-1", "accessToken": "sso-access-token", "expiresAt": "\#(expires)"}"#
                    .write(toFile: dir + "/.aws/sso/cache/\(name).json", atomically: true, encoding: .utf8)
            }
            // The AWS CLI names the cache file by the SHA-1 of the session name (value from Python's hashlib).
            #expect(Hex.encode(SHA1.hash(Array("corp".utf8))) == "ee0bfd2552fbd840c02cc48b6e823320543c450f")
            try cache("corp", expires: "2099-01-01T00:00:00Z")
            var env = ["HOME": dir, "AWS_PROFILE": "dev", "AWS_EC2_METADATA_DISABLED": "true", "AWS_ENDPOINT_URL_SSO": base]
            let config = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
            #expect(config.region == "eu-west-1")
            let c = try await config.credentials.credentials()
            #expect(c.accessKeyID == "ASIASSO" && c.sessionToken == "stok" && c.expiration == 1_893_456_000)

            try cache("https://legacy.awsapps.com/start", expires: "2099-01-01T00:00:00Z")
            env["AWS_PROFILE"] = "legacy"
            #expect(try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials().accessKeyID == "ASIASSO")

            try cache("corp", expires: "2020-01-01T00:00:00Z")
            env["AWS_PROFILE"] = "dev"
            let expired = await #expect(throws: AWSError.self) {
                try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
            }
            #expect(expired?.message.contains("aws sso login --profile dev") == true)
        }
    }
}
