import Glibc
import TFRegSystem

/// A presigned `sts:GetCallerIdentity` request handed over by a client to prove its IAM identity
/// (the Vault / aws-iam-authenticator pattern). The server checks it here, sends it to STS itself,
/// and reads the ARN STS answers with.
public struct SignedCallerIdentityRequest: Sendable {
    public let method: String
    public let url: String
    public let headers: [(name: String, value: String)]
    public let body: String

    public init(method: String, url: String, headers: [(name: String, value: String)], body: String) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }

    /// The header that binds a signed request to one registry: it must be signed and equal the
    /// registry's audience, so a request signed for anything else cannot be replayed here.
    public static let audienceHeader = "x-tfreg-audience"
    /// Random bytes a client signs into each request (optional), so that two requests signed in the same
    /// second differ: the registry accepts each signed request once (`ReplayGuard`).
    public static let nonceHeader = "x-tfreg-nonce"
    static let allowedHeaders: Set<String> = [
        "authorization", "content-type", "x-amz-date", "x-amz-security-token", "host", audienceHeader, nonceHeader,
    ]

    /// Every check on a presigned GetCallerIdentity, all before anything is sent: POST to an STS host of the partition,
    /// a body of exactly `Action=GetCallerIdentity&Version=2011-06-15`, only known headers, none twice
    /// (case-insensitively), SigV4 for `sts` with the audience and host signed, the audience ours.
    /// Returns the STS host the client signed for and the region of its credential scope.
    public func validate(audience: String, now: Int64? = nil) throws(RegistryError) -> (host: String, region: String) {
        func reject(_ why: String) -> RegistryError { .badRequest("invalid identity request: \(why)") }
        guard method == "POST" else { throw reject("the method must be POST") }
        guard url.hasPrefix("https://"), !url.contains("?"), !url.contains("#"), !url.contains("@") else {
            throw reject("the URL must be https://STS-HOST/")
        }
        var rest = url.dropFirst(8)
        if rest.hasSuffix("/") { rest = rest.dropLast() }
        let host = String(rest).lowercased()
        guard Self.isSTSHost(host) else { throw reject("the URL must name an AWS STS endpoint") }
        var seen = Set<String>()
        var values: [String: String] = [:]
        for (name, value) in headers {
            let n = name.lowercased()
            guard Self.allowedHeaders.contains(n) else { throw reject("header '\(name.prefix(64))' is not allowed") }
            guard seen.insert(n).inserted else { throw reject("header '\(name.prefix(64))' appears twice") }
            // Bytes, not Characters: "\r\n" is one Character and would hide from contains("\r").
            guard value.utf8.count <= 8192, !value.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7f }) else {
                throw reject("header '\(name)' is malformed")
            }
            values[n] = value
        }
        guard values["host"].map({ $0.lowercased() == host }) ?? false else { throw reject("the Host header must equal the URL's host") }
        guard let aud = values[Self.audienceHeader], aud == audience else {
            throw .unauthenticated("the identity request is not for this registry (X-TFReg-Audience must be '\(audience)')")
        }
        // Body: exactly Action=GetCallerIdentity and Version=2011-06-15, no duplicates in any case.
        var form: [String: String] = [:]
        for pair in body.split(separator: "&", omittingEmptySubsequences: false) {
            let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard kv.count == 2 else { throw reject("malformed body") }
            let key = kv[0].lowercased()
            guard form[key] == nil else { throw reject("body parameter '\(kv[0].prefix(32))' appears twice") }
            form[key] = String(kv[1])
        }
        guard form.count == 2, form["action"] == "GetCallerIdentity", form["version"] == "2011-06-15",
            body.contains("Action=GetCallerIdentity"), body.contains("Version=2011-06-15")
        else { throw reject("the body must be Action=GetCallerIdentity&Version=2011-06-15") }
        // Authorization: AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/sts/aws4_request, SignedHeaders=…, Signature=…
        // STS honours a signature for 15 minutes; refuse anything older (or from the future) up front.
        if let now {
            guard let date = values["x-amz-date"], let signedAt = parseAmzDate(date), abs(signedAt - now) <= 15 * 60 else {
                throw reject("X-Amz-Date is missing or more than 15 minutes from now; sign a fresh request")
            }
        }
        guard let auth = values["authorization"], auth.hasPrefix("AWS4-HMAC-SHA256 ") else { throw reject("the request must be signed with SigV4") }
        var fields: [String: String] = [:]
        for part in auth.dropFirst(17).split(separator: ",") {
            let kv = part.trimmingSpaces().split(separator: "=", maxSplits: 1)
            guard kv.count == 2, fields[String(kv[0])] == nil else { throw reject("malformed Authorization header") }
            fields[String(kv[0])] = String(kv[1])
        }
        guard fields.count == 3, let credential = fields["Credential"], let signed = fields["SignedHeaders"], fields["Signature"] != nil else {
            throw reject("malformed Authorization header")
        }
        let scope = credential.split(separator: "/", omittingEmptySubsequences: false)
        guard scope.count == 5, scope[3] == "sts", scope[4] == "aws4_request" else { throw reject("the signature must be for the sts service") }
        let region = String(scope[2])
        guard Self.hostMatchesRegion(host, region) else { throw reject("the STS host does not match the signature's region") }
        let signedHeaders = Set(signed.split(separator: ";").map(String.init))
        guard signedHeaders.contains("host"), signedHeaders.contains(Self.audienceHeader) else {
            throw reject("the Host and X-TFReg-Audience headers must be signed")
        }
        return (host, region)
    }

    /// `sts.amazonaws.com`, `sts.REGION.amazonaws.com`, `sts.REGION.amazonaws.com.cn`.
    static func isSTSHost(_ host: String) -> Bool {
        if host == "sts.amazonaws.com" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        let regionOK = { (r: Substring) in !r.isEmpty && r.utf8.allSatisfy { ASCII.isLowerAlnum($0) || $0 == 0x2d }
        }
        if parts.count == 4, parts[0] == "sts", regionOK(parts[1]), parts[2] == "amazonaws", parts[3] == "com" { return true }
        if parts.count == 5, parts[0] == "sts", regionOK(parts[1]), parts[1].hasPrefix("cn-"), parts[2] == "amazonaws", parts[3] == "com",
            parts[4] == "cn"
        {
            return true
        }
        return false
    }

    static func hostMatchesRegion(_ host: String, _ region: String) -> Bool {
        host == "sts.amazonaws.com" ? region == "us-east-1" : host.hasPrefix("sts.\(region).")
    }
}

/// Sends a validated identity request to STS and returns the caller (implemented over HTTP in TFRegStoreAWS).
public protocol CallerIdentityVerifier: Sendable {
    func verify(_ request: SignedCallerIdentityRequest, audience: String) async throws(RegistryError) -> Identity
}
