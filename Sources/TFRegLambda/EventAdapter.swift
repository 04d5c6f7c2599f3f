import Glibc
import Logging
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// The front ends a Lambda function can sit behind, as `RESOLVER_TYPE` names them.
public enum EventFormat: String, Sendable, CaseIterable {
    /// API Gateway REST API (payload 1.0).
    case restV1 = "API_GATEWAY_REST"
    /// API Gateway HTTP API (payload 2.0).
    case httpV2 = "API_GATEWAY_HTTP"
    /// Lambda Function URL (payload 2.0 without a route).
    case functionURL = "FUNCTION_URL"
    /// Application Load Balancer.
    case alb = "ALB"

    var isV2: Bool { self == .httpV2 || self == .functionURL }
}

/// A decoded event: the transport-neutral request, the format to answer in, and for ALB whether
/// the target group uses multi-value headers.
public struct DecodedEvent: Sendable {
    public let request: APIRequest
    public let format: EventFormat
    public let multiValue: Bool
}

/// Lambda events ⇄ `APIRequest`/`APIResponse`, for the four front ends.
public enum EventAdapter {
    public static let maxPayload = 6 * 1024 * 1024
    public static let albLimit = 1024 * 1024

    /// The format of an event, from its shape: ALB events carry `requestContext.elb`, payload 2.0 says
    /// `version: "2.0"` (a Function URL's domain contains `.lambda-url.`), REST events have `httpMethod`.
    public static func detect(_ e: JSONValue) -> EventFormat? {
        let ctx = e["requestContext"]
        if ctx?["elb"] != nil { return .alb }
        if e["version"]?.stringValue == "2.0", ctx?["http"] != nil {
            return (ctx?["domainName"]?.stringValue ?? "").contains(".lambda-url.") ? .functionURL : .httpV2
        }
        if e["httpMethod"]?.stringValue != nil, e["path"]?.stringValue != nil { return .restV1 }
        return nil
    }

    public static func decode(_ bytes: [UInt8], configured: EventFormat) throws(RegistryError) -> DecodedEvent {
        guard bytes.count <= maxPayload else { throw RegistryError(.payloadTooLarge, "event too large") }
        return try decode(try JSONParser.parse(bytes), configured: configured)
    }

    /// Decodes an event already parsed.
    public static func decode(_ e: JSONValue, configured: EventFormat) throws(RegistryError) -> DecodedEvent {
        guard let format = detect(e) else {
            throw .badRequest("the event is not an API Gateway, Function URL or ALB request (RESOLVER_TYPE=\(configured.rawValue))")
        }
        let ctx = e["requestContext"]
        var headers: [(name: String, value: String)] = []
        var method = "GET"
        var path = "/"
        var query = ""
        var trusted: String?
        var multiValue = false
        switch format {
        case .httpV2, .functionURL:
            method = ctx?["http"]?["method"]?.stringValue ?? "GET"
            path = encodeRawPath(e["rawPath"]?.stringValue ?? "/", decoded: false)
            query = e["rawQueryString"]?.stringValue ?? ""
            if case .object(let h)? = e["headers"] { for (k, v) in h { if let s = v.stringValue { headers.append((k, s)) } } }
            if case .array(let cookies)? = e["cookies"], !cookies.isEmpty {
                headers.append(("cookie", cookies.compactMap(\.stringValue).joined(separator: "; ")))
            }
            trusted = ctx?["authorizer"]?["iam"]?["userArn"]?.stringValue
        case .restV1, .alb:
            method = e["httpMethod"]?.stringValue ?? "GET"
            // REST API paths arrive decoded; ALB passes the path as the client sent it.
            path = encodeRawPath(e["path"]?.stringValue ?? "/", decoded: format == .restV1)
            if case .object(let mh)? = e["multiValueHeaders"] {
                multiValue = true
                for (k, vs) in mh { if case .array(let values) = vs { for v in values { if let s = v.stringValue { headers.append((k, s)) } } } }
            } else if case .object(let h)? = e["headers"] {
                for (k, v) in h { if let s = v.stringValue { headers.append((k, s)) } }
            }
            var items: [(String, String)] = []
            if case .object(let mq)? = e["multiValueQueryStringParameters"] {
                for (k, vs) in mq { if case .array(let values) = vs { for v in values { if let s = v.stringValue { items.append((k, s)) } } } }
            } else if case .object(let q)? = e["queryStringParameters"] {
                for (k, v) in q { if let s = v.stringValue { items.append((k, s)) } }
            }
            // REST decodes parameters, so they are encoded again; ALB leaves them as sent.
            query = items.map { format == .restV1 ? "\(PercentEncoding.encode($0.0))=\(PercentEncoding.encode($0.1))" : "\($0.0)=\($0.1)" }.joined(
                separator: "&"
            )
            if format == .restV1 { trusted = ctx?["identity"]?["userArn"]?.stringValue }
        }
        var body: [UInt8] = []
        if let text = e["body"]?.stringValue {
            if e["isBase64Encoded"]?.boolValue == true {
                guard let decoded = Base64.decode(text) else { throw .badRequest("the event body is not valid base64") }
                body = decoded
            } else {
                body = Array(text.utf8)
            }
        }
        if format == .alb && body.count > albLimit { throw RegistryError(.payloadTooLarge, "ALB requests are limited to 1 MB") }
        let requestID = ctx?["requestId"]?.stringValue ?? ""
        var request = APIRequest(
            method: method,
            path: path,
            query: query,
            headers: headers,
            body: APIRequestBody(bytes: body),
            scheme: "https",
            requestID: requestID
        )
        request.trustedCallerARN = (trusted?.isEmpty ?? true) ? nil : trusted
        // For audit events: the address API Gateway or the Function URL saw (ALB events carry none).
        request.sourceIP = (ctx?["http"]?["sourceIp"] ?? ctx?["identity"]?["sourceIp"])?.stringValue
        // The Host header of an event is whatever the caller sent; links come from the configured URL or
        // the domain below only.
        request.linksMayUseHostHeader = false
        // The domain API Gateway or the Function URL received the request on (set by AWS, not the
        // client: only domains mapped to this API or function reach it). ALB events have none.
        if format != .alb, let domain = ctx?["domainName"]?.stringValue?.lowercased(), URLParsing.isValidHost(domain) {
            request.trustedHost = domain
        }
        return DecodedEvent(request: request, format: format, multiValue: multiValue)
    }

    /// Percent-encodes what may not appear raw in a path (and `%` too when the path arrived decoded).
    static func encodeRawPath(_ p: String, decoded: Bool) -> String {
        var out = ""
        for b in p.utf8 {
            let raw = b > 0x20 && b < 0x7f && b != UInt8(ascii: "\\") && (!decoded || b != UInt8(ascii: "%"))
            if raw { out.unicodeScalars.append(Unicode.Scalar(b)) } else { out += "%" + String(b, radix: 16, uppercase: true).leftPadded() }
        }
        return out.isEmpty ? "/" : out
    }

    static let reasons: [Int: String] = [
        200: "OK", 201: "Created", 204: "No Content", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden",
        404: "Not Found", 405: "Method Not Allowed", 409: "Conflict", 413: "Payload Too Large", 415: "Unsupported Media Type",
        422: "Unprocessable Entity", 429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable",
    ]

    /// The response event for `format`.
    public static func encode(_ response: APIResponse, as decoded: DecodedEvent) -> [UInt8] {
        var bodyBytes: [UInt8]
        switch response.body {
        case .empty: bodyBytes = []
        case .bytes(let b): bodyBytes = b
        case .file(let path, _): bodyBytes = FileSystem.readPrefix(path, limit: maxPayload) ?? []
        }
        var status = response.status
        var headers = response.headers
        let type = response.header("content-type")?.lowercased() ?? ""
        let textual = type.isEmpty || type.hasPrefix("application/json") || type.hasPrefix("text/")
        var isBase64 = !textual || String(validating: bodyBytes, as: UTF8.self) == nil
        if decoded.format == .alb && bodyBytes.count > albLimit {
            status = 502
            bodyBytes = JSONWriter.errors(["the response is larger than an ALB allows (1 MB)"])
            headers = [("Content-Type", "application/json")]
            isBase64 = false
        }
        let body: JSONValue = .string(isBase64 ? Base64.encode(bodyBytes) : String(decoding: bodyBytes, as: UTF8.self))
        var fields: [(String, JSONValue)] = [("statusCode", .int(Int64(status)))]
        switch decoded.format {
        case .httpV2, .functionURL:
            var joined: [(String, [String])] = []
            var cookies: [JSONValue] = []
            for (n, v) in headers {
                if n.lowercased() == "set-cookie" {
                    cookies.append(.string(v))
                    continue
                }
                if let i = joined.firstIndex(where: { $0.0.lowercased() == n.lowercased() }) {
                    joined[i].1.append(v)
                } else {
                    joined.append((n, [v]))
                }
            }
            fields.append(("headers", .object(joined.map { ($0.0, .string($0.1.joined(separator: ","))) })))
            if !cookies.isEmpty { fields.append(("cookies", .array(cookies))) }
        case .restV1, .alb:
            if decoded.format == .alb { fields.append(("statusDescription", .string("\(status) \(reasons[status] ?? "Status")"))) }
            var multi: [(String, [String])] = []
            for (n, v) in headers {
                if let i = multi.firstIndex(where: { $0.0.lowercased() == n.lowercased() }) { multi[i].1.append(v) } else { multi.append((n, [v])) }
            }
            if decoded.format == .restV1 || !decoded.multiValue {
                fields.append(("headers", .object(multi.map { ($0.0, .string($0.1.last ?? "")) })))
            }
            if decoded.format == .restV1 || decoded.multiValue {
                fields.append(("multiValueHeaders", .object(multi.map { ($0.0, .array($0.1.map(JSONValue.string))) })))
            }
        }
        fields.append(("body", body))
        fields.append(("isBase64Encoded", .bool(isBase64)))
        return JSONValue.object(fields).serialized()
    }
}

extension String {
    fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}

/// One invocation: event → `RegistryAPI` → response event. An event whose front end cannot be told
/// fails the invocation (there is no format to answer in); anything else wrong with it is a 4xx
/// answered in its own format.
public struct LambdaHandler: Sendable {
    public let api: RegistryAPI
    public let configured: EventFormat

    /// The API reports each request to the invocation's log line (`InvocationObserver`).
    public init(api: RegistryAPI, configured: EventFormat) {
        self.api = api.adding(InvocationObserver())
        self.configured = configured
    }

    public func handle(_ invocation: Invocation, logger: Logger) async throws -> [UInt8] {
        guard invocation.event.count <= EventAdapter.maxPayload else { throw RegistryError(.payloadTooLarge, "event too large") }
        let event = try JSONParser.parse(invocation.event)
        guard let format = EventAdapter.detect(event) else {
            throw RegistryError.badRequest("the event is not an API Gateway, Function URL or ALB request (RESOLVER_TYPE=\(configured.rawValue))")
        }
        if format.isV2 != configured.isV2 || (format == .alb) != (configured == .alb) {
            logger.warning(
                "event format differs from RESOLVER_TYPE; answering in the event's own format",
                metadata: ["event_format": "\(format.rawValue)", "resolver_type": "\(configured.rawValue)"]
            )
        }
        do {
            let decoded = try EventAdapter.decode(event, configured: configured)
            var request = decoded.request
            if request.requestID.isEmpty { request.requestID = invocation.requestID }
            let response = await api.respond(to: request, logger: logger)
            return EventAdapter.encode(response, as: decoded)
        } catch {
            let placeholder = DecodedEvent(
                request: APIRequest(method: "GET", path: "/"),
                format: format,
                multiValue: event["multiValueHeaders"] != nil
            )
            return EventAdapter.encode(.error(error), as: placeholder)
        }
    }
}
