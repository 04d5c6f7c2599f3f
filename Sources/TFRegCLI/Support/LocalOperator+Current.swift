import Glibc
import Logging
import TFRegCore
import TFRegSystem

extension LocalOperator {
    /// Whoever runs this process: the effective user's name from the password database (its uid when
    /// it has none) and the host name (`gethostname`), both cleaned by `LocalOperator`.
    static func current() -> LocalOperator {
        let uid = geteuid()
        let user = getpwuid(uid).flatMap { $0.pointee.pw_name.map { String(cString: $0) } } ?? "uid\(uid)"
        var buffer = [CChar](repeating: 0, count: 256)
        let named = gethostname(&buffer, buffer.count - 1) == 0
        let host = named ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return LocalOperator(user: user, host: host)
    }

    /// The logger for the change lines of a command run on the store (`RegistryService.changed`):
    /// at `LOG_LEVEL` when set, else `warning`, so a command's standard error stays its own messages;
    /// `LOG_LEVEL=info` shows each change with `by=local:USER@HOST`.
    static func changeLogger(_ label: String) -> Logger {
        var logger = Logger(label: label)
        logger.logLevel = Env.value("LOG_LEVEL").flatMap { Logger.Level(rawValue: $0.lowercased()) } ?? .warning
        return logger
    }
}
