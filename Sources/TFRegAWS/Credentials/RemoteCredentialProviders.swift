import Glibc
import TFRegCrypto
import TFRegHTTPClient
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// Credentials JSON as the container endpoint and IMDS serve it.
struct MetadataCredentials: Decodable {
    var Code: String?
    var AccessKeyId: String
    var SecretAccessKey: String
    var Token: String?
    var Expiration: String?

    func credentials(source: String) throws(AWSError) -> AWSCredentials {
        if let code = Code, code != "Success" { throw .credentialError("\(source) answered Code=\(code)") }
        var expiration: Int64?
        if let e = Expiration {
            guard let t = parseISO8601(e) else { throw .credentialError("\(source) sent an invalid Expiration") }
            expiration = t
        }
        return AWSCredentials(accessKeyID: AccessKeyId, secretAccessKey: SecretAccessKey, sessionToken: Token, expiration: expiration)
    }

    static func decode(_ body: [UInt8], source: String) throws(AWSError) -> AWSCredentials {
        guard body.count < 64 * 1024, let c = try? JSONDecoder().decode(MetadataCredentials.self, from: Data(body)) else {
            throw AWSError(
                kind: .malformedResponse,
                code: "CredentialsError",
                message: "\(source) sent an unreadable credentials document",
                status: 0
            )
        }
        return try c.credentials(source: source)
    }
}

/// ECS / EKS Pod Identity container credentials: `AWS_CONTAINER_CREDENTIALS_RELATIVE_URI` (on
/// `http://169.254.170.2`) or `AWS_CONTAINER_CREDENTIALS_FULL_URI`, which must be HTTPS or point to a
/// loopback or the ECS/EKS link-local addresses, as the SDKs require. The `Authorization` header comes
/// from `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` (re-read on every refresh, it rotates) or
/// `AWS_CONTAINER_AUTHORIZATION_TOKEN`.
public struct ContainerCredentialProvider: CredentialProvider {
    let environment: [String: String]
    let http: any HTTPClient

    public init(environment: [String: String], http: any HTTPClient) {
        self.environment = environment
        self.http = http
    }

    static let allowedPlainHosts: Set<String> = ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]"]

    /// The endpoint URL, or nil when the environment does not configure container credentials.
    func endpoint() throws(AWSError) -> String? {
        if let relative = environment["AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"], !relative.isEmpty {
            guard relative.hasPrefix("/") else { throw .credentialError("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with '/'") }
            return "http://169.254.170.2" + relative
        }
        guard let full = environment["AWS_CONTAINER_CREDENTIALS_FULL_URI"], !full.isEmpty else { return nil }
        if full.hasPrefix("https://") { return full }
        guard full.hasPrefix("http://") else { throw .credentialError("AWS_CONTAINER_CREDENTIALS_FULL_URI must be an http(s) URL") }
        let authority = full.dropFirst(7).prefix { $0 != "/" && $0 != "?" }
        var host = String(authority)
        if host.hasPrefix("[") {
            host = String(host.prefix { $0 != "]" }) + "]"
        } else if let colon = host.lastIndex(of: ":") {
            host = String(host[..<colon])
        }
        guard Self.allowedPlainHosts.contains(host) || host.hasPrefix("127.") else {
            throw .credentialError(
                "AWS_CONTAINER_CREDENTIALS_FULL_URI over plain HTTP must point to a loopback or the ECS/EKS credentials address, not \(host)"
            )
        }
        return full
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        guard let url = try endpoint() else { throw .notConfigured("no AWS_CONTAINER_CREDENTIALS_RELATIVE_URI/FULL_URI") }
        var headers: [(name: String, value: String)] = [("Accept", "application/json")]
        var token: String?
        if let file = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"], !file.isEmpty {
            guard let text = FileSystem.readText(file) else {
                throw .credentialError("cannot read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE \(file)")
            }
            token = text.trimmingSpaces().trimmingASCII(ASCII.isNewline)
        } else if let t = environment["AWS_CONTAINER_AUTHORIZATION_TOKEN"], !t.isEmpty {
            token = t
        }
        if let token {
            guard !token.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else {
                throw .credentialError("the container authorization token contains a control character")
            }
            headers.append(("Authorization", token))
        }
        var lastError = ""
        for attempt in 1...3 {
            do {
                let r = try await http.send(HTTPRequest(method: "GET", url: url, headers: headers, timeout: 2))
                guard r.status == 200 else {
                    lastError = "HTTP \(r.status)"
                    if r.status < 500 { break }
                    continue
                }
                return try MetadataCredentials.decode(r.body, source: "the container credentials endpoint")
            } catch let e as HTTPClientError {
                lastError = e.message
                if attempt < 3 { try? await Task.sleep(nanoseconds: 100_000_000 * UInt64(attempt)) }
            } catch let e as AWSError {
                throw e
            } catch {
                lastError = "\(error)"
            }
        }
        throw .credentialError("container credentials endpoint failed: \(lastError)")
    }
}

/// EC2 instance profile credentials over IMDSv2 (session token first, never the v1 fallback):
/// `PUT /latest/api/token`, then the role name and its credentials under
/// `/latest/meta-data/iam/security-credentials/`. `AWS_EC2_METADATA_DISABLED=true` turns it off;
/// `AWS_EC2_METADATA_SERVICE_ENDPOINT` / `_ENDPOINT_MODE=IPv6` move it. An unreachable service means
/// "no credentials here" (the chain's last source), with a 1 s timeout like the SDKs.
public struct InstanceMetadataCredentialProvider: CredentialProvider {
    let environment: [String: String]
    let http: any HTTPClient

    public init(environment: [String: String], http: any HTTPClient) {
        self.environment = environment
        self.http = http
    }

    var disabled: Bool { environment["AWS_EC2_METADATA_DISABLED"]?.lowercased() == "true" }

    var endpoint: String {
        if let e = environment["AWS_EC2_METADATA_SERVICE_ENDPOINT"], !e.isEmpty { return AWSEndpoint.trim(e) }
        if environment["AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE"]?.lowercased() == "ipv6" { return "http://[fd00:ec2::254]" }
        return "http://169.254.169.254"
    }

    var timeout: Double { environment["AWS_METADATA_SERVICE_TIMEOUT"].flatMap(Double.init) ?? 1 }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        guard !disabled else { throw .notConfigured("instance metadata is disabled (AWS_EC2_METADATA_DISABLED)") }
        let base = endpoint
        let tokenResponse: HTTPResponse
        do {
            tokenResponse = try await http.send(
                HTTPRequest(
                    method: "PUT",
                    url: base + "/latest/api/token",
                    headers: [("X-aws-ec2-metadata-token-ttl-seconds", "21600")],
                    timeout: timeout
                )
            )
        } catch {
            throw .notConfigured("no instance metadata service at \(base) (\(error.message))")
        }
        guard tokenResponse.status == 200, !tokenResponse.body.isEmpty, tokenResponse.body.count < 4096 else {
            throw .notConfigured("the instance metadata service refused a session token (HTTP \(tokenResponse.status))")
        }
        let token = tokenResponse.bodyText.trimmingSpaces().trimmingASCII(ASCII.isNewline)
        guard !token.utf8.contains(where: { $0 < 0x20 || $0 == 0x7f }) else { throw .credentialError("the instance metadata token is malformed") }
        let auth: [(name: String, value: String)] = [("X-aws-ec2-metadata-token", token)]
        let path = "/latest/meta-data/iam/security-credentials/"
        let roles: HTTPResponse
        do { roles = try await http.send(HTTPRequest(method: "GET", url: base + path, headers: auth, timeout: timeout)) } catch {
            throw .credentialError("instance metadata: \(error.message)")
        }
        if roles.status == 404 { throw .notConfigured("this instance has no IAM instance profile") }
        guard roles.status == 200 else { throw .credentialError("instance metadata answered HTTP \(roles.status) for the role name") }
        let role = roles.bodyText.split(whereSeparator: { $0 == "\n" || $0 == "\r" }).first.map(String.init)?.trimmingSpaces() ?? ""
        let roleChars = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+=,.@_-".utf8)
        guard !role.isEmpty, role.utf8.count <= 128, role.utf8.allSatisfy(roleChars.contains) else {
            throw AWSError(kind: .malformedResponse, code: "CredentialsError", message: "instance metadata sent an invalid role name", status: 0)
        }
        let creds: HTTPResponse
        do { creds = try await http.send(HTTPRequest(method: "GET", url: base + path + role, headers: auth, timeout: timeout)) } catch {
            throw .credentialError("instance metadata: \(error.message)")
        }
        guard creds.status == 200 else { throw .credentialError("instance metadata answered HTTP \(creds.status) for role \(role)") }
        return try MetadataCredentials.decode(creds.body, source: "instance metadata")
    }
}

/// IAM Identity Center (SSO) profiles, as `aws sso login` leaves them: `sso_session` + an
/// `[sso-session NAME]` section (or the legacy `sso_start_url`/`sso_region` in the profile), plus
/// `sso_account_id` and `sso_role_name`. The cached access token is read from
/// `~/.aws/sso/cache/SHA1(session name or start URL).json` and exchanged with the SSO portal's
/// GetRoleCredentials (`AWS_ENDPOINT_URL_SSO` overrides the portal). tfreg does not refresh the
/// SSO token itself: when it has expired the error says to run `aws sso login` again.
public struct SSOCredentialProvider: CredentialProvider {
    let profile: String
    let settings: [String: String]
    let session: [String: String]?
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
        self.settings = config.profiles[profile] ?? [:]
        self.session = settings["sso_session"].flatMap { config.ssoSessions[$0] }
        self.environment = environment
        self.http = http
        self.clock = clock
    }

    /// Whether a profile is an SSO profile.
    public static func isSSO(_ p: [String: String]) -> Bool { p["sso_session"] != nil || p["sso_start_url"] != nil || p["sso_account_id"] != nil }

    struct CachedToken: Decodable {
        var accessToken: String
        var expiresAt: String
    }

    struct PortalResponse: Decodable {
        struct Role: Decodable {
            var accessKeyId: String
            var secretAccessKey: String
            var sessionToken: String?
            var expiration: Int64
        }
        var roleCredentials: Role
    }

    public func credentials() async throws(AWSError) -> AWSCredentials {
        let login = "run 'aws sso login --profile \(profile)'"
        guard let account = settings["sso_account_id"], let role = settings["sso_role_name"] else {
            throw .credentialError("SSO profile '\(profile)' needs sso_account_id and sso_role_name")
        }
        let cacheKey: String
        let region: String
        if let name = settings["sso_session"] {
            guard let s = session else {
                throw .credentialError("profile '\(profile)' names sso_session '\(name)', but there is no [sso-session \(name)] section")
            }
            guard let r = s["sso_region"] else { throw .credentialError("[sso-session \(name)] has no sso_region") }
            cacheKey = name
            region = r
        } else {
            guard let url = settings["sso_start_url"], let r = settings["sso_region"] else {
                throw .credentialError("SSO profile '\(profile)' needs sso_session, or sso_start_url and sso_region")
            }
            cacheKey = url
            region = r
        }
        let home = environment["HOME"] ?? "/"
        let file = home + "/.aws/sso/cache/" + Hex.encode(SHA1.hash(Array(cacheKey.utf8))) + ".json"
        guard let text = FileSystem.readText(file) else { throw .credentialError("no cached SSO token for profile '\(profile)': \(login)") }
        guard let token = try? JSONDecoder().decode(CachedToken.self, from: Data(text.utf8)), let expires = parseISO8601(token.expiresAt) else {
            throw .credentialError("the cached SSO token \(file) is unreadable: \(login)")
        }
        guard expires > clock.now() + 60 else { throw .credentialError("the SSO session for profile '\(profile)' has expired: \(login)") }
        let endpoint: String
        let env = AWSEndpoint.resolve(service: "sso", region: region, environment: environment)
        endpoint = env.isCustom ? env.baseURL : "https://portal.sso.\(region).\(AWSEndpoint.dnsSuffix(region: region))"
        let query = "account_id=\(SigV4.uriEncode(account, keepSlash: false))&role_name=\(SigV4.uriEncode(role, keepSlash: false))"
        let response: HTTPResponse
        do {
            response = try await http.send(
                HTTPRequest(
                    method: "GET",
                    url: endpoint + "/federation/credentials?" + query,
                    headers: [("x-amz-sso_bearer_token", token.accessToken)],
                    timeout: 10
                )
            )
        } catch {
            throw AWSError(kind: .network, code: "NetworkError", message: "SSO portal: \(error.message)", status: 0)
        }
        guard response.status == 200 else {
            if response.status == 401 || response.status == 403 {
                throw .credentialError("the SSO portal refused the cached token (HTTP \(response.status)): \(login)")
            }
            throw AWSError.classify(status: response.status, code: "", message: "SSO GetRoleCredentials failed")
        }
        guard let r = try? JSONDecoder().decode(PortalResponse.self, from: Data(response.body)) else {
            throw AWSError(kind: .malformedResponse, code: "CredentialsError", message: "the SSO portal sent an unreadable response", status: 200)
        }
        let c = r.roleCredentials
        return AWSCredentials(
            accessKeyID: c.accessKeyId,
            secretAccessKey: c.secretAccessKey,
            sessionToken: c.sessionToken,
            expiration: c.expiration / 1000
        )
    }
}
