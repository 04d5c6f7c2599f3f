import Glibc
import Synchronization
import TFRegCrypto
import TFRegSystem

/// AWS credentials for signing. Never logged: `description` hides the secret parts.
public struct AWSCredentials: Sendable, CustomStringConvertible {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var sessionToken: String?
    /// Unix seconds, for temporary credentials.
    public var expiration: Int64?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil, expiration: Int64? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
        self.expiration = expiration
    }

    public var description: String { "AWSCredentials(\(accessKeyID), secret: <redacted>\(sessionToken == nil ? "" : ", session token: <redacted>"))" }
}

/// The parts of an HTTP request that Signature Version 4 covers.
public struct SigV4Request: Sendable {
    public var method: String
    /// The path as sent on the wire (percent-encoded where the caller encoded it).
    public var path: String
    /// Query parameters, *decoded*; the signer encodes them (RFC 3986) for both the canonical form and the wire.
    public var query: [(name: String, value: String)]
    public var headers: [(name: String, value: String)]
    /// Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`.
    public var payloadHash: String

    public init(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadHash: String
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.payloadHash = payloadHash
    }

    public init(method: String, path: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)], body: [UInt8]) {
        self.init(method: method, path: path, query: query, headers: headers, payloadHash: Hex.encode(SHA256.hash(body)))
    }
}

/// Signature Version 4, one function per stage of
/// https://docs.aws.amazon.com/IAM/latest/UserGuide/create-signed-request.html, pure and with the time
/// injected, so each stage is tested on its own against AWS's published test suite and botocore.
public enum SigV4 {
    public static let algorithm = "AWS4-HMAC-SHA256"
    public static let unsignedPayload = "UNSIGNED-PAYLOAD"
    public static let emptyPayloadHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

    // MARK: Stage 1: canonical request

    /// URI-encode as SigV4 defines it: RFC 3986, uppercase hex, `/` kept only in paths.
    public static func uriEncode(_ s: String, keepSlash: Bool) -> String {
        PercentEncoding.encode(s, keepSlash: keepSlash)
    }

    /// RFC 3986 §5.2.4 dot-segment removal, plus collapsing empty segments, as AWS services expect.
    public static func normalizePath(_ path: String) -> String {
        if path.isEmpty { return "/" }
        var output: [Substring] = []
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                if !output.isEmpty { output.removeLast() }
                continue
            }
            output.append(segment)
        }
        let first = path.hasPrefix("/") ? "/" : ""
        let last = path.hasSuffix("/") && !output.isEmpty ? "/" : ""
        return first + output.joined(separator: "/") + last
    }

    /// The canonical URI. Every service but S3 normalizes the path and encodes the wire path again
    /// (so `%` becomes `%25`: "double encoding"); S3 uses the wire path as it is.
    public static func canonicalURI(_ path: String, s3: Bool) -> String {
        if s3 { return path.isEmpty ? "/" : path }
        return uriEncode(normalizePath(path), keepSlash: true)
    }

    /// Encoded `name=value` pairs sorted by encoded name, then value; `name=` for empty values.
    public static func canonicalQuery(_ items: [(name: String, value: String)]) -> String {
        items.map { (uriEncode($0.name, keepSlash: false), uriEncode($0.value, keepSlash: false)) }
            .sorted { $0.0 != $1.0 ? $0.0 < $1.0 : $0.1 < $1.1 }
            .map { "\($0.0)=\($0.1)" }
            .joined(separator: "&")
    }

    /// Lowercased names sorted; values trimmed with inner whitespace runs collapsed to one space;
    /// repeated headers joined with commas in their order. Returns the block and the signed-headers list.
    public static func canonicalHeaders(_ headers: [(name: String, value: String)]) -> (canonical: String, signed: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in headers {
            let collapsed = value.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" }).joined(separator: " ")
            merged[name.lowercased(), default: []].append(collapsed)
        }
        let sorted = merged.sorted { $0.key < $1.key }
        let canonical = sorted.map { "\($0.key):\($0.value.joined(separator: ","))\n" }.joined()
        return (canonical, sorted.map(\.key).joined(separator: ";"))
    }

    public static func canonicalRequest(_ r: SigV4Request, s3: Bool) -> (request: String, signedHeaders: String) {
        let (headers, signed) = canonicalHeaders(r.headers)
        let request = [r.method.uppercased(), canonicalURI(r.path, s3: s3), canonicalQuery(r.query), headers, signed, r.payloadHash]
            .joined(separator: "\n")
        return (request, signed)
    }

    // MARK: Stage 2: string to sign

    public static func scope(date: String, region: String, service: String) -> String {
        "\(date.prefix(8))/\(region)/\(service)/aws4_request"
    }

    public static func stringToSign(canonicalRequest: String, amzDate: String, scope: String) -> String {
        [algorithm, amzDate, scope, Hex.encode(SHA256.hash(Array(canonicalRequest.utf8)))].joined(separator: "\n")
    }

    // MARK: Stage 3: signing key and signature

    /// The derived key changes once a day per secret, region and service: it is kept (in memory,
    /// at most 32 entries) so each request costs one HMAC instead of five.
    public static func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let day = String(date.prefix(8))
        let cacheKey = day + "/" + region + "/" + service + "/" + secret
        if let known = derivedKeys.withLock({ $0[cacheKey] }) { return known }
        let kDate = HMACSHA256.authenticate(Array(day.utf8), key: Array("AWS4\(secret)".utf8))
        let kRegion = HMACSHA256.authenticate(Array(region.utf8), key: kDate)
        let kService = HMACSHA256.authenticate(Array(service.utf8), key: kRegion)
        let key = HMACSHA256.authenticate(Array("aws4_request".utf8), key: kService)
        derivedKeys.withLock {
            if $0.count >= 32 { $0.removeAll() }
            $0[cacheKey] = key
        }
        return key
    }

    private static let derivedKeys = Mutex<[String: [UInt8]]>([:])

    public static func signature(stringToSign: String, signingKey: [UInt8]) -> String {
        Hex.encode(HMACSHA256.authenticate(Array(stringToSign.utf8), key: signingKey))
    }

}

/// Signs requests for one service in one region.
public struct SigV4Signer: Sendable {
    public let service: String
    public let region: String
    public var isS3: Bool { service == "s3" }

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// Header form: returns the request with `X-Amz-Date`, `X-Amz-Security-Token` (with a session
    /// token), `x-amz-content-sha256` (S3) and `Authorization` added. `host` must already be present.
    public func sign(_ request: SigV4Request, credentials: AWSCredentials, now: Int64) -> SigV4Request {
        var r = request
        let date = amzDate(now)
        r.headers.removeAll { ["authorization", "x-amz-date"].contains($0.name.lowercased()) }
        r.headers.append(("X-Amz-Date", date))
        if let token = credentials.sessionToken {
            r.headers.removeAll { $0.name.lowercased() == "x-amz-security-token" }
            r.headers.append(("X-Amz-Security-Token", token))
        }
        if isS3 && !r.headers.contains(where: { $0.name.lowercased() == "x-amz-content-sha256" }) {
            r.headers.append(("x-amz-content-sha256", r.payloadHash))
        }
        let (canonical, signed) = SigV4.canonicalRequest(r, s3: isS3)
        let scope = SigV4.scope(date: date, region: region, service: service)
        let toSign = SigV4.stringToSign(canonicalRequest: canonical, amzDate: date, scope: scope)
        let key = SigV4.signingKey(secret: credentials.secretAccessKey, date: date, region: region, service: service)
        let sig = SigV4.signature(stringToSign: toSign, signingKey: key)
        r.headers.append(
            ("Authorization", "\(SigV4.algorithm) Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signed), Signature=\(sig)")
        )
        return r
    }

    /// Query form (presigned URL): returns the full encoded query string, `X-Amz-Signature` last.
    /// Only the `host` header (and any given) is signed; the payload is `UNSIGNED-PAYLOAD` for S3.
    public func presignedQuery(_ request: SigV4Request, credentials: AWSCredentials, now: Int64, expires: Int) -> String {
        let date = amzDate(now)
        let scope = SigV4.scope(date: date, region: region, service: service)
        let (_, signed) = SigV4.canonicalHeaders(request.headers)
        var r = request
        r.query.append(("X-Amz-Algorithm", SigV4.algorithm))
        r.query.append(("X-Amz-Credential", "\(credentials.accessKeyID)/\(scope)"))
        r.query.append(("X-Amz-Date", date))
        r.query.append(("X-Amz-Expires", String(expires)))
        if let token = credentials.sessionToken { r.query.append(("X-Amz-Security-Token", token)) }
        r.query.append(("X-Amz-SignedHeaders", signed))
        if isS3 { r.payloadHash = SigV4.unsignedPayload }
        let (canonical, _) = SigV4.canonicalRequest(r, s3: isS3)
        let toSign = SigV4.stringToSign(canonicalRequest: canonical, amzDate: date, scope: scope)
        let key = SigV4.signingKey(secret: credentials.secretAccessKey, date: date, region: region, service: service)
        return SigV4.canonicalQuery(r.query) + "&X-Amz-Signature=" + SigV4.signature(stringToSign: toSign, signingKey: key)
    }
}
