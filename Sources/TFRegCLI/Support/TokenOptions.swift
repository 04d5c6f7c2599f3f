import ArgumentParser
import TFRegSystem

/// Where a command that talks to a registry takes a bearer token from: `--token-file PATH`,
/// `--token-file -` (standard input), `--token` (accepted, with a warning: argv is readable by every
/// user of the machine through `ps` and `/proc`), then `TFREG_TOKEN`. Commands fall back to Terraform's
/// own places (`TF_TOKEN_…`, the CLI config) and, where they can, an IAM token after that.
struct TokenOptions: ParsableArguments {
    @Option(help: "Registry token. Visible to other users in the process list: prefer --token-file or TFREG_TOKEN.")
    var token: String?

    @Option(name: .customLong("token-file"), help: ArgumentHelp("Read the registry token from this file ('-': standard input).", valueName: "path"))
    var tokenFile: String?

    @OptionGroup var ca: CABundleOption

    var caBundle: String? { get throws(CLIError) { try ca.checked() } }

    static let warning =
        "tfreg: warning: --token is visible to other users of this machine (ps, /proc); use --token-file PATH, --token-file - or TFREG_TOKEN"

    /// The token given to this command: `--token-file`, `--token`, then `TFREG_TOKEN`; nil when none is.
    func explicitToken() throws -> String? {
        // Checked here, not in validate(), since it was written for publish's old `--version` (which
        // the parser answered, on a failing line, with tfreg's version): a usage error either way.
        if token != nil, tokenFile != nil { throw CLIError.usage("give --token or --token-file, not both") }
        if let tokenFile {
            let bytes = tokenFile == "-" ? FileSystem.readStandardInput() : FileSystem.read(tokenFile, limit: 64 << 10)
            guard let bytes else {
                if tokenFile != "-", !FileSystem.exists(tokenFile) {
                    throw CLIError.notFound("cannot read the token file \(tokenFile) (--token-file): no such file")
                }
                throw CLIError("cannot read the token file \(tokenFile)")
            }
            return try Self.checked(String(decoding: bytes, as: UTF8.self), from: tokenFile == "-" ? "standard input" : tokenFile)
        }
        if let token {
            printError(Self.warning)
            return try Self.checked(token, from: "--token")
        }
        if let env = Env.value("TFREG_TOKEN") { return try Self.checked(env, from: "TFREG_TOKEN") }
        return nil
    }

    /// The explicit token, else Terraform's for `host` (TF_TOKEN_…, the CLI config); none is "denied"
    /// with every way to give one.
    func token(for host: RegistryHost) throws -> String {
        if let t = try explicitToken() ?? TerraformCredentials.token(for: host.name) { return t }
        let variable = host.hasPort ? "a credentials block" : TerraformCredentials.environmentVariableName(for: host.name) ?? "TF_TOKEN_…"
        throw CLIError.denied(
            "no token for \(host.name): pass --token-file PATH (or - for standard input), set TFREG_TOKEN or \(variable), or add a credentials \"\(host.name)\" block to the Terraform CLI config"
        )
    }

    /// Surrounding white space (a file's trailing newline) dropped; what is left must be one printable word.
    static func checked(_ text: String, from source: String) throws -> String {
        let t = String(text.trimmingWhitespace())
        guard !t.isEmpty, t.utf8.count <= 8192, t.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw CLIError("the token from \(source) is empty or not a single printable word")
        }
        return t
    }
}
