#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// Finds a registry token the way Terraform does (PROTOCOL.md, "Terraform credentials"):
/// `TF_TOKEN_<host>` first, then `credentials "host" { token = "…" }` in the CLI config
/// (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`), then `~/.terraform.d/credentials.tfrc.json`.
enum TerraformCredentials {
    static func token(for host: String) -> String? {
        if let name = environmentVariableName(for: host), let t = Env.value(name) { return t }
        let configPath = Env.value("TF_CLI_CONFIG_FILE") ?? Env.home + "/.terraformrc"
        if let text = readText(configPath), let t = CLIConfigParser.credentials(in: text)[host.lowercased()] { return t }
        if let text = readText(Env.home + "/.terraform.d/credentials.tfrc.json"),
            let file = try? JSONDecoder().decode(CredentialsFile.self, from: Data(text.utf8)),
            let t = file.credentials.first(where: { $0.key.lowercased() == host.lowercased() })?.value.token
        {
            return t
        }
        return nil
    }

    private struct CredentialsFile: Decodable {
        struct Entry: Decodable { let token: String }
        let credentials: [String: Entry]
    }

    /// `TF_TOKEN_` + host with `.` → `_` and `-` → `__`. Nil for a host with a port (not expressible)
    /// or with characters Terraform cannot encode.
    static func environmentVariableName(for host: String) -> String? {
        guard !host.contains(":"), !host.isEmpty else { return nil }
        var out = "TF_TOKEN_"
        for c in host.lowercased() {
            switch c {
            case ".": out += "_"
            case "-": out += "__"
            case "a"..."z", "0"..."9": out.append(c)
            default: return nil
            }
        }
        return out
    }

    private static func readText(_ path: String) -> String? {
        guard let bytes = try? Data(contentsOf: URL(fileURLWithPath: path)) else { return nil }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Reads `credentials "HOST" { token = "…" }` blocks from a Terraform CLI config file (HCL). It
/// understands comments (`#`, `//`, `/* */`), quoted strings with escapes, and skips every other block.
enum CLIConfigParser {
    enum Token: Equatable {
        case ident(String), string(String), lbrace, rbrace, equals, other
    }

    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let c = Array(text.unicodeScalars)
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" { i += 1; continue }
            if ch == "#" || (ch == "/" && i + 1 < c.count && c[i + 1] == "/") {
                while i < c.count && c[i] != "\n" { i += 1 }
                continue
            }
            if ch == "/" && i + 1 < c.count && c[i + 1] == "*" {
                i += 2
                while i + 1 < c.count && !(c[i] == "*" && c[i + 1] == "/") { i += 1 }
                i += 2
                continue
            }
            if ch == "\"" {
                var s = ""
                i += 1
                while i < c.count && c[i] != "\"" {
                    if c[i] == "\\" && i + 1 < c.count {
                        i += 1
                        switch c[i] {
                        case "n": s += "\n"
                        case "t": s += "\t"
                        default: s.unicodeScalars.append(c[i])
                        }
                    } else {
                        s.unicodeScalars.append(c[i])
                    }
                    i += 1
                }
                i += 1
                tokens.append(.string(s))
                continue
            }
            if ch == "{" { tokens.append(.lbrace); i += 1; continue }
            if ch == "}" { tokens.append(.rbrace); i += 1; continue }
            if ch == "=" { tokens.append(.equals); i += 1; continue }
            if ch.properties.isAlphabetic || ch == "_" {
                var s = ""
                while i < c.count && (c[i].properties.isAlphabetic || c[i] == "_" || c[i] == "-" || ("0"..."9").contains(c[i])) {
                    s.unicodeScalars.append(c[i])
                    i += 1
                }
                tokens.append(.ident(s))
                continue
            }
            tokens.append(.other)
            i += 1
        }
        return tokens
    }

    /// host (lowercased) → token, from top-level `credentials` blocks.
    static func credentials(in text: String) -> [String: String] {
        let t = tokenize(text)
        var out: [String: String] = [:]
        var i = 0
        var depth = 0
        while i < t.count {
            switch t[i] {
            case .lbrace: depth += 1
            case .rbrace: depth -= 1
            case .ident("credentials") where depth == 0:
                if i + 2 < t.count, case .string(let host) = t[i + 1], t[i + 2] == .lbrace {
                    var j = i + 3
                    var inner = 1
                    while j < t.count && inner > 0 {
                        if t[j] == .lbrace { inner += 1 }
                        if t[j] == .rbrace { inner -= 1 }
                        if inner == 1, j + 2 < t.count, t[j] == .ident("token"), t[j + 1] == .equals, case .string(let token) = t[j + 2] {
                            out[host.lowercased()] = token
                        }
                        j += 1
                    }
                    i = j
                    continue
                }
            default: break
            }
            i += 1
        }
        return out
    }
}
