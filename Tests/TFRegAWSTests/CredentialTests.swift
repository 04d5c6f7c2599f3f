import Foundation
import TFRegHTTPClient
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegAWS

@Suite struct SharedConfigTests {
    @Test func parsesBothFilesAndMerges() {
        let config = """
            [default]
            region = eu-west-1
            # comment
            [profile dev]
            region=us-east-2 ; trailing comment
            role_arn = arn:aws:iam::123456789012:role/dev
            source_profile = default
            s3 =
              max_concurrent_requests = 10
            [sso-session corp]
            sso_region = us-east-1
            [not-a-profile]
            region = nowhere
            """
        let credentials = """
            [default]
            aws_access_key_id = AKIDDEFAULT
            AWS_Secret_Access_Key = secret
            [dev]
            region = ap-south-1
            """
        let merged = SharedConfig.merged(config: config, credentials: credentials)
        #expect(merged.profiles["default"]?["region"] == "eu-west-1")
        #expect(merged.profiles["default"]?["aws_secret_access_key"] == "secret")
        #expect(merged.profiles["dev"]?["role_arn"] == "arn:aws:iam::123456789012:role/dev")
        #expect(merged.profiles["dev"]?["region"] == "ap-south-1")  // the credentials file wins
        #expect(merged.profiles["dev"]?["s3.max_concurrent_requests"] == "10")
        #expect(merged.ssoSessions["corp"]?["sso_region"] == "us-east-1")
        #expect(merged.profiles["not-a-profile"] == nil)
    }

    /// Found by Fuzz/aws-config: a lone CR starts a new line (Python's universal newlines, as the AWS CLI
    /// reads the file), so it never ends up inside a key.
    @Test func aLoneCarriageReturnEndsALine() {
        let parsed = SharedConfig.merged(
            config: "",
            credentials: "[default]\r\naws_access_key_id = AKID\n\raws_secret_access_key=s\rregion=eu-west-1"
        )
        #expect(parsed.profiles["default"]?["aws_access_key_id"] == "AKID")
        #expect(parsed.profiles["default"]?["aws_secret_access_key"] == "s")
        #expect(parsed.profiles["default"]?["region"] == "eu-west-1")
        #expect(parsed.profiles["default"]?.keys.allSatisfy { !$0.contains("\r") } == true)
    }

    /// The AWS CLI reads these files with configparser, which trims lines, keys and values with Python's
    /// `str.strip()`: a vertical tab, form feed, U+001C–U+001F, NBSP or ideographic space around a key
    /// is not part of it (tfreg trimmed spaces and tabs only, so "\u{0B}aws_access_key_id" was unknown).
    @Test func keysAndValuesAreTrimmedAsPythonStripDoes() {
        let parsed = SharedConfig.parse(
            "[default]\n\u{0B}aws_access_key_id = AKID\u{0C}\n\u{1C}aws_secret_access_key\u{A0}=\u{3000}s\u{1F}\nregion\u{85}= eu-west-1\n",
            isConfigFile: true
        )
        #expect(parsed.profiles["default"]?["aws_access_key_id"] == "AKID")
        #expect(parsed.profiles["default"]?["aws_secret_access_key"] == "s")
        #expect(parsed.profiles["default"]?["region"] == "eu-west-1")
        // Indentation is relative to the last key's line, as in configparser: equally indented keys are
        // siblings, a deeper one nests.
        let indented = SharedConfig.parse("[default]\n region = a\n s3 =\n\u{0B}\u{0B}max_concurrent_requests = 2\n", isConfigFile: true)
        #expect(indented.profiles["default"] == ["region": "a", "s3": "", "s3.max_concurrent_requests": "2"])
        // Python's white space, exactly: U+200B (zero width space) is not, so it stays.
        #expect(SharedConfig.parse("[default]\n\u{200B}region = x\n", isConfigFile: true).profiles["default"]?["\u{200B}region"] == "x")
    }

    @Test func iso8601() {
        #expect(parseISO8601("2015-08-30T12:36:00Z") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T12:36:00.123Z") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30T14:36:00+02:00") == 1_440_938_160)
        #expect(parseISO8601("2015-08-30 12:36:00") == nil)
        #expect(parseISO8601("yesterday") == nil)
    }
}

final class CountingProvider: CredentialProvider, @unchecked Sendable {
    var calls = 0
    var lifetime: Int64
    let now: @Sendable () -> Int64
    init(lifetime: Int64, now: @escaping @Sendable () -> Int64) {
        self.lifetime = lifetime
        self.now = now
    }
    func credentials() async throws(AWSError) -> AWSCredentials {
        calls += 1
        return AWSCredentials(accessKeyID: "AKID\(calls)", secretAccessKey: "s", sessionToken: "t", expiration: now() + lifetime)
    }
}

@Suite struct ProviderTests {
    func files(_ config: String, _ credentials: String) throws -> [String: String] {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("aws-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        try config.write(to: dir.appendingPathComponent("config"), atomically: true, encoding: .utf8)
        try credentials.write(to: dir.appendingPathComponent("credentials"), atomically: true, encoding: .utf8)
        return [
            "AWS_EC2_METADATA_DISABLED": "true", "HOME": dir.path, "AWS_CONFIG_FILE": dir.path + "/config",
            "AWS_SHARED_CREDENTIALS_FILE": dir.path + "/credentials",
        ]
    }

    @Test func environmentFirstThenDefaultProfile() async throws {
        var env = try files("[default]\nregion = eu-west-1\n", "[default]\naws_access_key_id = FROMFILE\naws_secret_access_key = s\n")
        let fromFile = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
        #expect(fromFile.region == "eu-west-1")
        #expect(try await fromFile.credentials.credentials().accessKeyID == "FROMFILE")
        env["AWS_ACCESS_KEY_ID"] = "FROMENV"
        env["AWS_SECRET_ACCESS_KEY"] = "x"
        env["AWS_SESSION_TOKEN"] = "tok"
        env["AWS_REGION"] = "us-west-2"
        let fromEnv = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
        #expect(fromEnv.region == "us-west-2")
        let c = try await fromEnv.credentials.credentials()
        #expect(c.accessKeyID == "FROMENV" && c.sessionToken == "tok")
    }

    @Test func explicitProfileAndErrors() async throws {
        var env = try files("[profile ci]\nregion = eu-central-1\n", "[ci]\naws_access_key_id = CI\naws_secret_access_key = s\n")
        env["AWS_PROFILE"] = "ci"
        env["AWS_ACCESS_KEY_ID"] = "IGNORED"
        env["AWS_SECRET_ACCESS_KEY"] = "IGNORED"
        let ci = try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
        #expect(ci.region == "eu-central-1" && ci.profile == "ci")
        #expect(try await ci.credentials.credentials().accessKeyID == "CI")
        env["AWS_PROFILE"] = "missing"
        #expect(throws: AWSError.self) { try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()) }
        let noCreds = try files("[default]\nregion = us-east-1\n", "")
        let e = await #expect(throws: AWSError.self) {
            try await AWSConfiguration.resolve(environment: noCreds, http: CurlHTTPClient()).credentials.credentials()
        }
        #expect(e?.message.contains("no AWS credentials found") == true)
    }

    @Test func credentialProcess() async throws {
        let good =
            #"printf '{"Version": 1, "AccessKeyId": "PROC", "SecretAccessKey": "s", "SessionToken": "t", "Expiration": "2030-01-01T00:00:00Z"}'"#
        var env = try files("[default]\nregion = us-east-1\ncredential_process = \(good)\n", "")
        let c = try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
        #expect(c.accessKeyID == "PROC" && c.sessionToken == "t" && c.expiration == 1_893_456_000)
        env = try files("[default]\nregion = us-east-1\ncredential_process = sh -c 'exit 3'\n", "")
        let failed = await #expect(throws: AWSError.self) {
            try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
        }
        #expect(failed?.message.contains("status 3") == true)
        env = try files("[default]\nregion = us-east-1\ncredential_process = echo not-json\n", "")
        await #expect(throws: AWSError.self) {
            try await AWSConfiguration.resolve(environment: env, http: CurlHTTPClient()).credentials.credentials()
        }
    }

    @Test func sourceProfileCycleIsAnError() async throws {
        let env = try files(
            "[profile a]\nrole_arn = arn:aws:iam::123456789012:role/a\nsource_profile = b\nregion = us-east-1\n[profile b]\nrole_arn = arn:aws:iam::123456789012:role/b\nsource_profile = a\n",
            ""
        )
        var e2 = env
        e2["AWS_PROFILE"] = "a"
        let e = await #expect(throws: AWSError.self) {
            try await AWSConfiguration.resolve(environment: e2, http: CurlHTTPClient()).credentials.credentials()
        }
        #expect(e?.message.contains("cycle") == true)
    }

    @Test func cachingRefreshesBeforeExpiry() async throws {
        let clock = TestClock(1_000_000)
        let source = CountingProvider(lifetime: 3600, now: { clock.now() })
        let cache = CachingCredentialProvider(source, refreshBefore: 300, clock: clock)
        #expect(try await cache.credentials().accessKeyID == "AKID1")
        clock.advance(3000)
        #expect(try await cache.credentials().accessKeyID == "AKID1")
        clock.advance(400)  // within 5 minutes of expiry
        #expect(try await cache.credentials().accessKeyID == "AKID2")
        #expect(source.calls == 2)
    }
}
