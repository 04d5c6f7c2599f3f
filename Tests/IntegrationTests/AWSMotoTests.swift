import Foundation
import TFRegAWS
import TFRegHTTPClient
import Testing

extension MotoBackedTests {
    /// tfreg's own SigV4 and libcurl client against moto with signature checking on.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct AWSMotoTests {
        @Test func signedCallsAreAcceptedAndWrongSecretsRejected() async throws {
            let moto = try MotoServer()
            let identity = try await STSClient(client: moto.client()).getCallerIdentity()
            #expect(identity.arn == "arn:aws:iam::123456789012:user/tfreg-test")
            #expect(identity.account == "123456789012")

            let error = await #expect(throws: AWSError.self) { try await STSClient(client: moto.client(secret: "wrong")).getCallerIdentity() }
            #expect(error?.kind == .authentication)
            #expect(error?.code == "SignatureDoesNotMatch")
            moto.stop()
        }

        @Test func aBackendThatIsDownIsANetworkError() async throws {
            let moto = try MotoServer()
            let client = moto.client()
            moto.stop()
            let error = await #expect(throws: AWSError.self) { try await STSClient(client: client).getCallerIdentity() }
            #expect(error?.kind == .network)
            #expect(error?.isRetryable == true)
        }
    }

    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct AssumeRoleMotoTests {
        /// A profile with role_arn + source_profile assumes the role through moto's STS; the temporary
        /// credentials (with a session token) then sign a call that moto verifies.
        @Test func profileAssumesRole() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let dir = makeTemporaryDirectory("aws-assume")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try """
            [profile deploy]
            role_arn = arn:aws:iam::123456789012:role/deployer
            source_profile = base
            role_session_name = ci-run
            region = us-east-1
            """.write(toFile: dir + "/config", atomically: true, encoding: .utf8)
            try "[base]\naws_access_key_id = \(moto.accessKeyID)\naws_secret_access_key = \(moto.secretAccessKey)\n"
                .write(toFile: dir + "/credentials", atomically: true, encoding: .utf8)
            let env = [
                "HOME": dir, "AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
                "AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL": moto.endpoint,
            ]
            let config = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
            let creds = try await config.credentials.credentials()
            #expect(creds.sessionToken != nil && creds.expiration != nil)
            let client = AWSClient(http: CurlHTTPClient(), credentials: config.credentials, region: config.region, environment: env)
            let identity = try await STSClient(client: client).getCallerIdentity()
            #expect(identity.arn == "arn:aws:sts::123456789012:assumed-role/deployer/ci-run")
        }
    }

    /// moto's server cannot route an unsigned request (it finds the service from the Authorization
    /// header; boto3 fails against it the same way), so AssumeRoleWithWebIdentity is checked against a
    /// small STS endpoint on loopback that verifies the form and answers with AWS's documented XML.
    @Suite struct WebIdentityTests {
        static let server = #"""
            import http.server, sys, urllib.parse
            class H(http.server.BaseHTTPRequestHandler):
                def do_POST(self):
                    body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                    form = urllib.parse.parse_qs(body, strict_parsing=True)
                    ok = (form == {"Action": ["AssumeRoleWithWebIdentity"], "Version": ["2011-06-15"], "RoleArn": ["arn:aws:iam::123456789012:role/ci"],
                                   "RoleSessionName": ["gha"], "WebIdentityToken": ["eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln"]}
                          and "Authorization" not in self.headers)
                    reply = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult>"
                             "<Credentials><SessionToken>FwoGZXIvYXdzEXAMPLE</SessionToken><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
                             "<Expiration>2030-01-01T00:00:00Z</Expiration><AccessKeyId>ASgeIAIOSFODNN7EXAMPLE</AccessKeyId></Credentials>"
                             "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>") if ok else "<ErrorResponse><Error><Code>InvalidParameterValue</Code><Message>bad request</Message></Error></ErrorResponse>"
                    self.send_response(200 if ok else 400)
                    self.send_header("Content-Type", "text/xml")
                    self.end_headers()
                    self.wfile.write(reply.encode())
                def log_message(self, *a): pass
            s = http.server.HTTPServer(("127.0.0.1", 0), H)
            print(s.server_address[1], flush=True)
            s.handle_request()
            """#

        @Test func webIdentityFromTheEnvironment() async throws {
            let dir = makeTemporaryDirectory("aws-webid")
            defer { try? FileManager.default.removeItem(atPath: dir) }
            try "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjaSJ9.c2ln\n".write(toFile: dir + "/token", atomically: true, encoding: .utf8)
            let p = Process()
            p.executableURL = URL(fileURLWithPath: which("python3")!)
            p.arguments = ["-c", Self.server]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            defer { if p.isRunning { p.terminate() } }
            let line = String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            let port = try #require(Int(line))
            let env = [
                "HOME": dir, "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:\(port)",
                "AWS_WEB_IDENTITY_TOKEN_FILE": dir + "/token", "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ci", "AWS_ROLE_SESSION_NAME": "gha",
            ]
            let creds = try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
            #expect(creds.accessKeyID == "ASgeIAIOSFODNN7EXAMPLE" && creds.sessionToken == "FwoGZXIvYXdzEXAMPLE" && creds.expiration == 1_893_456_000)
        }
    }
}
