import Foundation
import Testing

/// The CLI's conventions, checked on the real binary: exit codes by kind, what is printed with an
/// error, names, help, version, completions, and the README's command lines.
@Suite struct CLIConventionTests {
    func tfreg(_ args: [String], env: [String: String] = [:]) throws -> CommandResult {
        let home = makeTemporaryDirectory("tfreg-cli-home")
        return try runCommand(TFRegBinary.path, args, env: ["HOME": home].merging(env) { $1 })
    }

    // MARK: unknown commands

    @Test func helpForAnUnknownCommandIsAUsageError() throws {
        let r = try tfreg(["help", "bogus"])
        #expect(r.status == 64, "\(r.stdout)\(r.stderr)")
        #expect(r.stderr.contains("unknown command 'bogus'"), "\(r.stderr)")
    }

    @Test func aMistypedSubcommandGetsASuggestion() throws {
        let r = try tfreg(["pubish", "dir"])
        #expect(r.status == 64)
        #expect(r.stderr.contains("unknown command 'pubish'") && r.stderr.contains("did you mean 'publish'?"), "\(r.stderr)")
        let g = try tfreg(["gran", "list"])
        #expect(g.status == 64 && g.stderr.contains("did you mean 'grant'?"), "\(g.stderr)")
    }

    // MARK: what an error prints, and its exit code

    @Test func aConfigurationErrorPrintsOnlyTheErrorAndExits78() throws {
        let r = try tfreg(["serve", "--check-config"], env: ["TFREG_PORT": "eighty"])
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderr.contains("--port (TFREG_PORT) must be a whole number, got 'eighty'"), "\(r.stderr)")
        #expect(!r.stderr.contains("Usage:"), "\(r.stderr)")
        let range = try tfreg(["serve", "--check-config"], env: ["TFREG_IDLE_TIMEOUT": "0"])
        #expect(range.status == 78 && range.stderr.contains("--idle-timeout (TFREG_IDLE_TIMEOUT) must be 1...3600, got 0"), "\(range.stderr)")
        // The same value typed as the flag is a usage error (README "Exit codes").
        let typed = try tfreg(["serve", "--check-config", "--idle-timeout", "0"])
        #expect(typed.status == 64 && typed.stderr.contains("--idle-timeout (TFREG_IDLE_TIMEOUT) must be 1...3600, got 0"), "\(typed.stderr)")
    }

    @Test func aMissingCredentialIsDeniedNotUsage() throws {
        let dir = makeTemporaryDirectory("tfreg-cli-mod")
        try writeModule(at: dir, version: "1.0.0")
        let r = try tfreg([
            "publish", dir, "--registry", "127.0.0.1:9", "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "1.0.0",
        ])
        #expect(r.status == 77, "\(r.stderr)")
        #expect(r.stderr.contains("Error: no token for 127.0.0.1:9"), "\(r.stderr)")
        #expect(!r.stderr.contains("Usage:"), "\(r.stderr)")
    }

    @Test func aUsageErrorFoundWhileRunningShowsTheSubcommandsUsage() throws {
        let dir = makeTemporaryDirectory("tfreg-cli-mod")
        try writeModule(at: dir, version: "1.0.0")
        let r = try tfreg([
            "publish", dir, "--registry", "127.0.0.1:9", "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "1.0.0",
            "--archive-file", dir + "/x.tgz",
        ])
        #expect(r.status == 64, "\(r.stderr)")
        #expect(r.stderr.contains("Error: --archive-file needs --dry-run"), "\(r.stderr)")
        #expect(r.stderr.contains("Usage: tfreg publish") && !r.stderr.contains("tfreg <subcommand>"), "\(r.stderr)")
    }

    @Test func anUnreachableRegistryIsUnavailable() throws {
        let dir = makeTemporaryDirectory("tfreg-cli-mod")
        try writeModule(at: dir, version: "1.0.0")
        let r = try tfreg(
            ["publish", dir, "--registry", "127.0.0.1:9", "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "1.0.0"],
            env: ["TFREG_TOKEN": "tfr_x"]
        )
        #expect(r.status == 69, "\(r.stderr)")
        #expect(!r.stderr.contains("Usage:"), "\(r.stderr)")
    }

    @Test(.timeLimit(.minutes(2))) func registryAnswersMapToKinds() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let target = ["--registry", server.host, "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "9.9.9", "--yes"]
        let missing = try server.tfreg(["delete"] + target + ["--token", rw])
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(missing.stderr.contains("HTTP 404"), "\(missing.stderr)")
        let refused = try server.tfreg(["delete"] + target + ["--token", "tfr_not-a-real-token"])
        #expect(refused.status == 77, "\(refused.stderr)")
        // grant show over the API (the README promises it), and a grant that does not exist.
        let admin = try server.token("admin", namespace: "acme", flags: ["-d", "-c"])
        let shown = try server.tfreg(
            ["grant", "show", "--registry", server.host, "-n", "acme", "--token-name", "rw", "--token-file", "-"],
            stdin: admin
        )
        #expect(shown.status == 0 && shown.stdout.contains("acme\t") && shown.stdout.contains("rw"), "\(shown.stdout)\(shown.stderr)")
        let none = try server.tfreg(
            ["grant", "show", "--registry", server.host, "-n", "acme", "--token-name", "nobody", "--token-file", "-"],
            stdin: admin
        )
        #expect(none.status == 66 && none.stderr.contains("no grant for"), "\(none.stderr)")
        // Without any token, against a registry that issues no IAM tokens: say where a token comes from.
        let anonymous = try server.tfreg(["grant", "list", "--registry", server.host, "-n", "acme"])
        #expect(anonymous.status == 77, "\(anonymous.stderr)")
        #expect(anonymous.stderr.contains("no token for \(server.host): pass --token-file"), "\(anonymous.stderr)")
        #expect(!anonymous.stderr.contains("does not offer IAM"), "\(anonymous.stderr)")
    }

    // MARK: serve's start-up messages

    @Test(.timeLimit(.minutes(2))) func aPortInUseSaysSo() throws {
        let server = try ServerProcess()
        let second = try server.tfreg(["serve", "--port", String(server.port), "--data-dir", server.dir + "/second", "--log-format", "text"])
        #expect(second.status == 69, "\(second.stderr)")
        #expect(second.stderr.contains("port \(server.port) on 127.0.0.1 is in use (another tfreg serve?)"), "\(second.stderr)")
    }

    @Test func swappedAndMismatchedTLSFilesAreNamed() throws {
        let dir = makeTemporaryDirectory("tfreg-cli-tls")
        let (cert, key) = try makeDevCertificate(in: dir)
        let otherDir = dir + "/other"
        try FileManager.default.createDirectory(atPath: otherDir, withIntermediateDirectories: true)
        let (_, otherKey) = try makeDevCertificate(in: otherDir)
        let base = ["serve", "--port", "0", "--data-dir", dir + "/data"]
        let swapped = try tfreg(base + ["--tls-cert", key, "--tls-key", cert])
        #expect(swapped.status == 78, "\(swapped.stderr)")
        #expect(swapped.stderr.contains(key) && swapped.stderr.contains("swapped"), "\(swapped.stderr)")
        let mismatched = try tfreg(base + ["--tls-cert", cert, "--tls-key", otherKey])
        #expect(mismatched.status == 78, "\(mismatched.stderr)")
        #expect(mismatched.stderr.contains("does not belong to the certificate in \(cert)"), "\(mismatched.stderr)")
    }

    // MARK: names, help, version, completions

    @Test func theVersionNamesTheCommit() throws {
        let r = try tfreg(["--version"])
        #expect(r.status == 0)
        let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(line.range(of: #"^\d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown), "#, options: .regularExpression) != nil, "\(line)")
    }

    @Test func usageNamesTheProgramAsInvoked() throws {
        let dir = makeTemporaryDirectory("tfreg-cli-argv0")
        try FileManager.default.createSymbolicLink(atPath: dir + "/get-registry-token", withDestinationPath: TFRegBinary.path)
        let help = try runCommand(dir + "/get-registry-token", ["--help"], env: ["HOME": dir])
        #expect(help.status == 0)
        #expect(help.stdout.contains("USAGE: get-registry-token") && !help.stdout.contains("tfreg token"), "\(help.stdout)")
        let bad = try runCommand(dir + "/get-registry-token", ["--bogus"], env: ["HOME": dir])
        #expect(bad.status == 64 && bad.stderr.contains("Usage: get-registry-token"), "\(bad.stderr)")
    }

    @Test func renamedOptionsKeepTheirOldNamesHidden() throws {
        let parseOnly = ["TFREG_PARSE_ONLY": "1"]
        // The replaced tool's spelling, and tfreg's earlier --system / publish --version.
        #expect(try tfreg(["token", "-r", "registry.example.com", "config"], env: parseOnly).status == 0)
        #expect(try tfreg(["token", "--registry-host", "registry.example.com"], env: parseOnly).status == 0)
        let old = ["publish", "d", "--registry", "r.example.com", "-n", "a", "--name", "b", "--system", "aws", "--version", "1.0.0"]
        #expect(try tfreg(old, env: parseOnly).status == 0)
        // publish's --version no longer collides with tfreg --version: a parse error is a parse error.
        let typo = try tfreg(old + ["--bogus"], env: parseOnly)
        #expect(typo.status == 64 && typo.stderr.contains("--bogus"), "\(typo.stdout)\(typo.stderr)")
        let help = try tfreg(["publish", "--help"])
        #expect(help.stdout.contains("--module-version") && help.stdout.contains("--system"), "\(help.stdout)")
        #expect(!help.stdout.contains("--provider") && !help.stdout.contains("--version <"), "\(help.stdout)")
        let tokenHelp = try tfreg(["token", "--help"])
        #expect(tokenHelp.stdout.contains("--registry <") && !tokenHelp.stdout.contains("--registry-host"), "\(tokenHelp.stdout)")
    }

    @Test func completionsAreASubcommand() throws {
        for shell in ["bash", "zsh", "fish"] {
            let r = try tfreg(["completion", shell])
            #expect(r.status == 0 && r.stdout.contains("publish") && r.stdout.contains("grant"), "\(shell): \(r.stderr)")
        }
        #expect(try tfreg(["--help"]).stdout.contains("completion"))
        #expect(try tfreg(["completion", "powershell"]).status == 64)
    }

    // MARK: the README

    /// Every `tfreg …` line in the README's shell blocks must parse (TFREG_PARSE_ONLY=1 parses and
    /// validates, and runs nothing): an option or subcommand the CLI does not have fails here.
    @Test func theReadmesCommandLinesParse() throws {
        let lines = ReadmeCommands.extract(from: try String(contentsOfFile: ReadmeCommands.readmePath, encoding: .utf8))
        #expect(lines.count >= 30, "found only \(lines.count) command lines")
        var failures: [String] = []
        for words in lines {
            let r = try runCommand(TFRegBinary.path, Array(words.dropFirst()), env: ["TFREG_PARSE_ONLY": "1", "HOME": "/nonexistent"])
            if r.status != 0 { failures.append("\(words.joined(separator: " ")) → \(r.status): \(r.stderr.prefix(300))") }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }
}

/// The `tfreg …` command lines of README.md's fenced shell blocks, split into words as a shell would
/// (quotes, backslash-newline continuations), with placeholders made concrete.
enum ReadmeCommands {
    static var readmePath: String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("README.md").path
    }

    static func extract(from readme: String) -> [[String]] {
        var out: [[String]] = []
        var inFence = false
        var inShell = false
        var pending = ""
        for raw in readme.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            let trimmed = raw.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("```") {
                if inFence {
                    inFence = false
                    inShell = false
                } else {
                    inFence = true
                    inShell = ["```sh", "```bash", "```shell", "```"].contains(trimmed)
                }
                pending = ""
                continue
            }
            guard inShell else { continue }
            var line = pending + raw
            if line.hasSuffix("\\") {
                line.removeLast()
                pending = line + " "
                continue
            }
            pending = ""
            // Each command of a line: `(umask 077 && tfreg …)`, `eval "$(tfreg …)"`, `… | tfreg …`.
            var segment = ""
            var segments: [String] = []
            for c in withoutComment(line) {
                if "|&;()".contains(c) {
                    segments.append(segment)
                    segment = ""
                } else {
                    segment.append(c)
                }
            }
            segments.append(segment)
            for part in segments { if let words = command(part) { out.append(words) } }
        }
        return out
    }

    /// The line up to a `#` that starts a word outside quotes.
    static func withoutComment(_ line: String) -> String {
        var quote: Character?
        var previous: Character = " "
        var out = ""
        for c in line {
            if let q = quote {
                if c == q { quote = nil }
            } else if c == "'" || c == "\"" {
                quote = c
            } else if c == "#" && (previous == " " || previous == "\t") {
                break
            }
            out.append(c)
            previous = c
        }
        return out
    }

    /// The words of one command if it runs tfreg (or a role name), up to a redirect.
    static func command(_ line: String) -> [String]? {
        var words: [String] = []
        var word = ""
        var quote: Character?
        var inWord = false
        loop: for c in line {
            if let q = quote {
                if c == q { quote = nil } else { word.append(c) }
                continue
            }
            switch c {
            case "'", "\"":
                quote = c
                inWord = true
            case " ", "\t":
                if inWord { words.append(word) }
                word = ""
                inWord = false
            case ">", "<": break loop
            default:
                word.append(c)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        // `VAR=value tfreg …`, `eval tfreg …`
        while let first = words.first, (first.contains("=") && !first.hasPrefix("-")) || first == "eval" || first == "export" {
            words.removeFirst()
        }
        guard let program = words.first else { return nil }
        let names = ["tfreg", "$TFREG", "get-registry-token", "manage-registry-permissions", "install-registry-credentials-helper"]
        guard names.contains(program) else { return nil }
        // `tfreg publish DIR ...` stands for the required options shown above it.
        if let i = words.firstIndex(where: { $0 == "..." || $0 == "…" }) {
            guard words.count > 1, words[1] == "publish" else { return nil }
            words.replaceSubrange(
                i...i,
                with: ["--registry", "r.example.com", "-n", "a", "--name", "b", "--provider", "aws", "--module-version", "1.0.0"]
            )
        }
        var concrete: [String] = []
        switch program {
        case "get-registry-token": concrete = ["tfreg", "token"]
        case "manage-registry-permissions": concrete = ["tfreg", "grant"]
        case "install-registry-credentials-helper": concrete = ["tfreg", "install-helper"]
        default: concrete = ["tfreg"]
        }
        for w in words.dropFirst() {
            // Optional parts in brackets ([--json], [--force]) are included without their brackets.
            var w = w
            if w.hasPrefix("[") { w.removeFirst() }
            if w.hasSuffix("]") && !w.contains("[") { w.removeLast() }
            if w.isEmpty { continue }
            concrete.append(w.contains("$") ? "placeholder" : w)
        }
        if program == "manage-registry-permissions" {
            concrete = ["tfreg", "grant"] + normalizeGrant(Array(concrete.dropFirst(2)))
        }
        return concrete
    }

    /// The replaced tool's order (verb after the options), as the binary reorders it.
    static func normalizeGrant(_ args: [String]) -> [String] {
        let verbs: Set<String> = ["create", "update", "delete", "list", "show", "revoke-token"]
        guard let i = args.firstIndex(where: { verbs.contains($0) }) else { return args }
        var rest = args
        let verb = rest.remove(at: i)
        return [verb] + rest
    }
}
