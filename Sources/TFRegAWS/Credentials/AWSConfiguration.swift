import TFRegHTTPClient
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// Region and credentials resolved like the AWS CLI, once per process.
public struct AWSConfiguration: Sendable {
    public let region: String
    public let profile: String
    public let credentials: any CredentialProvider
    /// Which credentials `credentials` yields, known without a network call where the source allows.
    public let credentialIdentity: CredentialIdentity

    /// Region: `AWS_REGION`, `AWS_DEFAULT_REGION`, the profile's `region`. Credentials, in order:
    /// environment variables, the profile (`AWS_PROFILE`, else `default`) from the shared files, web
    /// identity (`AWS_WEB_IDENTITY_TOKEN_FILE` + `AWS_ROLE_ARN`), container credentials (ECS, EKS Pod
    /// Identity), EC2 instance metadata (IMDSv2).
    /// Expiring credentials are cached and refreshed five minutes before they expire.
    public static func resolve(environment env: [String: String], http: any HTTPClient) throws(AWSError) -> AWSConfiguration {
        let home = env["HOME"] ?? "/"
        let config = SharedConfig.merged(
            config: FileSystem.readText(env["AWS_CONFIG_FILE"] ?? home + "/.aws/config"),
            credentials: FileSystem.readText(env["AWS_SHARED_CREDENTIALS_FILE"] ?? home + "/.aws/credentials")
        )
        let explicit = env["AWS_PROFILE"].flatMap { $0.isEmpty ? nil : $0 }
        let profile = explicit ?? "default"
        if let explicit, config.profiles[explicit] == nil {
            throw .credentialError(
                "the AWS profile '\(explicit)' (AWS_PROFILE) is not in \(env["AWS_CONFIG_FILE"] ?? "~/.aws/config") or \(env["AWS_SHARED_CREDENTIALS_FILE"] ?? "~/.aws/credentials")"
            )
        }
        guard
            let region = env["AWS_REGION"].flatMap({ $0.isEmpty ? nil : $0 }) ?? env["AWS_DEFAULT_REGION"].flatMap({ $0.isEmpty ? nil : $0 })
                ?? config.profiles[profile]?["region"]
        else {
            throw .credentialError("no AWS region: set AWS_REGION or a region in the profile '\(profile)'")
        }
        // An explicit profile wins over environment keys, as in the AWS CLI.
        var sources: [any CredentialProvider] = []
        if explicit == nil { sources.append(EnvironmentCredentialProvider(environment: env)) }
        let p = config.profiles[profile] ?? [:]
        if p["web_identity_token_file"] != nil {
            sources.append(
                WebIdentityCredentialProvider(
                    tokenFile: p["web_identity_token_file"],
                    roleARN: p["role_arn"],
                    sessionName: p["role_session_name"],
                    region: region,
                    environment: env,
                    http: http
                )
            )
        } else {
            sources.append(ProfileCredentialProvider(profile: profile, config: config, environment: env, http: http))
        }
        if explicit == nil {
            sources.append(
                WebIdentityCredentialProvider(
                    tokenFile: env["AWS_WEB_IDENTITY_TOKEN_FILE"],
                    roleARN: env["AWS_ROLE_ARN"],
                    sessionName: env["AWS_ROLE_SESSION_NAME"],
                    region: region,
                    environment: env,
                    http: http
                )
            )
            sources.append(ContainerCredentialProvider(environment: env, http: http))
            sources.append(InstanceMetadataCredentialProvider(environment: env, http: http))
        }
        return AWSConfiguration(
            region: region,
            profile: profile,
            credentials: CachingCredentialProvider(CredentialChain(sources)),
            credentialIdentity: .of(profile: profile, explicit: explicit != nil, config: config, environment: env)
        )
    }
}
