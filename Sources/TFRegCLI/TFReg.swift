import ArgumentParser
import TFRegCore
import TFRegHTTPClient

#if canImport(Glibc)
import Glibc
#endif

/// The `tfreg` command tree. Each subcommand lives in its own file under `Commands/`.
public struct TFReg: AsyncParsableCommand {
    public static let version = "0.1.0"

    public static let configuration = CommandConfiguration(
        commandName: "tfreg",
        abstract: "A private Terraform module registry with AWS IAM authentication.",
        discussion: """
            One binary, several roles. Started under another name it takes that role: \
            get-registry-token (token), manage-registry-permissions (grant), \
            install-registry-credentials-helper (install-helper), terraform-credentials-* \
            (credential-helper), bootstrap (lambda).
            """,
        version: version,
        subcommands: [
            Serve.self, Lambda.self, Token.self, Grant.self, Publish.self, Delete.self, Deprecate.self, GC.self, ImportLegacy.self, Backup.self,
            Restore.self, CredentialHelper.self, InstallHelper.self,
        ],
        helpNames: [.short, .long]
    )

    public init() {}

    /// Entry point: maps argv[0] to a subcommand (busybox style), then parses.
    public static func main(argv: [String]) async {
        let arguments = RoleDispatch.arguments(forArgv: argv)
        do {
            // The Lambda role takes no arguments: skip building the parser's command tree, which costs
            // a cold start several milliseconds (type-name and conformance lookups).
            if arguments == ["lambda"] {
                try await Lambda().run()
                return
            }
            var command = try parseAsRoot(arguments)
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
        } catch let error as RegistryError {
            // The client-safe message; a configuration error also says what to fix (this is the
            // operator's own machine), and exits EX_CONFIG; "try again later" only for EX_UNAVAILABLE.
            if error.code == .misconfigured, let detail = error.detail {
                printError("Error: \(detail)")
                Glibc.exit(78)
            }
            printError("Error: \(error.message)")
            Glibc.exit(error.code == .unavailable ? 69 : 1)
        } catch let error as CLIFailure {
            printError("Error: \(error.description)")
            Glibc.exit(1)
        } catch let error as RegistryClientError {
            printError("Error: \(error.description)")
            Glibc.exit(1)
        } catch let error as HTTPClientError {
            printError("Error: \(error.description)")
            Glibc.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// argv[0] dispatch for the multi-call binary.
public enum RoleDispatch {
    /// Names the binary may be started under, and the subcommand each selects.
    static let roles: [(prefix: String, exact: Bool, subcommand: String)] = [
        ("bootstrap", true, "lambda"),
        ("get-registry-token", true, "token"),
        ("manage-registry-permissions", true, "grant"),
        ("install-registry-credentials-helper", true, "install-helper"),
        ("terraform-credentials-", false, "credential-helper"),
    ]

    /// The arguments to parse, given the full argv (argv[0] included).
    public static func arguments(forArgv argv: [String]) -> [String] {
        let name = argv.first.map { String($0.split(separator: "/").last ?? "") } ?? "tfreg"
        var rest = Array(argv.dropFirst())
        for role in roles where role.exact ? name == role.prefix : name.hasPrefix(role.prefix) {
            rest = [role.subcommand] + rest
            break
        }
        if rest.first == "grant" {
            rest = ["grant"] + TFReg.Grant.normalizeLegacyOrder(Array(rest.dropFirst()))
        }
        return rest
    }
}

/// A failure the CLI reports as one line, without usage text.
struct CLIFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
