import ArgumentParser
import Glibc
import TFRegCore
import TFRegHTTPClient

/// The `tfreg` command tree. Each subcommand lives in its own file under `Commands/`.
public struct TFReg: AsyncParsableCommand {
    public static let version = "0.1.0"

    /// What `tfreg --version` prints: the version, the commit the binary was built from, the build date
    /// (the commit's date or SOURCE_DATE_EPOCH, never the wall clock: builds stay reproducible) and the
    /// Swift compiler (BuildInfo.swift is generated at build time by Plugins/BuildInfo; "unknown"
    /// outside git).
    static let versionLine = "\(version) (commit \(BuildInfo.commit), built \(BuildInfo.date), Swift \(swiftVersion))"

    /// The compiler's version as far as `#if compiler` can tell (major.minor).
    static var swiftVersion: String {
        #if compiler(>=6.4)
        "6.4 or later"
        #elseif compiler(>=6.3)
        "6.3"
        #elseif compiler(>=6.2)
        "6.2"
        #elseif compiler(>=6.1)
        "6.1"
        #else
        "6.0"
        #endif
    }

    public static let configuration = CommandConfiguration(
        commandName: "tfreg",
        abstract: "A private Terraform module registry with AWS IAM authentication.",
        discussion: """
            One binary, several roles. Started under another name it takes that role: \
            get-registry-token (token), manage-registry-permissions (grant), \
            install-registry-credentials-helper (install-helper), terraform-credentials-* \
            (credential-helper), bootstrap (lambda).

            Exit codes (sysexits(3) where one fits): 0 success; 1 any other error; 64 usage (the command \
            line is wrong); 66 not found (the module, version, grant or token named does not exist; HTTP \
            404); 69 unavailable (the registry or a backend cannot be reached, a TLS failure, HTTP 5xx; \
            retrying may help); 77 denied (no credential, or one the registry refuses: HTTP 401/403); \
            78 configuration (a flag, environment variable, file or backend is set up wrong).
            """,
        version: versionLine,
        subcommands: [
            Serve.self, Lambda.self, Token.self, GrantCommand.self, Publish.self, Delete.self, Deprecate.self, GC.self, ImportLegacy.self,
            Reindex.self, Modules.self,
            Backup.self, Restore.self, CredentialHelper.self, InstallHelper.self, Completion.self, Browse.self, Audit.self,
            ProviderCommand.self, MirrorCommand.self,
        ],
        helpNames: [.short, .long]
    )

    public init() {}

    /// Entry point: maps argv[0] to a subcommand (busybox style), then parses.
    public static func main(argv: [String]) async {
        let invocation = RoleDispatch.Invocation(argv: argv)
        let arguments = invocation.arguments
        var parsed: (any ParsableCommand.Type)?
        do {
            // The Lambda role takes no arguments: skip building the parser's command tree, which costs
            // a cold start several milliseconds (type-name and conformance lookups).
            if arguments == ["lambda"] {
                try await Lambda().run()
                return
            }
            if let unknown = RoleDispatch.unknownCommand(in: arguments) { throw unknown }
            if let problem = invocation.problem { throw problem }
            var command = try parseAsRoot(arguments)
            parsed = type(of: command)
            // For tests that check a command line parses (the README's examples) without running it.
            if Env.value("TFREG_PARSE_ONLY") == "1" { return }
            try await RoleDispatch.$program.withValue(invocation.program) {
                if var asyncCommand = command as? any AsyncParsableCommand {
                    try await asyncCommand.run()
                } else {
                    try command.run()
                }
            }
        } catch {
            let (message, code) = report(error, command: parsed)
            let text = invocation.renamed(code == 0 ? RoleDispatch.help(message, arguments: arguments) : message)
            if code == 0 { print(text) } else if !text.isEmpty { printError(text) }
            Glibc.exit(code)
        }
    }

    /// What to print for an error, and the exit code (CLIError.Kind has the table). Only usage errors
    /// show a usage line, and it is the command's own, not the root's.
    static func report(_ error: any Error, command: (any ParsableCommand.Type)?) -> (String, Int32) {
        let usage = { (command: (any ParsableCommand.Type)?) -> String in
            let c = command ?? TFReg.self
            let name = ObjectIdentifier(c) == ObjectIdentifier(TFReg.self) ? "tfreg" : "tfreg " + RoleDispatch.path(of: c).joined(separator: " ")
            return "Usage: \(TFReg.usageString(for: c))\n  See '\(name) --help' for more information."
        }
        // A ValidationError thrown while running (not while parsing) is still about the command line.
        if let e = error as? ValidationError, command != nil {
            return ("Error: \(e.message)\n\(usage(command))", CLIError.Kind.usage.exitCode)
        }
        if let e = CLIError.from(error) {
            return ("Error: \(e.message)" + (e.kind == .usage ? "\n" + usage(command) : ""), e.exitCode)
        }
        if let e = error as? ExitCode { return ("", e.rawValue) }
        // The parser's own outcomes: help and version (0), parse errors (64, with the command's usage).
        return (TFReg.fullMessage(for: error), TFReg.exitCode(for: error).rawValue)
    }
}

/// argv[0] dispatch for the multi-call binary.
public enum RoleDispatch {
    /// The name argv[0] ends in (`tfreg`, `manage-registry-permissions`, …) while a command runs, for
    /// the few behaviours that follow the replaced tool under its own name.
    @TaskLocal static var program: String = "tfreg"

    /// Names the binary may be started under, and the subcommand each selects.
    static let roles: [(prefix: String, exact: Bool, subcommand: String)] = [
        ("bootstrap", true, "lambda"),
        ("get-registry-token", true, "token"),
        ("manage-registry-permissions", true, "grant"),
        ("install-registry-credentials-helper", true, "install-helper"),
        ("terraform-credentials-", false, "credential-helper"),
    ]

    /// How the program was started: the name it was started under and the arguments to parse.
    struct Invocation {
        /// The name argv[0] ends in, e.g. `get-registry-token`.
        let program: String
        /// The subcommand that name selects, if it selects one.
        let role: String?
        let arguments: [String]
        /// A usage error the renaming of old option names would otherwise hide (publish's bare `--version`).
        let problem: CLIError?

        init(argv: [String]) {
            let name = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? "tfreg"
            program = name
            role = RoleDispatch.roles.first { $0.exact ? name == $0.prefix : name.hasPrefix($0.prefix) }?.subcommand
            arguments = RoleDispatch.arguments(forArgv: argv)
            problem = RoleDispatch.bareVersionOption(in: [role].compactMap { $0 } + argv.dropFirst())
        }

        /// Help and usage text name the program as it was invoked: `get-registry-token`, not `tfreg token`.
        func renamed(_ text: String) -> String {
            guard let role else { return text }
            return text.replacing("tfreg \(role)", with: program)
        }
    }

    /// The arguments to parse, given the full argv (argv[0] included).
    public static func arguments(forArgv argv: [String]) -> [String] {
        let name = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? "tfreg"
        var rest = Array(argv.dropFirst())
        for role in roles where role.exact ? name == role.prefix : name.hasPrefix(role.prefix) {
            rest = [role.subcommand] + rest
            break
        }
        if rest.first == "grant" {
            rest = ["grant"] + TFReg.GrantCommand.normalizeLegacyOrder(Array(rest.dropFirst()))
        }
        return renamingLegacyOptions(rest)
    }

    /// Option names that were renamed, still accepted (hidden) where people type them: the replaced
    /// tool's (`get-registry-token -r/--registry-host`, `install-registry-credentials-helper
    /// --registry-host`) and tfreg's own earlier ones (`--provider`, now `--system`, the name the
    /// registry protocol gives the address's third part, leaving "provider" to Terraform providers;
    /// publish's `--version`). Rewritten before parsing rather than declared as options: publish's
    /// `--version` as an option collides
    /// with the root's `--version` (the parser answers any parse error on a line holding it with the
    /// version and exit 0), and a rewrite keeps each concept to one name in help and completions.
    static let legacyOptions: [String: [String: String]] = [
        "token": ["--registry-host": "--registry", "-r": "--registry"],
        "install-helper": ["--registry-host": "--registry", "-r": "--registry"],
        "publish": ["--provider": "--system", "--version": "--module-version"],
        "delete": ["--provider": "--system"],
        "deprecate": ["--provider": "--system"],
    ]

    /// On `publish`, `--version VALUE` is the module version (the older name of `--module-version`,
    /// kept: a script's `--version 1.2.0` must never turn into "print tfreg's version, exit 0" and
    /// publish nothing). A `--version` with no value is refused, saying both meanings.
    static func bareVersionOption(in args: [String]) -> CLIError? {
        guard args.first == "publish" else { return nil }
        let options = args.prefix { $0 != "--" }
        for (i, a) in options.enumerated() where a == "--version" {
            let next = i + 1 < options.count ? options[i + 1] : nil
            guard let next, !next.hasPrefix("-") else {
                return .usage(
                    "on publish, --version is the module version (the older name of --module-version) and needs a value, e.g. --module-version 1.2.0; for tfreg's own version run `tfreg --version`"
                )
            }
        }
        return nil
    }

    /// Help as printed: publish's page leaves out the root's `--version  Show the version.` line, since
    /// on publish `--version VALUE` means the module version (its `--module-version` help says so).
    static func help(_ text: String, arguments: [String]) -> String {
        guard arguments.first == "publish" || arguments.prefix(2) == ["help", "publish"] else { return text }
        return text.split(separator: "\n", omittingEmptySubsequences: false)
            .filter { line in
                let words = line.split(separator: " ")
                return !(words.first == "--version" && words.dropFirst().joined(separator: " ") == "Show the version.")
            }
            .joined(separator: "\n")
    }

    static func renamingLegacyOptions(_ args: [String]) -> [String] {
        guard let command = args.first, let renames = legacyOptions[command] else { return args }
        var out = [command]
        var passThrough = false
        for a in args.dropFirst() {
            if passThrough || a == "--" {
                passThrough = true
                out.append(a)
                continue
            }
            let (name, value) = a.firstIndex(of: "=").map { (String(a[..<$0]), String(a[$0...])) } ?? (a, "")
            out.append(renames[name].map { $0 + value } ?? a)
        }
        return out
    }

    /// The subcommand names under `tfreg` down to `command` (e.g. ["grant", "show"]).
    static func path(of command: any ParsableCommand.Type) -> [String] {
        func search(_ node: any ParsableCommand.Type, _ trail: [String]) -> [String]? {
            if ObjectIdentifier(node) == ObjectIdentifier(command) { return trail }
            for sub in node.configuration.subcommands {
                if let found = search(sub, trail + [sub._commandName]) { return found }
            }
            return nil
        }
        return search(TFReg.self, []) ?? []
    }

    /// An unknown command word at any level (`tfreg pubish`, `tfreg help bogus`, `tfreg grant lst`) as
    /// a usage error with a suggestion; nil when the parser should go on.
    static func unknownCommand(in arguments: [String]) -> CLIError? {
        var words = arguments[...]
        if words.first == "help" {
            guard words.count > 1, !words[words.startIndex + 1].hasPrefix("-") else { return nil }
            words = words.dropFirst()
        }
        var node: any ParsableCommand.Type = TFReg.self
        var path = ["tfreg"]
        while let word = words.first, !word.hasPrefix("-") {
            let subcommands = node.configuration.subcommands
            guard !subcommands.isEmpty else { return nil }
            if let next = subcommands.first(where: { $0._commandName == word }) {
                node = next
                path.append(word)
                words = words.dropFirst()
                continue
            }
            // `tfreg grant help list` is the parser's own help request.
            if word == "help" && path.count > 1 { return nil }
            let names = subcommands.map { $0._commandName }
            var message = "unknown command '\(word.prefix(60))' for \(path.joined(separator: " "))"
            if let near = suggestion(for: word, among: names) { message += "; did you mean '\(near)'?" }
            return .usage(message)
        }
        return nil
    }

    /// The closest name within a small edit distance (a typo, not another word).
    static func suggestion(for word: String, among names: [String]) -> String? {
        let limit = word.count <= 3 ? 1 : min(3, max(2, word.count / 3))
        let scored = names.map { ($0, editDistance(word.lowercased(), $0)) }.filter { $0.1 <= limit || ($0.0.hasPrefix(word) && word.count >= 2) }
        return scored.min { $0.1 < $1.1 }?.0
    }

    /// Levenshtein distance between two strings (by Unicode scalars).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars)
        let b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in 1...b.count {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
