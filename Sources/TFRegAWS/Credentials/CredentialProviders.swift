import Dispatch
import Glibc
import TFRegHTTPClient
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
import Synchronization
#endif

extension AWSError {
    /// "This source has no credentials": the chain moves on to the next source.
    static func notConfigured(_ what: String) -> AWSError { AWSError(kind: .other, code: "CredentialsNotConfigured", message: what, status: 0) }
    var isNotConfigured: Bool { code == "CredentialsNotConfigured" }
    static func credentialError(_ message: String) -> AWSError {
        AWSError(kind: .authentication, code: "CredentialsError", message: message, status: 0)
    }
}

/// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
public struct EnvironmentCredentialProvider: CredentialProvider {
    let environment: [String: String]
    public init(environment: [String: String]) { self.environment = environment }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        guard let id = environment["AWS_ACCESS_KEY_ID"], !id.isEmpty, let secret = environment["AWS_SECRET_ACCESS_KEY"], !secret.isEmpty else {
            throw .notConfigured("no AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in the environment")
        }
        let token = environment["AWS_SESSION_TOKEN"].flatMap { $0.isEmpty ? nil : $0 }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: token)
    }
}

/// A profile of the shared files: static keys, `credential_process`, or `role_arn` with
/// `source_profile` / `credential_source` (STS AssumeRole), or IAM Identity Center (SSO). Chains of source profiles
/// are followed; a cycle is an error.
public struct ProfileCredentialProvider: CredentialProvider {
    public let profile: String
    let config: SharedConfig
    let environment: [String: String]
    let http: any HTTPClient
    let clock: any WallClock

    public init(
        profile: String,
        config: SharedConfig,
        environment: [String: String],
        http: any HTTPClient,
        clock: any WallClock = SystemClock()
    ) {
        self.profile = profile
        self.config = config
        self.environment = environment
        self.http = http
        self.clock = clock
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        try await resolve(profile, visited: [])
    }

    func resolve(_ name: String, visited: Set<String>) async throws(AWSError) -> AWSCredentials {
        guard let p = config.profiles[name] else {
            throw visited.isEmpty
                ? .notConfigured("no profile '\(name)' in the shared AWS files") : .credentialError("source profile '\(name)' does not exist")
        }
        if let roleARN = p["role_arn"] {
            guard !visited.contains(name) else { throw .credentialError("profile '\(name)' is part of a source_profile cycle") }
            let source: AWSCredentials
            if let sourceProfile = p["source_profile"] {
                // A profile that names itself as source uses its own static keys.
                if sourceProfile == name, let keys = Self.staticKeys(p) {
                    source = keys
                } else {
                    source = try await resolve(sourceProfile, visited: visited.union([name]))
                }
            } else if let cs = p["credential_source"]?.lowercased() {
                switch cs {
                case "environment": source = try await EnvironmentCredentialProvider(environment: environment).credentials()
                case "ecscontainer": source = try await ContainerCredentialProvider(environment: environment, http: http).credentials()
                case "ec2instancemetadata": source = try await InstanceMetadataCredentialProvider(environment: environment, http: http).credentials()
                default:
                    throw .credentialError(
                        "profile '\(name)' has an unknown credential_source '\(cs)' (Environment, EcsContainer, Ec2InstanceMetadata)"
                    )
                }
            } else {
                throw .credentialError("profile '\(name)' has role_arn but no source_profile or supported credential_source")
            }
            let region =
                p["region"] ?? config.profiles["default"]?["region"] ?? environment["AWS_REGION"] ?? environment["AWS_DEFAULT_REGION"] ?? "us-east-1"
            let client = AWSClient(http: http, credentials: StaticCredentialProvider(source), region: region, environment: environment)
            return try await STSClient(client: client).assumeRole(
                roleARN: roleARN,
                sessionName: p["role_session_name"] ?? "tfreg-\(clock.now())",
                externalID: p["external_id"],
                durationSeconds: p["duration_seconds"].flatMap(Int.init)
            )
        }
        if let command = p["credential_process"] {
            return try await CredentialProcess.run(command)
        }
        if SSOCredentialProvider.isSSO(p) {
            return try await SSOCredentialProvider(profile: name, config: config, environment: environment, http: http, clock: clock).credentials()
        }
        if let keys = Self.staticKeys(p) { return keys }
        throw .notConfigured("profile '\(name)' has no credentials")
    }

    static func staticKeys(_ p: [String: String]) -> AWSCredentials? {
        guard let id = p["aws_access_key_id"], let secret = p["aws_secret_access_key"], !id.isEmpty, !secret.isEmpty else { return nil }
        return AWSCredentials(accessKeyID: id, secretAccessKey: secret, sessionToken: p["aws_session_token"])
    }
}

/// Web identity (EKS service accounts, GitHub Actions OIDC): `AWS_WEB_IDENTITY_TOKEN_FILE` with
/// `AWS_ROLE_ARN` (and `AWS_ROLE_SESSION_NAME`), or a profile's `web_identity_token_file` + `role_arn`.
/// The token file is read on every refresh, since the platform rotates it.
public struct WebIdentityCredentialProvider: CredentialProvider {
    let tokenFile: String?
    let roleARN: String?
    let sessionName: String
    let region: String
    let environment: [String: String]
    let http: any HTTPClient

    public init(tokenFile: String?, roleARN: String?, sessionName: String?, region: String, environment: [String: String], http: any HTTPClient) {
        self.tokenFile = tokenFile
        self.roleARN = roleARN
        self.sessionName = sessionName ?? "tfreg-\(SystemClock().now())"
        self.region = region
        self.environment = environment
        self.http = http
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        guard let tokenFile, let roleARN, !tokenFile.isEmpty, !roleARN.isEmpty else {
            throw .notConfigured("no AWS_WEB_IDENTITY_TOKEN_FILE/AWS_ROLE_ARN")
        }
        guard let data = FileSystem.read(tokenFile, limit: .max), !data.isEmpty else {
            throw .credentialError("cannot read the web identity token file \(tokenFile)")
        }
        let token = String(decoding: data, as: UTF8.self).trimmingSpaces().replacing("\n", with: "")
        let client = AWSClient(
            http: http,
            credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: "", secretAccessKey: "")),
            region: region,
            environment: environment
        )
        return try await STSClient(client: client).assumeRoleWithWebIdentity(roleARN: roleARN, sessionName: sessionName, token: token)
    }
}

/// `credential_process`: runs the command through `/bin/sh -c` and reads its JSON (Version 1:
/// `AccessKeyId`, `SecretAccessKey`, optional `SessionToken` and `Expiration`).
enum CredentialProcess {
    struct Output: Decodable {
        let Version: Int
        let AccessKeyId: String
        let SecretAccessKey: String
        let SessionToken: String?
        let Expiration: String?
    }

    static func run(_ command: String) async throws(AWSError) -> AWSCredentials {
        let result: (Int32, [UInt8]) = await Blocking.run {
            guard let pipe = popen(command, "r") else { return (-1, []) }
            var out: [UInt8] = []
            var buf = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = fread(&buf, 1, buf.count, pipe)
                if n <= 0 { break }
                out += buf[0..<n]
                if out.count > 1 << 20 { break }
            }
            return (pclose(pipe), out)
        }
        guard result.0 == 0 else { throw .credentialError("credential_process exited with status \(result.0 >> 8)") }
        guard let output = try? JSONDecoder().decode(Output.self, from: Data(result.1)), output.Version == 1 else {
            throw .credentialError("credential_process did not print Version 1 credentials JSON")
        }
        var expiration: Int64?
        if let e = output.Expiration {
            guard let t = parseISO8601(e) else { throw .credentialError("credential_process printed an invalid Expiration") }
            expiration = t
        }
        return AWSCredentials(
            accessKeyID: output.AccessKeyId,
            secretAccessKey: output.SecretAccessKey,
            sessionToken: output.SessionToken,
            expiration: expiration
        )
    }
}

/// Tries each source in order; a source without credentials passes to the next, any other error stops.
public struct CredentialChain: CredentialProvider {
    public let providers: [any CredentialProvider]
    public init(_ providers: [any CredentialProvider]) { self.providers = providers }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        var reasons: [String] = []
        for p in providers {
            do {
                return try await p.credentials()
            } catch {
                guard error.isNotConfigured else { throw error }
                reasons.append(error.message)
            }
        }
        throw .credentialError("no AWS credentials found: " + reasons.joined(separator: "; "))
    }
}

/// Caches credentials and refreshes them `refreshBefore` seconds before they expire; concurrent
/// callers share one refresh. A lock, not an actor: every AWS call asks for credentials, and a cache
/// hit must not cost two executor hops (a thread wake-up each on a busy machine).
public final class CachingCredentialProvider: CredentialProvider {
    let source: any CredentialProvider
    let refreshBefore: Int64
    let clock: any WallClock
    private let state = Mutex<(cached: AWSCredentials?, refreshing: Task<AWSCredentials, any Error>?)>((nil, nil))

    public init(_ source: any CredentialProvider, refreshBefore: Int64 = 300, clock: any WallClock = SystemClock()) {
        self.source = source
        self.refreshBefore = refreshBefore
        self.clock = clock
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        let now = clock.now()
        let refreshBefore = self.refreshBefore
        let source = self.source
        let (hit, task) = state.withLock { s -> (AWSCredentials?, Task<AWSCredentials, any Error>?) in
            if let c = s.cached, c.expiration.map({ $0 - refreshBefore > now }) ?? true { return (c, nil) }
            if let t = s.refreshing { return (nil, t) }
            let t = Task { try await source.credentials() }
            s.refreshing = t
            return (nil, t)
        }
        if let hit { return hit }
        guard let task else { throw .credentialError("credential refresh did not start") }
        do {
            let fresh = try await task.value
            state.withLock { s in
                s.cached = fresh
                if s.refreshing == task { s.refreshing = nil }
            }
            return fresh
        } catch {
            state.withLock { s in if s.refreshing == task { s.refreshing = nil } }
            if let e = error as? AWSError { throw e }
            throw .credentialError("\(error)")
        }
    }
}
