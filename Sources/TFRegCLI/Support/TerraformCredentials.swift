#if canImport(FoundationEssentials)
import FoundationEssentials
import TFRegSystem
#endif

/// Finds a registry token the way Terraform does (Terraform CLI configuration, "Credentials"):
/// `TF_TOKEN_<host>` first, then `credentials "host" { token = "…" }` in the CLI config
/// (`TF_CLI_CONFIG_FILE`, else `~/.terraformrc`), then `~/.terraform.d/credentials.tfrc.json`.
enum TerraformCredentials {
    static func token(for host: String) -> String? {
        if let name = environmentVariableName(for: host), let t = Env.value(name) { return t }
        let configPath = Env.value("TF_CLI_CONFIG_FILE") ?? Env.home + "/.terraformrc"
        if let text = FileSystem.readText(configPath), let t = CLIConfigParser.credentials(in: text)[host.lowercased()] { return t }
        if let text = FileSystem.readText(Env.home + "/.terraform.d/credentials.tfrc.json"),
            let file = try? JSONDecoder().decode(CredentialsTfrcJSON.self, from: Data(text.utf8)),
            let t = file.credentials.first(where: { $0.key.lowercased() == host.lowercased() })?.value.token
        {
            return t
        }
        return nil
    }

    private struct CredentialsTfrcJSON: Decodable {
        struct Entry: Decodable { let token: String }
        let credentials: [String: Entry]
    }

    /// `TF_TOKEN_` + host with `.` → `_` and `-` → `__`. Nil for a host with a port (not expressible)
    /// or with characters Terraform cannot encode.
    /// Non-ASCII labels are written in punycode first (`münchen` → `xn--mnchen-3ya`), as Terraform
    /// compares hosts in their IDNA ASCII form.
    static func environmentVariableName(for host: String) -> String? {
        guard !host.contains(":"), !host.isEmpty else { return nil }
        var labels: [String] = []
        for label in host.lowercased().split(separator: ".", omittingEmptySubsequences: false) {
            if label.unicodeScalars.allSatisfy(\.isASCII) {
                labels.append(String(label))
                continue
            }
            guard let encoded = Punycode.encode(String(label)) else { return nil }
            labels.append("xn--" + encoded)
        }
        let ascii = labels.joined(separator: ".")
        var out = "TF_TOKEN_"
        for c in ascii {
            switch c {
            case ".": out += "_"
            case "-": out += "__"
            case "a"..."z", "0"..."9": out.append(c)
            default: return nil
            }
        }
        return out
    }
}

/// Reads `credentials "HOST" { token = "…" }` blocks from a Terraform CLI config file (HCL). It
/// understands comments (`#`, `//`, `/* */`), quoted strings with escapes, and skips every other block.
enum CLIConfigParser {
    enum Token: Equatable {
        case ident(String)
        case string(String)
        case lbrace, rbrace, equals, other
    }

    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        let c = Array(text.unicodeScalars)
        var i = 0
        while i < c.count {
            let ch = c[i]
            if ch == " " || ch == "\t" || ch == "\n" || ch == "\r" {
                i += 1
                continue
            }
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
            if ch == "{" {
                tokens.append(.lbrace)
                i += 1
                continue
            }
            if ch == "}" {
                tokens.append(.rbrace)
                i += 1
                continue
            }
            if ch == "=" {
                tokens.append(.equals)
                i += 1
                continue
            }
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

/// RFC 3492 punycode encoding of one label (the part after `xn--`); nil when the arithmetic would
/// overflow (§6.4), which a long label with high code points does. Hosts are input (the credential
/// helper gets them from Terraform), so nothing here may trap.
enum Punycode {
    static func encode(_ label: String) -> String? {
        let input = label.unicodeScalars.map(\.value)
        let base: UInt32 = 36
        let tmin: UInt32 = 1
        let tmax: UInt32 = 26
        let skew: UInt32 = 38
        let damp: UInt32 = 700
        // d < 36: 'a'…'z' then '0'…'9'.
        func digit(_ d: UInt32) -> Character { Character(Unicode.Scalar(UInt8(truncatingIfNeeded: d < 26 ? d + 97 : d + 22))) }
        func adapt(_ d: UInt32, _ points: UInt32, _ first: Bool) -> UInt32 {
            var delta = first ? d / damp : d / 2
            delta += delta / points  // delta ≤ d/2 and points ≥ 1: no overflow
            var k: UInt32 = 0
            while delta > ((base - tmin) * tmax) / 2 {
                delta /= base - tmin
                k += base
            }
            return k + (((base - tmin + 1) * delta) / (delta + skew))
        }
        func add(_ a: UInt32, _ b: UInt32) -> UInt32? {
            let (r, o) = a.addingReportingOverflow(b)
            return o ? nil : r
        }
        guard let count = UInt32(exactly: input.count) else { return nil }
        var out = String(String.UnicodeScalarView(input.filter { $0 < 0x80 }.compactMap(Unicode.Scalar.init)))
        let b = UInt32(truncatingIfNeeded: out.unicodeScalars.count)  // ≤ count
        var h = b
        if b > 0 { out.append("-") }
        var n: UInt32 = 128
        var delta: UInt32 = 0
        var bias: UInt32 = 72
        while h < count {
            guard let m = input.filter({ $0 >= n }).min() else { return nil }  // h < count: one is left
            let (step, o) = (m - n).multipliedReportingOverflow(by: h + 1)
            guard !o, let d = add(delta, step) else { return nil }
            delta = d
            n = m
            for c in input {
                if c < n {
                    guard let d = add(delta, 1) else { return nil }
                    delta = d
                }
                if c == n {
                    var q = delta
                    var k = base
                    while true {
                        let t = k <= bias ? tmin : (k >= bias + tmax ? tmax : k - bias)
                        if q < t { break }
                        out.append(digit(t + (q - t) % (base - t)))
                        q = (q - t) / (base - t)
                        guard let next = add(k, base) else { return nil }
                        k = next
                    }
                    out.append(digit(q))
                    bias = adapt(delta, h + 1, h == b)
                    delta = 0
                    h += 1
                }
            }
            guard let d = add(delta, 1), let next = add(n, 1) else { return nil }
            delta = d
            n = next
        }
        return out
    }
}
