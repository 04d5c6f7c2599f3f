import ArgumentParser
import TFRegCore
import TFRegHTTPClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// The one user-facing error of the CLI: a message printed as `Error: …` and a kind that picks the
/// exit code (`exitCode`, the only place kinds become numbers; README "Exit codes").
struct CLIError: Error, CustomStringConvertible, Sendable {
    /// What went wrong, as far as a script needs to know. The numbers follow sysexits(3), which
    /// `misconfigured` (78) and `unavailable` (69) already used: a script can tell "fix the command
    /// line" from "fix the configuration" from "retry later" from "you may not".
    enum Kind: Sendable, Equatable, CaseIterable {
        /// Anything else: 1.
        case failure
        /// The command line is wrong: 64 (EX_USAGE, also what swift-argument-parser exits with), a bad
        /// value typed as a flag included (the same value from the environment is `configuration`).
        case usage
        /// The module, version, grant or token named does not exist, or a file named on the command
        /// line (--token-file, --ca-bundle, a backup directory): 66 (EX_NOINPUT, "an input named on
        /// the command line does not exist").
        case notFound
        /// No credential, or one the registry refuses (401/403): 77 (EX_NOPERM).
        case denied
        /// The registry or a backend cannot be reached or answers 5xx: 69 (EX_UNAVAILABLE); retrying may help.
        case unavailable
        /// A flag, variable, file or backend is set up wrong: 78 (EX_CONFIG).
        case configuration

        /// The kind's name in the README's exit-code table (a test holds the two together).
        var name: String {
            switch self {
            case .failure: "error"
            case .usage: "usage"
            case .notFound: "not found"
            case .denied: "denied"
            case .unavailable: "unavailable"
            case .configuration: "configuration"
            }
        }

        var exitCode: Int32 {
            switch self {
            case .failure: 1
            case .usage: 64
            case .notFound: 66
            case .denied: 77
            case .unavailable: 69
            case .configuration: 78
            }
        }
    }

    let kind: Kind
    let message: String
    var description: String { message }
    var exitCode: Int32 { kind.exitCode }

    init(_ message: String, kind: Kind = .failure) {
        self.kind = kind
        self.message = message
    }

    static func usage(_ m: String) -> Self { .init(m, kind: .usage) }
    static func notFound(_ m: String) -> Self { .init(m, kind: .notFound) }
    static func denied(_ m: String) -> Self { .init(m, kind: .denied) }
    static func unavailable(_ m: String) -> Self { .init(m, kind: .unavailable) }
    static func configuration(_ m: String) -> Self { .init(m, kind: .configuration) }

    /// The kind a registry's HTTP status means: 404 not found, 401/403 denied, 5xx unavailable.
    static func kind(forStatus status: Int) -> Kind {
        switch status {
        case 404: .notFound
        case 401, 403: .denied
        case 500...599: .unavailable
        default: .failure
        }
    }

    /// A registry's error answer, shown with the registry's own message.
    static func registry(_ r: HTTPResponse, action: String) -> CLIError {
        var messages = [String]()
        struct ErrorBody: Decodable { let errors: [String] }
        if let body = try? JSONDecoder().decode(ErrorBody.self, from: Data(r.body)) { messages = body.errors }
        let detail = messages.isEmpty ? String(r.bodyText.prefix(200)) : messages.joined(separator: "; ")
        var text = "cannot \(action): HTTP \(r.status): \(detail)"
        if r.status == 401, detail.contains("expired") { text += " (get a new one: run `tfreg token`)" }
        return CLIError(text, kind: kind(forStatus: r.status))
    }

    /// Any error a command let through, as the CLI reports it; nil for the argument parser's own
    /// errors (help, version, parse errors), which it reports itself.
    static func from(_ error: any Error) -> CLIError? {
        switch error {
        case let e as CLIError: return e
        case let e as RegistryError:
            // The client-safe message; a configuration error also says what to fix (this is the
            // operator's own machine).
            switch e.code {
            case .misconfigured: return .configuration(e.detail ?? e.message)
            case .unavailable: return .unavailable(e.message)
            case .notFound: return .notFound(e.message)
            case .unauthenticated, .forbidden: return .denied(e.message)
            default: return CLIError(e.message)
            }
        case let e as HTTPClientError:
            switch e.kind {
            case .tls:
                return .unavailable(
                    "\(e.message) (if the registry's certificate is signed by a private CA, pass --ca-bundle PEM or point SSL_CERT_FILE at a PEM file with that CA)"
                )
            case .connect, .timeout: return .unavailable(e.message)
            case .other, .tooLarge: return .unavailable(e.message)
            }
        default: return nil
        }
    }
}
