import Logging

/// Told about every request `RegistryAPI` answers, once its response is ready: the one observation
/// point for the access log line (`AccessLog`, added by each transport), and for metrics and audit.
/// Called on the request's task before the response is returned, so an observer must be quick: no
/// I/O of its own beyond a log line, nothing built when its output is filtered out.
public protocol RequestObserver: Sendable {
    /// `logger` is the one the transport passed to `RegistryAPI.respond` (its request metadata).
    func requestFinished(_ observation: RequestObservation, logger: Logger)
}
