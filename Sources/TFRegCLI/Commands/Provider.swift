import ArgumentParser

extension TFReg {
    /// `tfreg provider …`: private providers through the registry's API (issue 20). The type is
    /// `ProviderCommand` so that names in this module stay free for TFRegCore's provider types.
    struct ProviderCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "provider",
            abstract: "Publish signed provider releases and manage a namespace's signing keys.",
            discussion: """
                Talks to the registry's API with the same credentials as publish: --token-file or --token, \
                else TFREG_TOKEN, else Terraform's (TF_TOKEN_<host>, the CLI config), else an IAM token for \
                your AWS identity when the registry issues them. A namespace needs a signing key (added by a \
                caller with create_grant there) before releases signed by it can be published (upload).

                Examples:
                  tfreg provider key add -n acme --armor key.asc --registry registry.example.com
                  tfreg provider publish dist --registry registry.example.com -n acme --type demo --version 1.0.0
                """,
            subcommands: [Publish.self, Deprecate.self, Delete.self, Key.self]
        )

        /// `tfreg provider key …`
        struct Key: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Add, list and remove the OpenPGP keys a namespace's provider releases are signed with.",
                discussion: """
                    add and remove need create_grant in the namespace, list needs download. Removing a key \
                    does not touch published versions, but downloads then no longer list it, so Terraform \
                    refuses the releases it signed: that is how a compromised key's releases are stopped.
                    """,
                subcommands: [KeyAdd.self, KeyList.self, KeyRemove.self]
            )
        }
    }
}
