import Foundation
import TFRegHTTPClient
import Testing

@testable import TFRegAWS

/// `AWSConfiguration.credentialIdentity` names the source the chain would use, without a network call
/// where the keys are local: the credentials helper keys its token cache on it.
@Suite struct CredentialIdentityTests {
    func configuration(_ config: String, _ credentials: String, _ extra: [String: String] = [:]) throws -> AWSConfiguration {
        let env = try ProviderTests().files(config, credentials).merging(["AWS_REGION": "us-east-1"].merging(extra) { _, b in b }) { _, b in b }
        return try AWSConfiguration.resolve(environment: env, http: CurlHTTPClient())
    }

    func described(_ c: AWSConfiguration) -> (String, String)? {
        guard case .keys(let d, let k) = c.credentialIdentity else { return nil }
        return (d, k.accessKeyID)
    }

    static let files = (
        config: """
        [default]
        region = us-east-1
        [profile dev]
        role_arn = arn:aws:iam::123456789012:role/dev
        source_profile = base
        [profile intruder]
        role_arn = arn:aws:iam::123456789012:role/intruder
        source_profile = base
        [profile self]
        role_arn = arn:aws:iam::123456789012:role/self
        source_profile = self
        aws_access_key_id = SELF
        aws_secret_access_key = s
        [profile envrole]
        role_arn = arn:aws:iam::123456789012:role/env
        credential_source = Environment
        [profile proc]
        credential_process = true
        [profile sso]
        sso_session = corp
        sso_account_id = 123456789012
        sso_role_name = R
        [profile webid]
        web_identity_token_file = /nonexistent
        role_arn = arn:aws:iam::123456789012:role/w
        [profile loop]
        role_arn = arn:aws:iam::123456789012:role/loop
        source_profile = loop
        """,
        credentials: "[base]\naws_access_key_id = BASE\naws_secret_access_key = s\n[ci]\naws_access_key_id = CI\naws_secret_access_key = s\n"
    )

    @Test func environmentKeysComeFirstUnlessAProfileIsNamed() throws {
        let keys = ["AWS_ACCESS_KEY_ID": "ENVKEY", "AWS_SECRET_ACCESS_KEY": "x"]
        #expect(described(try configuration(Self.files.config, Self.files.credentials, keys))! == ("env", "ENVKEY"))
        let named = try configuration(Self.files.config, Self.files.credentials, keys.merging(["AWS_PROFILE": "ci"]) { a, _ in a })
        #expect(described(named)! == ("profile:ci", "CI"))
    }

    @Test func rolesAreNamedByProfileRoleAndSourceKeys() throws {
        let dev = try #require(described(try configuration(Self.files.config, Self.files.credentials, ["AWS_PROFILE": "dev"])))
        let intruder = try #require(described(try configuration(Self.files.config, Self.files.credentials, ["AWS_PROFILE": "intruder"])))
        // The same source keys, but another profile and role: never the same identity.
        #expect(dev.1 == "BASE" && intruder.1 == "BASE" && dev.0 != intruder.0)
        #expect(dev.0 == "role:dev:arn:aws:iam::123456789012:role/dev||<-profile:base")
        #expect(described(try configuration(Self.files.config, Self.files.credentials, ["AWS_PROFILE": "self"]))!.1 == "SELF")
        let env = try configuration(
            Self.files.config,
            Self.files.credentials,
            ["AWS_PROFILE": "envrole", "AWS_ACCESS_KEY_ID": "E", "AWS_SECRET_ACCESS_KEY": "x"]
        )
        #expect(described(env)! == ("role:envrole:arn:aws:iam::123456789012:role/env||<-env", "E"))
    }

    @Test func sourcesKnownOnlyByAskingAreResolved() throws {
        for profile in ["proc", "sso", "webid", "loop"] {
            let c = try configuration(Self.files.config, Self.files.credentials, ["AWS_PROFILE": profile])
            guard case .resolved = c.credentialIdentity else {
                Issue.record("\(profile) should be resolved")
                continue
            }
        }
        // No keys anywhere locally: container or instance metadata would be asked.
        let bare = try configuration("[default]\nregion = us-east-1\n", "")
        guard case .resolved = bare.credentialIdentity else {
            Issue.record("a profile without keys should be resolved")
            return
        }
    }
}
