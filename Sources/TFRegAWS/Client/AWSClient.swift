import Glibc
import Synchronization
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

/// Supplies credentials for signing; implementations cache and refresh expiring ones.
public protocol CredentialProvider: Sendable {
    func credentials() async throws(AWSError) -> AWSCredentials
}

/// Fixed credentials (tests, or values resolved once).
public struct StaticCredentialProvider: CredentialProvider {
    let value: AWSCredentials
    public init(_ value: AWSCredentials) { self.value = value }
    public func credentials() async throws(AWSError) -> AWSCredentials { value }
}

/// The SDKs' "standard" retry mode: up to `maxAttempts` tries for throttling, 5xx, transient and
/// network errors, with capped exponential backoff and full jitter; nothing else is retried.
public struct RetryPolicy: Sendable {
    public var maxAttempts: Int
    public var baseDelay: Double
    public var maxDelay: Double

    public init(maxAttempts: Int = 3, baseDelay: Double = 0.1, maxDelay: Double = 20) {
        self.maxAttempts = maxAttempts
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
    }

    /// Seconds to wait before attempt `attempt + 1` (attempt counts from 1).
    public func delay(afterAttempt attempt: Int, random: Double) -> Double {
        random * min(maxDelay, baseDelay * Double(1 << min(attempt, 20)))
    }
}

/// Sends signed requests to one region's AWS services over an `HTTPClient`, retrying per `RetryPolicy`,
/// and turns error responses into `AWSError`. Counts its calls (for `make bench`) and, with `metrics`,
/// reports each call by service, operation and outcome (`tfreg_aws_calls_total`) and its time
/// including retries (`tfreg_aws_call_duration_seconds`).
public final class AWSClient: Sendable {
    public let http: any HTTPClient
    public let credentialProvider: any CredentialProvider
    public let region: String
    public let environment: [String: String]
    public let retry: RetryPolicy
    public let timeout: Double
    public let metrics: (any MetricsSink)?
    /// Endpoints resolved once per service (the environment does not change in a process).
    private let endpoints = Mutex<[String: AWSEndpoint]>([:])

    public init(
        http: any HTTPClient,
        credentials: any CredentialProvider,
        region: String,
        environment: [String: String],
        retry: RetryPolicy = RetryPolicy(),
        timeout: Double = 10,
        metrics: (any MetricsSink)? = nil
    ) {
        self.metrics = metrics
        self.http = http
        self.credentialProvider = credentials
        self.region = region
        self.environment = environment
        self.retry = retry
        self.timeout = timeout
    }

    public func endpoint(for service: String) -> AWSEndpoint {
        if let known = endpoints.withLock({ $0[service] }) { return known }
        let resolved = AWSEndpoint.resolve(service: service, region: region, environment: environment)
        endpoints.withLock { $0[service] = resolved }
        return resolved
    }

    /// One AWS call. `path` is the wire path; `query` decoded items; the `Host` header is added.
    /// `signed: false` sends without credentials (the few calls that take none, such as
    /// AssumeRoleWithWebIdentity). `bodyFile`: the body is that file, streamed from disk (`body` is
    /// ignored), signed with the SHA-256 the caller computed of it. `responseFile`: a successful
    /// answer's body goes to that file (created, mode 0600, never a symbolic link) instead of memory.
    public func send(
        service: String,
        signingName: String? = nil,
        endpoint: AWSEndpoint? = nil,
        method: String,
        path: String = "/",
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = [],
        bodyFile: AWSFileBody? = nil,
        responseFile: String? = nil,
        signed: Bool = true
    ) async throws(AWSError) -> HTTPResponse {
        guard let metrics else {
            return try await attempts(service, signingName, endpoint, method, path, query, headers, body, bodyFile, responseFile, signed)
        }
        let started = ContinuousClock.now
        let operation = Self.operation(service: service, method: method, query: query, headers: headers, body: body)
        let outcome: String
        defer {
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            metrics.increment("tfreg_aws_calls_total", ["service", service, "operation", operation, "outcome", outcome], by: 1)
            metrics.observe("tfreg_aws_call_duration_seconds", ["service", service, "operation", operation], seconds: seconds)
        }
        do {
            let response = try await attempts(service, signingName, endpoint, method, path, query, headers, body, bodyFile, responseFile, signed)
            outcome = "ok"
            return response
        } catch {
            outcome = error.kind.rawValue
            throw error
        }
    }

    /// The operation a request stands for, as a metric label: the JSON protocol's target
    /// (`DynamoDB_20120810.GetItem` → `GetItem`), the query protocol's `Action` (STS), or S3's REST
    /// operation from the method. Every input is tfreg's own request, never a client's text.
    static func operation(
        service: String,
        method: String,
        query: [(name: String, value: String)],
        headers: [(name: String, value: String)],
        body: [UInt8]
    ) -> String {
        if let target = headers.first(where: { $0.name == "X-Amz-Target" })?.value {
            return String(target.split(separator: ".").last ?? "unknown")
        }
        if body.starts(with: Array("Action=".utf8)) {
            return String(decoding: body.dropFirst(7).prefix { $0 != UInt8(ascii: "&") }.prefix(64), as: UTF8.self)
        }
        if service == "s3" {
            switch method {
            case "GET": return query.contains { $0.name == "list-type" } ? "ListObjectsV2" : "GetObject"
            case "PUT": return headers.contains { $0.name.lowercased() == "x-amz-copy-source" } ? "CopyObject" : "PutObject"
            case "HEAD": return "HeadObject"
            case "DELETE": return "DeleteObject"
            case "POST": return query.contains { $0.name == "delete" } ? "DeleteObjects" : "PostObject"
            default: return "other"
            }
        }
        return "other"
    }

    private func attempts(
        _ service: String,
        _ signingName: String?,
        _ endpoint: AWSEndpoint?,
        _ method: String,
        _ path: String,
        _ query: [(name: String, value: String)],
        _ headers: [(name: String, value: String)],
        _ body: [UInt8],
        _ bodyFile: AWSFileBody?,
        _ responseFile: String?,
        _ signed: Bool
    ) async throws(AWSError) -> HTTPResponse {
        let ep = endpoint ?? self.endpoint(for: service)
        let signer = SigV4Signer(service: signingName ?? service, region: region)
        var attempt = 0
        while true {
            attempt += 1
            let unsigned =
                bodyFile.map {
                    SigV4Request(method: method, path: path, query: query, headers: [("Host", ep.host)] + headers, payloadHash: Hex.encode($0.sha256))
                } ?? SigV4Request(method: method, path: path, query: query, headers: [("Host", ep.host)] + headers, body: body)
            let prepared =
                signed ? signer.sign(unsigned, credentials: try await credentialProvider.credentials(), now: SystemClock().now()) : unsigned
            let queryString =
                query.isEmpty
                ? ""
                : "?"
                    + query.map { "\(SigV4.uriEncode($0.name, keepSlash: false))=\(SigV4.uriEncode($0.value, keepSlash: false))" }.joined(
                        separator: "&"
                    )
            var request = HTTPRequest(
                method: method,
                url: ep.baseURL + path + queryString,
                headers: prepared.headers,
                body: bodyFile == nil ? body : [],
                bodyFile: bodyFile?.path,
                timeout: bodyFile == nil && responseFile == nil ? timeout : max(timeout, 3600)
            )
            request.responseFile = responseFile
            let error: AWSError
            do {
                let response = try await http.send(request)
                if (200..<300).contains(response.status) { return response }
                error = Self.parseError(response)
            } catch {
                let kind: AWSError.Kind = .network
                let e = AWSError(kind: kind, code: "\(error.kind)", message: error.message, status: 0)
                if !e.isRetryable || attempt >= retry.maxAttempts { throw e }
                try? await Task.sleep(for: .milliseconds(Int(retry.delay(afterAttempt: attempt, random: Double.random(in: 0..<1)) * 1000)))
                continue
            }
            if !error.isRetryable || attempt >= retry.maxAttempts { throw error }
            try? await Task.sleep(for: .milliseconds(Int(retry.delay(afterAttempt: attempt, random: Double.random(in: 0..<1)) * 1000)))
        }
    }

    /// One call in the AWS JSON protocol (DynamoDB: `jsonVersion` 1.0, KMS: 1.1): `POST /` with
    /// `X-Amz-Target: <target>` and a JSON body; read the answer with `jsonAnswer` or a wire codec.
    /// https://smithy.io/2.0/aws/protocols/aws-json-1_0-protocol.html
    public func sendJSON(service: String, target: String, jsonVersion: String, body: [UInt8]) async throws(AWSError) -> HTTPResponse {
        try await send(
            service: service,
            method: "POST",
            headers: [("Content-Type", "application/x-amz-json-\(jsonVersion)"), ("X-Amz-Target", target)],
            body: body
        )
    }

    /// A JSON answer body as a `JSONValue` object (`.answers` options), else `.malformedResponse`.
    public static func jsonAnswer(_ r: HTTPResponse, operation: String) throws(AWSError) -> JSONValue {
        guard let v = try? JSONValue(parsing: r.body, options: .answers), case .object = v else {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON",
                status: r.status
            )
        }
        return v
    }

    /// Error code and message from a JSON (`__type`/`message`, `x-amzn-ErrorType`) or XML (`<Code>`/`<Message>`) body.
    static func parseError(_ r: HTTPResponse) -> AWSError {
        var code = r.header("x-amzn-errortype").map { String($0.split(separator: ":").first ?? "") } ?? ""
        var message = ""
        var reasons: [String] = []
        let text = r.bodyText
        if text.hasPrefix("{") {
            if let body = try? JSONValue(parsing: r.body, options: .answers) {
                if let t = body["__type"]?.stringValue { code = String(t.split(separator: "#").last ?? "") }
                message = body["message"]?.stringValue ?? body["Message"]?.stringValue ?? ""
                reasons = AWSError.cancellationReasons(body["CancellationReasons"])
            }
        } else if text.contains("<") {
            if let c = XMLText.first("Code", in: text) { code = c }
            message = XMLText.first("Message", in: text) ?? ""
        }
        if code.isEmpty, r.status == 0 { code = "Unknown" }
        return AWSError.classify(status: r.status, code: code, message: message, reasons: reasons)
    }
}

/// The text of the first `<name>…</name>` element (XML error bodies and simple query-protocol results).
enum XMLText {
    static func first(_ name: String, in xml: String) -> String? {
        guard let open = xml.firstRange(of: "<\(name)>"), let close = xml[open.upperBound...].firstRange(of: "</\(name)>") else { return nil }
        return unescape(String(xml[open.upperBound..<close.lowerBound]))
    }

    static func unescape(_ s: String) -> String {
        s.replacing("&lt;", with: "<").replacing("&gt;", with: ">").replacing("&quot;", with: "\"")
            .replacing("&apos;", with: "'").replacing("&amp;", with: "&")
    }
}

/// A request body read from a file as it is sent (an upload larger than memory should hold), with
/// the SHA-256 of its bytes, which signs the request (and S3 checks).
public struct AWSFileBody: Sendable {
    public let path: String
    public let sha256: [UInt8]

    public init(path: String, sha256: [UInt8]) {
        self.path = path
        self.sha256 = sha256
    }
}
