import TFRegCore

/// One finished request as `RegistryAPI` saw it: what every observer (the access log line, and
/// later metrics and audit) is given. It names the caller by identity only: never a token.
public struct RequestObservation: Sendable {
    /// What `route` stands for when no route matched (404, a malformed path).
    public static let unmatched = "unmatched"

    /// The route's template (`/v1/modules/{namespace}/{name}/{system}/versions`), or `unmatched`:
    /// the label for metrics, never the raw path.
    public var route: String
    /// The method as the client sent it.
    public var method: String
    /// The raw path as the client sent it (still percent-encoded), for the access log.
    public var path: String
    public var status: Int
    /// From the request reaching `RegistryAPI` to its response being ready (a streamed file body is
    /// sent after this).
    public var duration: Duration
    /// Who the caller was, once authenticated (a bearer token, or IAM credentials exchanged at
    /// `/token`); nil for public routes and for requests refused before.
    public var principal: Identity?
    public var requestID: String

    public init(
        route: String,
        method: String,
        path: String,
        status: Int,
        duration: Duration,
        principal: Identity?,
        requestID: String
    ) {
        self.route = route
        self.method = method
        self.path = path
        self.status = status
        self.duration = duration
        self.principal = principal
        self.requestID = requestID
    }

    /// The duration in milliseconds with microsecond resolution, as log lines write it.
    public var milliseconds: Double {
        Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds / 1_000_000_000_000) / 1000
    }
}
