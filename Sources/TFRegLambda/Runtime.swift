import Glibc
import Logging
import Synchronization
import TFRegAPI
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

/// One invocation handed out by the Lambda Runtime API's `next`.
public struct Invocation: Sendable {
    public let requestID: String
    public let deadlineMs: Int64
    public let functionARN: String
    public let traceID: String?
    public let event: [UInt8]

    public init(requestID: String, deadlineMs: Int64 = 0, functionARN: String = "", traceID: String? = nil, event: [UInt8]) {
        self.requestID = requestID
        self.deadlineMs = deadlineMs
        self.functionARN = functionARN
        self.traceID = traceID
        self.event = event
    }
}

public struct RuntimeAPIError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ d: String) { description = d }
}

/// The Lambda Runtime API (`/2018-06-01/runtime/…`), abstracted so the loop is tested without sockets.
public protocol LambdaRuntimeClient: Sendable {
    func next() async throws -> Invocation
    func respond(_ requestID: String, body: [UInt8]) async throws
    func fail(_ requestID: String, type: String, message: String) async throws
    func initFailure(type: String, message: String) async throws
}

/// The Runtime API over libcurl (`AWS_LAMBDA_RUNTIME_API` = host:port). `next` waits without a timeout.
public struct CurlRuntimeClient: LambdaRuntimeClient {
    let base: String
    let http: any HTTPClient

    public init(api: String, http: any HTTPClient = CurlHTTPClient()) {
        base = "http://\(api)/2018-06-01/runtime"
        self.http = http
    }

    public func next() async throws -> Invocation {
        let r = try await http.send(HTTPRequest(url: base + "/invocation/next", timeout: 0))
        guard r.status == 200, let id = r.header("lambda-runtime-aws-request-id"), !id.isEmpty else {
            throw RuntimeAPIError("runtime API next answered HTTP \(r.status)")
        }
        return Invocation(
            requestID: id,
            deadlineMs: r.header("lambda-runtime-deadline-ms").flatMap { Int64($0) } ?? 0,
            functionARN: r.header("lambda-runtime-invoked-function-arn") ?? "",
            traceID: r.header("lambda-runtime-trace-id"),
            event: r.body
        )
    }

    public func respond(_ requestID: String, body: [UInt8]) async throws {
        let r = try await http.send(
            HTTPRequest(
                method: "POST",
                url: base + "/invocation/\(requestID)/response",
                headers: [("Content-Type", "application/json")],
                body: body,
                timeout: 30
            )
        )
        guard (200..<300).contains(r.status) else {
            throw RuntimeAPIError("runtime API refused the response: HTTP \(r.status) \(r.bodyText.prefix(200))")
        }
    }

    public func fail(_ requestID: String, type: String, message: String) async throws {
        _ = try await http.send(
            HTTPRequest(
                method: "POST",
                url: base + "/invocation/\(requestID)/error",
                headers: [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", type)],
                body: Self.errorBody(type, message),
                timeout: 30
            )
        )
    }

    public func initFailure(type: String, message: String) async throws {
        _ = try await http.send(
            HTTPRequest(
                method: "POST",
                url: base + "/init/error",
                headers: [("Content-Type", "application/json"), ("Lambda-Runtime-Function-Error-Type", type)],
                body: Self.errorBody(type, message),
                timeout: 30
            )
        )
    }

    static func errorBody(_ type: String, _ message: String) -> [UInt8] {
        JSONValue.object([("errorMessage", .string(message)), ("errorType", .string(type))]).serialized()
    }
}

/// next → handle → response until the task is cancelled. Only the handler is inside the `do/catch`
/// that reports to `/error`: a handler that throws posts there and the loop goes on; a failure to talk
/// to the Runtime API (`next`, `response`, `error`) ends the loop, since that invocation cannot be
/// answered anyway and Lambda restarts the process. Tests stop it with a client whose `next` throws.
public enum LambdaLoop {
    static func microseconds(_ d: Duration) -> Int64 {
        d.components.seconds * 1_000_000 + d.components.attoseconds / 1_000_000_000_000
    }

    /// `metrics`: after each invocation, its CloudWatch Embedded Metric Format line on standard output
    /// (`EmbeddedMetricFormat`), where Lambda sends it to CloudWatch Logs, followed by what the
    /// backends reported to `backendMetrics` meanwhile (AWS calls by operation, cache lookups).
    public static func run(
        client: any LambdaRuntimeClient,
        logger: Logger,
        metrics: Bool = false,
        backendMetrics: InvocationMetrics? = nil,
        afterResponse: @Sendable (Logger) async -> Void = { _ in },
        handler: @Sendable (Invocation, Logger) async throws -> [UInt8]
    ) async throws {
        // What the cold start's setup called (credentials, checks) belongs to no invocation.
        _ = backendMetrics?.drain(timestampMilliseconds: 0)
        while !Task.isCancelled {
            let invocation = try await client.next()
            if let trace = invocation.traceID { setenv("_X_AMZN_TRACE_ID", trace, 1) } else { unsetenv("_X_AMZN_TRACE_ID") }
            var log = logger
            log[metadataKey: "request_id"] = "\(invocation.requestID)"
            // Debug log line per invocation: the handler's time and how much of it was spent in
            // HTTP calls (AWS), measured inside the process (the Runtime API exchange is not in it),
            // with the request as `RegistryAPI` observed it (`InvocationObservation`).
            let meter = HTTPCallMeter()
            let observed = InvocationObservation()
            let started = ContinuousClock.now
            let body: [UInt8]
            do {
                body = try await HTTPCallMeter.$current.withValue(meter) {
                    try await InvocationObservation.$current.withValue(observed) { try await handler(invocation, log) }
                }
            } catch {
                log.error("invocation failed", metadata: ["error": "\(error)"])
                try await client.fail(invocation.requestID, type: "Runtime.HandlerError", message: "the invocation failed; see the function's logs")
                _ = backendMetrics?.drain(timestampMilliseconds: 0)  // a failed invocation's calls are not the next one's
                continue
            }
            let handled = ContinuousClock.now - started
            try await client.respond(invocation.requestID, body: body)
            // The answer is sent: work here (a due download-count flush) adds nothing to its latency.
            await afterResponse(log)
            if metrics, let request = observed.observation {
                let now = SystemClock().now() * 1000
                var line = EmbeddedMetricFormat.line(request, awsCalls: meter.calls, timestampMilliseconds: now)
                if let backendMetrics { line += backendMetrics.drain(timestampMilliseconds: now) }
                _ = FileSystem.write(fd: 1, line)
            }
            if log.logLevel <= .debug {
                var metadata: Logger.Metadata = [
                    "handler_us": "\(Self.microseconds(handled))", "aws_calls": "\(meter.calls)", "aws_us": "\(Self.microseconds(meter.time))",
                ]
                if let request = observed.observation {
                    metadata.merge(InvocationObservation.metadata(request, invocation: invocation)) { a, _ in a }
                }
                log.debug("invocation", metadata: metadata)
            }
        }
    }
}

/// The request of one invocation as `RegistryAPI` observed it, for the loop's log line: the loop
/// binds one per invocation, and `InvocationObserver` (which `LambdaHandler` adds to its API) fills
/// it. So the Lambda transport's access line is the API's observation (route, status, principal)
/// with the invocation's own facts (handler time, AWS calls).
final class InvocationObservation: Sendable {
    @TaskLocal static var current: InvocationObservation?
    private let state = Mutex<RequestObservation?>(nil)

    var observation: RequestObservation? {
        get { state.withLock { $0 } }
        set { state.withLock { $0 = newValue } }
    }

    /// The access line's fields (`AccessLog.metadata`), its `request_id` the invocation's; the front
    /// end's id for the request, when it has one, as `api_request_id`.
    static func metadata(_ request: RequestObservation, invocation: Invocation) -> Logger.Metadata {
        var metadata = AccessLog.metadata(request)
        metadata["request_id"] = nil
        if request.requestID != invocation.requestID { metadata["api_request_id"] = "\(request.requestID)" }
        return metadata
    }
}

/// Hands each observation to the invocation's `InvocationObservation` (none bound: nothing to do).
struct InvocationObserver: RequestObserver {
    func requestFinished(_ observation: RequestObservation, logger: Logger) {
        InvocationObservation.current?.observation = observation
    }
}
