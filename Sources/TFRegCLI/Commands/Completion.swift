import ArgumentParser

extension TFReg {
    /// `tfreg completion bash|zsh|fish`: the shell completion script, from the parser's own tree.
    struct Completion: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a shell completion script (bash, zsh or fish).",
            discussion: """
                bash: tfreg completion bash > ~/.local/share/bash-completion/completions/tfreg; \
                zsh: tfreg completion zsh > "${fpath[1]}/_tfreg"; \
                fish: tfreg completion fish > ~/.config/fish/completions/tfreg.fish. \
                The Debian package and make install put these in place.

                Examples:
                  tfreg completion bash > /etc/bash_completion.d/tfreg
                """
        )

        enum Shell: String, ExpressibleByArgument, CaseIterable { case bash, zsh, fish }

        @Argument(help: "bash, zsh or fish.")
        var shell: Shell

        func run() throws {
            let script: String
            switch shell {
            case .bash: script = TFReg.completionScript(for: .bash)
            case .zsh: script = TFReg.completionScript(for: .zsh)
            case .fish: script = TFReg.completionScript(for: .fish)
            }
            print(script, terminator: script.hasSuffix("\n") ? "" : "\n")
        }
    }
}
