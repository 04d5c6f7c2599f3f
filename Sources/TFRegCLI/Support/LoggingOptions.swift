import ArgumentParser
import Glibc
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal

struct LoggingOptions: ParsableArguments {
    static let levels = Logger.Level.allCases.map(\.rawValue)
    static let formats = ["json", "text"]

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env: LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "Log format: json (one object per line) or text (env: TFREG_LOG_FORMAT; default json).")
    var logFormat: String?

    static let level = Setting("--log-level", env: "LOG_LEVEL")
    static let format = Setting("--log-format", env: "TFREG_LOG_FORMAT")

    /// The level and format from the flags, else the environment, else the defaults; a value that is not
    /// one of the known ones is a configuration error naming the flag and the variable (never silently
    /// the default).
    func resolved() throws(CLIError) -> (level: Logger.Level, format: String) {
        let level = try Self.choice(Self.level, logLevel, allowed: Self.levels) ?? "info"
        let format = try Self.choice(Self.format, logFormat, allowed: Self.formats) ?? "json"
        return (Logger.Level(rawValue: level) ?? .info, format)
    }

    /// The flag's value or the variable's, lowercased, when it is one of `allowed`.
    static func choice(_ setting: Setting, _ value: String?, allowed: [String]) throws(CLIError) -> String? {
        try setting.resolve(text: value, expected: "one of \(allowed.joined(separator: ", "))") {
            allowed.contains($0.lowercased()) ? $0.lowercased() : nil
        }
    }

    func bootstrap() throws {
        let (level, format) = try resolved()
        LogSetup.bootstrap(format: format, level: level)
    }
}
