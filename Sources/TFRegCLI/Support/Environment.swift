#if canImport(Glibc)
import Glibc
#endif

/// Process environment access in one place.
enum Env {
    static func value(_ name: String) -> String? {
        guard let v = getenv(name) else { return nil }
        let s = String(cString: v)
        return s.isEmpty ? nil : s
    }

    /// The whole environment (for the AWS configuration, which reads many variables).
    static var all: [String: String] {
        var out: [String: String] = [:]
        var p = environ
        while let entry = p.pointee {
            let s = String(cString: entry)
            if let eq = s.firstIndex(of: "=") { out[String(s[..<eq])] = String(s[s.index(after: eq)...]) }
            p += 1
        }
        return out
    }

    static var home: String { value("HOME") ?? "/" }

    /// `$XDG_DATA_HOME/tfreg`, else `~/.local/share/tfreg`.
    static var defaultDataDirectory: String {
        (value("XDG_DATA_HOME") ?? home + "/.local/share") + "/tfreg"
    }
}

/// One setting resolved as `flag → environment variable → default`, the order every command uses.
/// Its errors name both places (`--log-level (LOG_LEVEL)`), since either may hold the bad value; they
/// are configuration errors (exit 78). Generic over the value: callers pass the parse and the check.
struct Setting: Sendable {
    let flag: String
    let env: String

    init(_ flag: String, env: String) {
        self.flag = flag
        self.env = env
    }

    /// `--flag (VARIABLE)`, how messages name the setting.
    var label: String { "\(flag) (\(env))" }

    /// Where a value came from.
    enum Source: Sendable, Equatable { case flag, environment, defaultValue }

    /// The flag's text, else the variable's; nil when neither is set.
    func text(_ flagValue: String?) -> (value: String, source: Source)? {
        if let flagValue { return (flagValue, .flag) }
        if let v = Env.value(env) { return (v, .environment) }
        return nil
    }

    /// A value given as text in either place (`--log-format`): `parse` turns it into a value or nil,
    /// which fails naming both places and `expected`.
    func resolve<T>(text flagValue: String?, default value: T, expected: String, parse: (String) -> T?) throws(CLIError) -> T {
        guard let (raw, _) = text(flagValue) else { return value }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected) }
        return parsed
    }

    /// Optional: nil when neither place is set.
    func resolve<T>(text flagValue: String?, expected: String, parse: (String) -> T?) throws(CLIError) -> T? {
        guard let (raw, _) = text(flagValue) else { return nil }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected) }
        return parsed
    }

    /// A flag the parser has already typed (`--port 8443`), else the variable parsed by `parse`.
    func resolve<T>(_ flagValue: T?, default value: T, expected: String, parse: (String) -> T?) throws(CLIError) -> T {
        if let flagValue { return flagValue }
        guard let raw = Env.value(env) else { return value }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected) }
        return parsed
    }

    /// A whole number from the flag, else the variable, else `value`, within `range`.
    func integer<N: FixedWidthInteger & Sendable>(_ flagValue: N?, default value: N, range: ClosedRange<N>) throws(CLIError) -> N {
        let n = try resolve(flagValue, default: value, expected: "a whole number") { N($0) }
        guard range.contains(n) else { throw CLIError.configuration("\(label) must be \(range.lowerBound)...\(range.upperBound), got \(n)") }
        return n
    }

    /// The error for a value that does not parse, quoting (the start of) it.
    func invalid(_ raw: String, expected: String) -> CLIError {
        .configuration("\(label) must be \(expected), got '\(raw.prefix(80))'")
    }
}

/// Writes to standard error.
func printError(_ message: String) {
    var line = message
    if !line.hasSuffix("\n") { line += "\n" }
    writeStandardError(Array(line.utf8))
}

/// Writes bytes to file descriptor 2 (unbuffered, so log lines never interleave mid-line).
func writeStandardError(_ bytes: [UInt8]) { writeAll(2, bytes) }

/// Writes bytes to file descriptor 1, whole lines at a time (Lambda's log lines).
func writeStandardOutput(_ bytes: [UInt8]) { writeAll(1, bytes) }

private func writeAll(_ fd: Int32, _ bytes: [UInt8]) {
    bytes.withUnsafeBytes { buf in
        var off = 0
        while off < buf.count {
            let n = write(fd, buf.baseAddress! + off, buf.count - off)
            if n <= 0 { return }
            off += n
        }
    }
}
