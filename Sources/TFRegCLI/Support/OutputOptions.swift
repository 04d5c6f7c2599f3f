import ArgumentParser
import Glibc
import TFRegAPI
import TFRegJSON

/// What a command prints its result as: `json` (one document on standard output, fields in a fixed
/// order, for scripts) or `text` (for people). Diagnostics always go to standard error.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable, Sendable {
    case json, text
}

/// `--output json|text` (else `TFREG_OUTPUT`, else text), as the AWS CLI spells it, for commands that
/// draw no progress. `--quiet` is still accepted there (scripts pass it) but hidden: it changes nothing.
struct OutputOptions: ParsableArguments {
    @Option(name: .customLong("output"), help: "Print the result as json or text (default: TFREG_OUTPUT, else text).")
    var output: OutputFormat?

    @Flag(name: .customLong("quiet"), help: .hidden)
    var quiet = false

    /// The format: the flag, then `TFREG_OUTPUT`, then text; an unknown `TFREG_OUTPUT` is an error.
    func format(environment value: String? = Env.value("TFREG_OUTPUT")) throws -> OutputFormat {
        try OutputFormat.resolve(output, environment: value)
    }
}

/// `--output` and `--quiet` for the commands that draw a progress line (publish, backup).
struct ProgressOutputOptions: ParsableArguments {
    @Option(name: .customLong("output"), help: "Print the result as json or text (default: TFREG_OUTPUT, else text).")
    var output: OutputFormat?

    @Flag(name: .customLong("quiet"), help: "No progress line on the terminal.")
    var quiet = false

    func format(environment value: String? = Env.value("TFREG_OUTPUT")) throws -> OutputFormat {
        try OutputFormat.resolve(output, environment: value)
    }

    /// A progress line for `label`, drawn only when standard error is a terminal and not `--quiet`.
    func progress(_ label: String, total: Int64?) -> ProgressLine {
        ProgressLine(label: label, total: total, enabled: !quiet && isatty(STDERR_FILENO) == 1)
    }
}

extension OutputFormat {
    /// The flag, then `TFREG_OUTPUT`, then text; an unknown `TFREG_OUTPUT` is a configuration error.
    static func resolve(_ flag: OutputFormat?, environment value: String?) throws -> OutputFormat {
        if let flag { return flag }
        guard let value else { return .text }
        guard let f = OutputFormat(rawValue: value.lowercased()) else {
            throw CLIError.configuration("TFREG_OUTPUT must be json or text, not '\(value.prefix(80))'")
        }
        return f
    }
}

/// Prints one JSON document (and a newline) on standard output.
func printJSON(_ value: JSONValue) {
    writeStandardOutput(value.serialized() + [0x0A])
}
