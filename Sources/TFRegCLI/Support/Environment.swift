import Glibc
import TFRegStoreLocal
import TFRegSystem

/// Process environment access in one place, with the Debian package's environment file underneath.
enum Env {
    /// The variable from the process environment, else from the service's environment file
    /// (`EnvironmentFile.path`, read only where `EnvironmentFile.applies`); empty counts as unset.
    static func value(_ name: String) -> String? {
        if let v = getenv(name) {
            let s = String(cString: v)
            return s.isEmpty ? nil : s
        }
        guard let s = EnvironmentFile.values[name], !s.isEmpty else { return nil }
        return s
    }

    /// Where `value(name)` came from, for messages: the variable's name, with the file when it was read there.
    static func source(_ name: String) -> String {
        if getenv(name) == nil, EnvironmentFile.values[name] != nil { return "\(name) in \(EnvironmentFile.path)" }
        return name
    }

    /// The whole environment (for the AWS configuration, which reads many variables): the environment
    /// file's variables, overridden by the process's own.
    static var all: [String: String] {
        var out = EnvironmentFile.values
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

/// The Debian package's `/etc/tfreg/tfreg.env` (systemd `EnvironmentFile=` syntax), so that the CLI run
/// by root or by the service user (`sudo -u tfreg tfreg grant …`) finds the service's store. Read only
/// when it exists, is owned by root (or the caller) and is neither group- nor world-writable; the process
/// environment and explicit flags win over it. `TFREG_ENV_FILE` names another file (tests, other layouts).
enum EnvironmentFile {
    static let defaultPath = "/etc/tfreg/tfreg.env"
    static let serviceUser = "tfreg"

    static var path: String {
        if let p = getenv("TFREG_ENV_FILE") { return String(cString: p) }
        return defaultPath
    }

    /// Read once per process.
    static let values: [String: String] = load()

    /// Root and the service user read the file; anyone else is not running the service's CLI.
    static var applies: Bool {
        let uid = geteuid()
        if uid == 0 { return true }
        guard let pw = getpwuid(uid), let name = pw.pointee.pw_name else { return false }
        return String(cString: name) == serviceUser
    }

    private static func load() -> [String: String] {
        let path = self.path
        guard !path.isEmpty, applies else { return [:] }
        // The file and its directory: whoever could write either could choose the data directory.
        let trust = FileSystem.Trust(otherOwners: [0], forbiddenMode: 0o022)
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let bytes: [UInt8]?
        do {
            guard try trust.check(directory, kind: .directory, followingLink: true) else { return [:] }
            bytes = try trust.read(path, limit: 1 << 20)
        } catch {
            printError("warning: ignoring \(path): it and its directory must be owned by root and not group- or world-writable (\(error))")
            return [:]
        }
        guard let bytes else { return [:] }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// `KEY=VALUE` lines; blank lines and `#`/`;` comments skipped; an optional `export `; one pair of
    /// surrounding single or double quotes removed (systemd.exec(5), EnvironmentFile=).
    static func parse(_ text: String) -> [String: String] {
        var out: [String: String] = [:]
        for raw in text.split(omittingEmptySubsequences: true, whereSeparator: \.isNewline) {
            var line = raw.drop { $0 == " " || $0 == "\t" }
            guard let first = line.first, first != "#", first != ";" else { continue }
            if line.hasPrefix("export ") { line = line.dropFirst(7) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = String(line[..<eq]).trimmingSpaces()
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = String(line[line.index(after: eq)...]).trimmingSpaces()
            if value.count >= 2, let q = value.first, q == "\"" || q == "'", value.last == q {
                value = String(value.dropFirst().dropLast())
            }
            out[key] = value
        }
        return out
    }
}

/// One setting resolved as `flag → environment variable → default`, the order every command uses.
/// Its errors name both places (`--log-level (LOG_LEVEL)`), since either may hold the bad value. A bad
/// value typed on the command line is a usage error (exit 64: fix the command line); one from the
/// environment or the service's environment file is a configuration error (exit 78: fix the setup).
/// Generic over the value: callers pass the parse and the check.
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
        guard let (raw, source) = text(flagValue) else { return value }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected, source: source) }
        return parsed
    }

    /// Optional: nil when neither place is set.
    func resolve<T>(text flagValue: String?, expected: String, parse: (String) -> T?) throws(CLIError) -> T? {
        guard let (raw, source) = text(flagValue) else { return nil }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected, source: source) }
        return parsed
    }

    /// A flag the parser has already typed (`--port 8443`), else the variable parsed by `parse`.
    func resolve<T>(_ flagValue: T?, default value: T, expected: String, parse: (String) -> T?) throws(CLIError) -> T {
        if let flagValue { return flagValue }
        guard let raw = Env.value(env) else { return value }
        guard let parsed = parse(raw) else { throw invalid(raw, expected: expected, source: .environment) }
        return parsed
    }

    /// A whole number from the flag, else the variable, else `value`, within `range`.
    func integer<N: FixedWidthInteger & Sendable>(_ flagValue: N?, default value: N, range: ClosedRange<N>) throws(CLIError) -> N {
        let n = try resolve(flagValue, default: value, expected: "a whole number") { N($0) }
        guard range.contains(n) else {
            throw error("\(label) must be \(range.lowerBound)...\(range.upperBound), got \(n)", source: flagValue == nil ? .environment : .flag)
        }
        return n
    }

    /// The error for a value that does not parse, quoting (the start of) it.
    func invalid(_ raw: String, expected: String, source: Source) -> CLIError {
        error("\(label) must be \(expected), got '\(raw.prefix(80))'", source: source)
    }

    /// A bad value's error: usage when it was typed as the flag, configuration when it came from the
    /// environment (README "Exit codes").
    func error(_ message: String, source: Source) -> CLIError {
        source == .flag ? .usage(message) : .configuration(message)
    }
}

/// Writes to standard error.
func printError(_ message: String) {
    var line = message
    if !line.hasSuffix("\n") { line += "\n" }
    writeStandardError(Array(line.utf8))
}

/// Writes bytes to file descriptor 2 (unbuffered, so log lines never interleave mid-line).
func writeStandardError(_ bytes: [UInt8]) { FileSystem.write(fd: 2, bytes) }

/// Writes bytes to file descriptor 1, whole lines at a time (Lambda's log lines).
func writeStandardOutput(_ bytes: [UInt8]) { FileSystem.write(fd: 1, bytes) }
