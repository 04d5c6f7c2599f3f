import Glibc
import Logging
import TFRegAPI
import TFRegCore
import TFRegJSON
import TFRegSystem

/// One JSON object per line on standard error: `time`, `level`, `message`, `label`, then metadata.
/// Never given tokens or keys: call sites log identifiers, never credentials.
struct JSONLogHandler: LogHandler {
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    let label: String
    /// Lambda reads JSON log lines from standard output.
    var toStandardOutput = false

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var fields: [(String, JSONValue)] = [
            ("time", .string(rfc3339(SystemClock().now()))), ("level", .string(event.level.rawValue)),
            ("message", .string(event.message.description)), ("label", .string(label)),
        ]
        let merged = metadata.merging(event.metadata ?? [:]) { _, new in new }
        for key in merged.keys.sorted() { fields.append((key, .string(merged[key]!.description))) }
        var bytes = JSONValue.object(fields).serialized()
        bytes.append(10)
        if toStandardOutput { writeStandardOutput(bytes) } else { writeStandardError(bytes) }
    }
}

enum LogSetup {
    /// Bootstraps logging once per process: JSON lines (default) or swift-log's text format.
    static func bootstrap(format: String, level: Logger.Level, standardOutput: Bool = false) {
        LoggingSystem.bootstrap { label in
            if format == "text" {
                var h = StreamLogHandler.standardError(label: label)
                h.logLevel = level
                return h
            }
            var h = JSONLogHandler(label: label)
            h.logLevel = level
            h.toStandardOutput = standardOutput
            return h
        }
    }
}
