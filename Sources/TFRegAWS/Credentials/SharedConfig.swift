import TFRegSystem

/// The AWS CLI's shared files: `~/.aws/credentials` (`[name]` sections) and `~/.aws/config`
/// (`[profile name]`, `[default]`, `[sso-session name]`), located by `AWS_SHARED_CREDENTIALS_FILE`
/// and `AWS_CONFIG_FILE`. Keys are case-insensitive; `#` and `;` start comments; lines, keys and values
/// are trimmed as Python's `str.strip()` trims them (configparser, the AWS CLI's reader): all Unicode
/// white space and U+001C–U+001F, not only spaces and tabs (`trimmingPythonSpace`). Section names
/// keep their space-and-tab trimming.
/// Values from the credentials file win over the config file for the same profile.
public struct SharedConfig: Sendable {
    public var profiles: [String: [String: String]]
    public var ssoSessions: [String: [String: String]]

    public init(profiles: [String: [String: String]] = [:], ssoSessions: [String: [String: String]] = [:]) {
        self.profiles = profiles
        self.ssoSessions = ssoSessions
    }

    /// Parses INI text. `isConfigFile` selects the `[profile name]` convention.
    public static func parse(_ text: String, isConfigFile: Bool) -> SharedConfig {
        var result = SharedConfig()
        var section: (kind: Int, name: String)?  // kind 0 = profile, 1 = sso-session, 2 = ignored
        var lastKey: String?
        var lastIndent = 0
        // Lines end at \n, \r\n or a lone \r, as Python's universal newlines (the AWS CLI's reader) end
        // them: a CR inside a line must not become part of a key (found by Fuzz/aws-config).
        for rawLine in text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            let line = Substring(rawLine)
            let trimmed = line.trimmingPythonSpace()
            if trimmed.isEmpty || trimmed.hasPrefix("#") || trimmed.hasPrefix(";") { continue }
            if trimmed.hasPrefix("[") {
                lastKey = nil
                guard let close = trimmed.firstIndex(of: "]") else {
                    section = nil
                    continue
                }
                let name = trimmed[trimmed.index(after: trimmed.startIndex)..<close].trimmingSpaces()
                if isConfigFile {
                    if name == "default" {
                        section = (0, "default")
                    } else if name.hasPrefix("profile ") {
                        section = (0, String(name.dropFirst(8)).trimmingSpaces())
                    } else if name.hasPrefix("sso-session ") {
                        section = (1, String(name.dropFirst(12)).trimmingSpaces())
                    } else {
                        section = (2, name)
                    }
                } else {
                    section = (0, name)
                }
                continue
            }
            guard let s = section, s.kind != 2 else { continue }
            // A line indented deeper than the last key's line continues its nested block (e.g. s3 = ...);
            // its key is kept as "parent.key". configparser's rule: indentation relative to that line,
            // measured in Python white space (a leading VT indents).
            let indent = line.unicodeScalars.prefix(while: \.isPythonSpace).count
            guard let eq = trimmed.firstIndex(of: "=") else { continue }
            var key = trimmed[..<eq].trimmingPythonSpace().lowercased()
            var value = trimmed[trimmed.index(after: eq)...].trimmingPythonSpace()
            if let hash = value.firstRange(of: " #") ?? value.firstRange(of: " ;") { value = String(value[..<hash.lowerBound]).trimmingPythonSpace() }
            if let parent = lastKey, indent > lastIndent {
                key = parent + "." + key
            } else {
                lastKey = key
                lastIndent = indent
            }
            if s.kind == 0 { result.profiles[s.name, default: [:]][key] = value } else { result.ssoSessions[s.name, default: [:]][key] = value }
        }
        return result
    }

    /// Config file first, credentials file on top.
    public static func merged(config: String?, credentials: String?) -> SharedConfig {
        var result = config.map { parse($0, isConfigFile: true) } ?? SharedConfig()
        if let credentials {
            for (name, values) in parse(credentials, isConfigFile: false).profiles {
                result.profiles[name, default: [:]].merge(values) { _, new in new }
            }
        }
        return result
    }
}
