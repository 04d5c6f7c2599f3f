import Glibc
import TFRegAWS
import TFRegCore
import TFRegHTTPClient
import TFRegSystem

/// Sends a client's presigned GetCallerIdentity to STS, after `SignedCallerIdentityRequest.validate`,
/// and reads the caller's ARN. The endpoint is the server's choice: `AWS_ENDPOINT_URL_STS` (or
/// `AWS_ENDPOINT_URL`) when configured, else the allow-listed STS host the client signed for; the
/// signed `Host` header is sent unchanged. No redirects (the HTTP client never follows them), 5 s timeout.
public struct STSCallerIdentityVerifier: CallerIdentityVerifier {
    let http: any HTTPClient
    let environment: [String: String]

    public init(http: any HTTPClient, environment: [String: String]) {
        self.http = http
        self.environment = environment
    }

    public func verify(_ request: SignedCallerIdentityRequest, audience: String) async throws(RegistryError) -> Identity {
        let (host, region) = try request.validate(audience: audience, now: SystemClock().now())
        let endpoint = AWSEndpoint.resolve(service: "sts", region: region, environment: environment)
        let base = endpoint.isCustom ? endpoint.baseURL : "https://\(host)"
        let response: HTTPResponse
        do {
            response = try await http.send(
                HTTPRequest(method: "POST", url: base + "/", headers: request.headers, body: Array(request.body.utf8), timeout: 5)
            )
        } catch {
            throw .unavailable("AWS STS", detail: error.message)
        }
        switch response.status {
        case 200: break
        case 400..<500: throw .unauthenticated("AWS did not accept the signed identity request (HTTP \(response.status)); sign a fresh one")
        default: throw .unavailable("AWS STS", detail: "HTTP \(response.status)")
        }
        guard let type = response.header("content-type")?.lowercased(), type.hasPrefix("text/xml") || type.hasPrefix("application/xml") else {
            throw .unavailable("AWS STS", detail: "unexpected content type")
        }
        guard let arn = Self.callerARN(response.body) else { throw .unavailable("AWS STS", detail: "malformed GetCallerIdentity response") }
        do { return try Identity(arn) } catch { throw .unauthenticated("this IAM principal cannot be used with the registry") }
    }

    /// Strictly reads `GetCallerIdentityResponse/GetCallerIdentityResult/Arn`: a small document without
    /// DTDs, entities, CDATA or comments, with exactly one `Arn` inside exactly one result element.
    static func callerARN(_ body: [UInt8]) -> String? {
        guard body.count <= 16 * 1024, let text = String(validating: body, as: UTF8.self) else { return nil }
        var t = Substring(text).drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        if t.hasPrefix("<?xml") {
            guard let end = t.firstRange(of: "?>") else { return nil }
            t = t[end.upperBound...].drop { $0 == " " || $0 == "\n" || $0 == "\r" || $0 == "\t" }
        }
        guard !t.contains("<!"), t.hasPrefix("<GetCallerIdentityResponse"),
            t.ranges(of: "<GetCallerIdentityResult>").count == 1, t.ranges(of: "</GetCallerIdentityResult>").count == 1,
            t.ranges(of: "<Arn>").count == 1, t.ranges(of: "</Arn>").count == 1,
            let r0 = t.firstRange(of: "<GetCallerIdentityResult>"), let r1 = t.firstRange(of: "</GetCallerIdentityResult>"),
            let a0 = t.firstRange(of: "<Arn>"), let a1 = t.firstRange(of: "</Arn>"),
            r0.upperBound <= a0.lowerBound, a1.upperBound <= r1.lowerBound, a0.upperBound <= a1.lowerBound,
            t.trimmingASCII(ASCII.isWhitespace).hasSuffix("</GetCallerIdentityResponse>")
        else { return nil }
        let arn = String(t[a0.upperBound..<a1.lowerBound])
        guard !arn.contains("&"), !arn.contains("<") else { return nil }
        return arn
    }
}
