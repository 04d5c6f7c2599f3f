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
    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical (env: LOG_LEVEL; default info).")
    var logLevel: String?

    @Option(help: "Log format: json (one object per line) or text (env: TFREG_LOG_FORMAT; default json).")
    var logFormat: String?

    static let level = Setting("--log-level", env: "LOG_LEVEL")
    static let format = Setting("--log-format", env: "TFREG_LOG_FORMAT")

    func bootstrap() {
        let level = Self.level.text(logLevel).flatMap { Logger.Level(rawValue: $0.value.lowercased()) } ?? .info
        LogSetup.bootstrap(format: Self.format.text(logFormat)?.value ?? "json", level: level)
    }
}
