import Foundation
import TFRegAWS
import TFRegHTTPClient
import Testing

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
        let env = ["HOME": dir, "AWS_CONFIG_FILE": dir + "/config", "AWS_SHARED_CREDENTIALS_FILE": dir + "/credentials",
                   "AWS_PROFILE": "deploy", "AWS_ENDPOINT_URL": moto.endpoint]
        let config = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
        let creds = try await config.credentials.credentials()
        #expect(creds.sessionToken != nil && creds.expiration != nil)
        let client = AWSClient(http: CurlHTTPClient(), credentials: config.credentials, region: config.region, environment: env)
        let identity = try await STSClient(client: client).getCallerIdentity()
        #expect(identity.arn == "arn:aws:sts::123456789012:assumed-role/deployer/ci-run")
    }
}
