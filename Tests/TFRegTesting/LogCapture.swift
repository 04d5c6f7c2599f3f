import Logging
import Synchronization

/// Log lines kept in memory, for tests of what code logs: e.g. that every state change names its
/// principal (`by`). `logger()` makes a `Logger` writing here at every level; the process's
/// `LoggingSystem` is left alone.
public final class LogCapture: Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    private let lines = Mutex<[Line]>([])

    public init() {}

    public var all: [Line] { lines.withLock { $0 } }

    /// The lines whose message is `message`.
    public func lines(_ message: String) -> [Line] { all.filter { $0.message == message } }

    public func logger(label: String = "test") -> Logger {
        Logger(label: label) { _ in Handler(capture: self) }
    }

    func append(_ line: Line) { lines.withLock { $0.append(line) } }

    struct Handler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            var all = metadata.mapValues { "\($0)" }
            for (k, v) in event.metadata ?? [:] { all[k] = "\(v)" }
            capture.append(Line(level: event.level, message: event.message.description, metadata: all))
        }
    }
}
