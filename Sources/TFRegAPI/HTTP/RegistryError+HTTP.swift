import TFRegCore

/// The one place where error codes become HTTP statuses.
extension RegistryError.Code {
    public var httpStatus: Int {
        switch self {
        case .badRequest: 400
        case .unauthenticated: 401
        case .forbidden: 403
        case .notFound: 404
        case .methodNotAllowed: 405
        case .conflict: 409
        case .payloadTooLarge: 413
        case .requestTimeout: 408
        case .unsupportedMediaType: 415
        case .unprocessable: 422
        case .unavailable: 503
        case .tooManyRequests: 429
        case .upstreamMismatch: 502
        case .misconfigured: 500
        case .internalError: 500
        }
    }
}

extension APIResponse {
    /// `{"errors": ["…"]}` with the status for the error's code.
    public static func error(_ e: RegistryError) -> APIResponse {
        var headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        if e.code == .unauthenticated { headers.append(("WWW-Authenticate", "Bearer realm=\"tfreg\"")) }
        if e.code == .unavailable { headers.append(("Retry-After", "5")) }
        if e.code == .tooManyRequests { headers.append(("Retry-After", "60")) }
        return APIResponse(status: e.code.httpStatus, headers: headers, body: .bytes(JSONWriter.errors([e.message])))
    }

    public static func json(_ status: Int, _ bytes: [UInt8], headers: [(name: String, value: String)] = []) -> APIResponse {
        APIResponse(status: status, headers: [("Content-Type", "application/json")] + headers, body: .bytes(bytes))
    }
}
