#if canImport(Glibc)
import Glibc
#endif

/// Confirmation for destructive commands, as kubectl/gh do it: `--yes` goes ahead; otherwise a
/// terminal is asked, and without a terminal (scripts, CI) the command refuses rather than guess.
enum Confirmation {
    static func require(_ question: String, yes: Bool) throws {
        if yes { return }
        guard isatty(STDIN_FILENO) == 1 else {
            throw CLIError("\(question) — refusing without a terminal to confirm: pass --yes")
        }
        writeStandardError(Array("\(question) [y/N] ".utf8))
        let answer = (readLine(strippingNewline: true) ?? "").lowercased()
        guard answer == "y" || answer == "yes" else { throw CLIError("not confirmed; nothing changed") }
    }
}
