import Logging
import Synchronization

/// A log handler that records every entry (message and metadata as strings), for tests that check
/// what a line says (the access line, the Lambda invocation line).
public final class LogLines: LogHandler, @unchecked Sendable {
    let store = Mutex<[(message: String, metadata: [String: String])]>([])
    public var entries: [(message: String, metadata: [String: String])] { store.withLock { $0 } }
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .trace

    public init() {}

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var all = metadata.mapValues { "\($0)" }
        for (k, v) in event.metadata ?? [:] { all[k] = "\(v)" }
        store.withLock { $0.append((event.message.description, all)) }
    }
}
