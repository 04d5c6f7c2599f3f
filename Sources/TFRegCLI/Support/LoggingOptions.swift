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

    func bootstrap() {
        let level = (logLevel ?? Env.value("LOG_LEVEL")).flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        LogSetup.bootstrap(format: logFormat ?? Env.value("TFREG_LOG_FORMAT") ?? "json", level: level)
    }
}
