/// Which credentials an `AWSConfiguration` will sign with, told apart without a network call where
/// the source allows it. The credentials helper keys its token cache on this, so that a token is only
/// ever handed back to the credentials it was issued for.
public enum CredentialIdentity: Sendable {
    /// Keys known from local configuration alone: environment variables, a profile's static keys, or a
    /// role (`role_arn`) assumed from such keys. `description` names the source and never holds a
    /// secret (`env`, `profile:NAME`, `role:PROFILE:ROLE_ARN<-…`); `keys` are the keys themselves (for a
    /// role, the source keys the AssumeRole call is signed with, not the role's temporary keys).
    case keys(description: String, AWSCredentials)
    /// A source whose keys are only learnt by asking for them: web identity, SSO, `credential_process`,
    /// container or instance metadata credentials. Resolve `AWSConfiguration.credentials` to know them.
    case resolved

    /// Mirrors `AWSConfiguration.resolve`'s chain order and `ProfileCredentialProvider.resolve`, so the
    /// answer always describes the source the chain would actually use.
    static func of(profile: String, explicit: Bool, config: SharedConfig, environment env: [String: String]) -> CredentialIdentity {
        if !explicit, let keys = environmentKeys(env) { return .keys(description: "env", keys) }
        let p = config.profiles[profile] ?? [:]
        if p["web_identity_token_file"] != nil { return .resolved }
        // A profile without credentials (or none at all) falls through to sources resolved remotely.
        return profileIdentity(profile, config: config, environment: env, visited: []) ?? .resolved
    }

    private static func environmentKeys(_ env: [String: String]) -> AWSCredentials? {
        guard let id = env["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = env["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: env["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 })
    }

    private static func profileIdentity(
        _ name: String,
        config: SharedConfig,
        environment env: [String: String],
        visited: Set<String>
    ) -> CredentialIdentity? {
        guard let p = config.profiles[name] else { return nil }
        if let roleARN = p["role_arn"] {
            guard !visited.contains(name) else { return nil }
            let source: CredentialIdentity?
            if let sourceProfile = p["source_profile"] {
                if sourceProfile == name, let keys = ProfileCredentialProvider.staticKeys(p) {
                    source = .keys(description: "profile:\(name)", keys)
                } else {
                    source = profileIdentity(sourceProfile, config: config, environment: env, visited: visited.union([name]))
                }
            } else if p["credential_source"]?.lowercased() == "environment" {
                source = environmentKeys(env).map { .keys(description: "env", $0) }
            } else {
                source = nil
            }
            // The external id and session name shape the AssumeRole call, so they are part of who it yields.
            guard case .keys(let inner, let keys)? = source else { return nil }
            let detail = [roleARN, p["external_id"] ?? "", p["role_session_name"] ?? ""].joined(separator: "|")
            return .keys(description: "role:\(name):\(detail)<-\(inner)", keys)
        }
        if p["credential_process"] != nil || SSOCredentialProvider.isSSO(p) { return nil }
        return ProfileCredentialProvider.staticKeys(p).map { .keys(description: "profile:\(name)", $0) }
    }
}
