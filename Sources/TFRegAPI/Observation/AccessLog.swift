import Logging
import TFRegCore

/// The access log line: one line per request with its id, method, raw path, route template, status,
/// duration and the caller's identity (never a token). Both transports add one to their
/// `RegistryAPI`; the metadata is only built when `level` passes the logger's level.
public struct AccessLog: RequestObserver {
    public let level: Logger.Level
    public let message: Logger.Message

    public init(level: Logger.Level = .info, message: Logger.Message = "request") {
        self.level = level
        self.message = message
    }

    public func requestFinished(_ o: RequestObservation, logger: Logger) {
        guard logger.logLevel <= level else { return }
        logger.log(level: level, message, metadata: Self.metadata(o))
    }

    /// The line's fields.
    public static func metadata(_ o: RequestObservation) -> Logger.Metadata {
        var metadata: Logger.Metadata = [
            "request_id": "\(o.requestID)", "method": "\(o.method)", "path": "\(o.path)", "route": "\(o.route)",
            "status": "\(o.status)", "duration_ms": "\(o.milliseconds)",
        ]
        if let principal = o.principal { metadata["principal"] = "\(principal.value)" }
        return metadata
    }
}
