import TFRegJSON
import TFRegSystem

/// An AWS call that failed, classified so callers (and the HTTP edge) can react: a failed condition
/// is a conflict, throttling and 5xx are retried, a network failure means the backend is unavailable.
public struct AWSError: Error, Sendable, CustomStringConvertible, Equatable {
    public enum Kind: String, Sendable {
        case conditionalCheckFailed
        case notFound
        case accessDenied
        /// Bad or expired credentials or a signature the service rejected.
        case authentication
        case throttling
        case validation
        /// 5xx from the service.
        case serviceUnavailable
        /// Could not connect, timed out, TLS failure.
        case network
        /// A response that is not what the protocol promises (truncated, unparsable).
        case malformedResponse
        case other
    }

    public let kind: Kind
    /// The service's error code (`ConditionalCheckFailedException`, `NoSuchKey`, …) when there is one.
    public let code: String
    public let message: String
    public let status: Int

    public init(kind: Kind, code: String, message: String, status: Int) {
        self.kind = kind
        self.code = code
        self.message = message
        self.status = status
    }

    public var description: String { "AWS \(kind.rawValue) (\(code), HTTP \(status)): \(message)" }

    public static func == (a: Self, b: Self) -> Bool { a.kind == b.kind && a.code == b.code }

    /// A refusal that retrying cannot fix (credentials, permissions, a missing resource, a bad
    /// request): the caller's configuration is wrong. False for throttling, 5xx and network errors.
    public var isConfigurationProblem: Bool {
        switch kind {
        case .authentication, .accessDenied, .notFound, .validation: true
        case .other: (400..<500).contains(status)
        default: false
        }
    }

    /// What to check for this refusal, in the AWS CLI's words.
    public var advice: String {
        switch kind {
        case .authentication:
            "the AWS credentials were refused: check AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY or AWS_PROFILE, that a session token has not expired, and the clock"
        case .accessDenied: "the AWS identity lacks a permission for this call: check its IAM policy"
        case .notFound: "the resource does not exist: check its name and AWS_REGION"
        default: "the request was refused (HTTP \(status)): check the configuration"
        }
    }

    /// Whether the SDKs' "standard" retry mode retries this error.
    public var isRetryable: Bool {
        switch kind {
        case .throttling, .serviceUnavailable, .network: true
        default: ["RequestTimeout", "RequestTimeoutException", "PriorRequestNotComplete", "InternalError", "InternalFailure"].contains(code)
        }
    }

    static let throttlingCodes: Set<String> = [
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException", "TooManyRequestsException",
        "ProvisionedThroughputExceededException", "TransactionInProgressException", "RequestLimitExceeded",
        "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled", "SlowDown", "EC2ThrottledException",
    ]

    /// What cancelled a DynamoDB transaction, from its items' reasons
    /// (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html,
    /// "TransactionCanceledException"): a failed condition is a conflict; a conflicting transaction,
    /// throttling or exceeded capacity is throttling (retried, then 503); a validation error is one;
    /// an item collection over its size limit is a refusal; anything else (no reason given, a reason
    /// this code does not know) is the service's failure (503), never a conflict.
    static func cancellationKind(_ reasons: [String]) -> Kind {
        if reasons.contains("ConditionalCheckFailed") { return .conditionalCheckFailed }
        if reasons.contains("ValidationError") { return .validation }
        if reasons.contains(where: {
            ["TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded", "RequestLimitExceeded"].contains($0)
        }) {
            return .throttling
        }
        if reasons.contains("ItemCollectionSizeLimitExceeded") { return .other }
        return .serviceUnavailable
    }

    /// The `Code` of each entry of a `CancellationReasons` array (at most 100: a transaction's limit);
    /// empty for anything else.
    static func cancellationReasons(_ value: JSONValue?) -> [String] {
        guard case .array(let entries)? = value else { return [] }
        return entries.prefix(100).map { $0["Code"]?.stringValue ?? "None" }
    }

    /// The reasons a cancellation message lists: "… reasons [ConditionalCheckFailed, None]".
    static func reasonsListed(in message: String) -> [String] {
        guard let open = message.lastIndex(of: "["), let close = message[open...].firstIndex(of: "]") else { return [] }
        return message[message.index(after: open)..<close].split(separator: ",").prefix(100).map { $0.trimmingSpaces() }
    }

    static let authenticationCodes: Set<String> = [
        "SignatureDoesNotMatch", "InvalidClientTokenId", "UnrecognizedClientException", "InvalidAccessKeyId",
        "ExpiredToken", "ExpiredTokenException", "IncompleteSignature", "MissingAuthenticationToken",
        "InvalidSignatureException", "AuthFailure", "RequestExpired", "InvalidToken",
    ]

    /// Classifies an error response from its status and the code found in its body or headers.
    /// `reasons`: a DynamoDB `TransactionCanceledException`'s `CancellationReasons` codes, one per item
    /// (`cancellationReasons`); when the body has none, those its message lists are read instead.
    public static func classify(status: Int, code: String, message: String, reasons: [String] = []) -> AWSError {
        let kind: Kind
        if code == "TransactionCanceledException" {
            kind = cancellationKind(reasons.isEmpty ? reasonsListed(in: message) : reasons)
        } else if code == "ConditionalCheckFailedException" || code == "PreconditionFailed" {
            kind = .conditionalCheckFailed
        } else if throttlingCodes.contains(code) || status == 429 {
            kind = .throttling
        } else if authenticationCodes.contains(code) {
            kind = .authentication
        } else if code == "AccessDenied" || code == "AccessDeniedException" || code == "AccessDeniedException" || (status == 403 && code.isEmpty) {
            kind = .accessDenied
        } else if ["ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "NotFound", "NotFoundException"].contains(code)
            || (status == 404 && code.isEmpty)
        {
            kind = .notFound
        } else if code == "ValidationException" || code == "InvalidParameterValue" || code == "InvalidArgument" || code == "SerializationException" {
            kind = .validation
        } else if status >= 500 {
            kind = .serviceUnavailable
        } else if status == 401 {
            // A 4xx whose body said nothing usable is classified by its status: never "try again".
            kind = .authentication
        } else if status == 403 {
            kind = .accessDenied
        } else if status == 404 {
            kind = .notFound
        } else if status == 400 {
            kind = .validation
        } else {
            kind = .other
        }
        return AWSError(kind: kind, code: code, message: message, status: status)
    }
}
