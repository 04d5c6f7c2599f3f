/// The one error type the registry core throws. Its `code` decides the HTTP status (mapped in exactly
/// one place, `TFRegAPI`); its `message` is safe to show a client. Internal details go to `detail`,
/// which is logged but never sent.
public struct RegistryError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable, CaseIterable {
        case badRequest
        case unauthenticated
        case forbidden
        case notFound
        case methodNotAllowed
        case conflict
        case payloadTooLarge
        /// The request (its body) did not arrive in time: 408.
        case requestTimeout
        case unsupportedMediaType
        case unprocessable
        case unavailable
        /// One caller used up its share of a bounded resource (token exchanges of one AWS account):
        /// 429, for that caller only.
        case tooManyRequests
        /// An object the registry depends on but does not own (a user's bucket) is not what was
        /// registered: 502, never served.
        case upstreamMismatch
        /// A backend refused the registry's own request (credentials, permissions, a missing table or
        /// bucket): retrying cannot help; the operator must fix the configuration. 500 for clients,
        /// the full explanation in `detail` (logged; printed by the CLI on the operator's machine).
        case misconfigured
        case internalError
    }

    public let code: Code
    public let message: String
    /// Internal cause, for logs only.
    public let detail: String?
    public let file: String
    public let line: Int

    public init(_ code: Code, _ message: String, detail: String? = nil, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.detail = detail
        self.file = file
        self.line = line
    }

    public var description: String {
        var s = "\(code.rawValue): \(message)"
        if let detail { s += " (\(detail))" }
        return s + " [\(file):\(line)]"
    }

    public static func badRequest(_ m: String, file: String = #fileID, line: Int = #line) -> Self { .init(.badRequest, m, file: file, line: line) }
    public static func notFound(_ m: String, file: String = #fileID, line: Int = #line) -> Self { .init(.notFound, m, file: file, line: line) }
    public static func forbidden(_ m: String, file: String = #fileID, line: Int = #line) -> Self { .init(.forbidden, m, file: file, line: line) }
    public static func unauthenticated(_ m: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.unauthenticated, m, file: file, line: line)
    }
    public static func conflict(_ m: String, file: String = #fileID, line: Int = #line) -> Self { .init(.conflict, m, file: file, line: line) }
    /// A backend (database, storage) could not be reached or failed: 503, the cause logged only.
    public static func unavailable(_ what: String, detail: String?, file: String = #fileID, line: Int = #line) -> Self {
        .init(.unavailable, "\(what) is unavailable, try again later", detail: detail, file: file, line: line)
    }
    /// A backend refused the registry's own call: the client sees that the registry is misconfigured,
    /// the operator (log, CLI) sees `explanation`.
    public static func misconfigured(_ what: String, explanation: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(
            .misconfigured,
            "\(what) refused the registry's request: the registry is misconfigured (see its log)",
            detail: explanation,
            file: file,
            line: line
        )
    }

    public static func internalError(_ detail: String, file: String = #fileID, line: Int = #line) -> Self {
        .init(.internalError, "internal error", detail: detail, file: file, line: line)
    }
}

extension RegistryError: Equatable {
    /// Equality on the code only, which keeps tests about behaviour rather than wording.
    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
}
