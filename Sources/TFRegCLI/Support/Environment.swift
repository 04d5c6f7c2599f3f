#if canImport(Glibc)
import Glibc
import TFRegSystem
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
