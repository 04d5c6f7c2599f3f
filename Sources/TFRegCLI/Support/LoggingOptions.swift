import ArgumentParser
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

#if canImport(Glibc)
import Glibc
#endif

struct LoggingOptions: ParsableArguments {
    static let levels = Logger.Level.allCases.map(\.rawValue)
    static let formats = ["json", "text"]

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env: LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "Log format: json (one object per line) or text (env: TFREG_LOG_FORMAT; default json).")
    var logFormat: String?

    /// The level and format from the flags, else the environment, else the defaults; a value that is not
    /// one of the known ones is an error naming the flag and the variable (never silently the default).
    func resolved() throws -> (level: Logger.Level, format: String) {
        let level = try Self.choice(logLevel, flag: "--log-level", env: "LOG_LEVEL", allowed: Self.levels) ?? "info"
        let format = try Self.choice(logFormat, flag: "--log-format", env: "TFREG_LOG_FORMAT", allowed: Self.formats) ?? "json"
        return (Logger.Level(rawValue: level) ?? .info, format)
    }

    /// `value` (the flag) or the variable, lowercased, when it is one of `allowed`.
    static func choice(_ value: String?, flag: String, env: String, allowed: [String]) throws -> String? {
        let given: String
        let origin: String
        if let value {
            given = value
            origin = "\(flag) \(value) (\(env))"
        } else if let v = Env.value(env) {
            given = v
            origin = "\(Env.source(env))=\(v) (\(flag))"
        } else {
            return nil
        }
        guard allowed.contains(given.lowercased()) else {
            throw ValidationError("\(origin.prefix(120)): expected one of \(allowed.joined(separator: ", "))")
        }
        return given.lowercased()
    }

    func bootstrap() throws {
        let (level, format) = try resolved()
        LogSetup.bootstrap(format: format, level: level)
    }
}
