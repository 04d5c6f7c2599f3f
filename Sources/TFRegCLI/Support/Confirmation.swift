import Glibc

/// Confirmation for destructive commands, as kubectl/gh do it: `--yes` goes ahead; otherwise a
/// terminal is asked (`Delete …? [y/N]` on standard error, the answer read from standard input),
/// and without a terminal (scripts, CI) the command refuses, naming `--yes`, rather than guess.
enum Confirmation {
    /// Asks `question` unless `yes`; throws when it is not confirmed.
    static func require(_ question: String, yes: Bool) throws {
        if yes { return }
        // Both ends must be a terminal: a prompt on redirected standard error would go unseen.
        let interactive = isInteractive
        if interactive { writeStandardError(Array(prompt(question).utf8)) }
        try decide(question, yes: yes, interactive: interactive, answer: interactive ? readLine(strippingNewline: true) : nil)
    }

    /// Whether `require` will put a question on the terminal (not `yes`, and both ends a terminal), so
    /// a command can first list what the question is about.
    static func willAsk(yes: Bool) -> Bool { !yes && isInteractive }

    static var isInteractive: Bool { isatty(STDIN_FILENO) == 1 && isatty(STDERR_FILENO) == 1 }

    /// `question` as shown: first letter upper-cased, then ` [y/N] `.
    static func prompt(_ question: String) -> String {
        question.prefix(1).uppercased() + question.dropFirst() + " [y/N] "
    }

    /// The rule, without the terminal: `yes` goes ahead; no terminal refuses naming --yes; on a
    /// terminal only `y` or `yes` (any case) goes ahead, anything else, end of input too, does not.
    static func decide(_ question: String, yes: Bool, interactive: Bool, answer: String?) throws {
        if yes { return }
        guard interactive else {
            throw CLIError("\(question) — refusing without a terminal to confirm: pass --yes")
        }
        let a = (answer ?? "").lowercased()
        guard a == "y" || a == "yes" else { throw CLIError("not confirmed; nothing changed") }
    }
}
