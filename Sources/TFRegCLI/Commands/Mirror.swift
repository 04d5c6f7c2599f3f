import ArgumentParser

extension TFReg {
    /// `tfreg mirror …`: the provider network mirror for accounts without internet (issue 20).
    struct MirrorCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "mirror",
            abstract: "Import providers from another registry into this registry's network mirror.",
            discussion: """
                Pulled providers keep their origin host name: Terraform installs them through \
                provider_installation { network_mirror { url = "https://REGISTRY/v1/mirror/" } } as \
                HOST/NAMESPACE/TYPE. Reading them needs download, importing them upload, in the registry's \
                mirror namespace (serve --mirror-namespace, default mirror); the registry imports only from \
                the upstreams on its allow-list (serve --mirror-allow).

                Example:
                  tfreg mirror pull registry.terraform.io/hashicorp/aws --version '~> 5.0' \\
                    --platform linux_amd64 --platform darwin_arm64 --registry registry.example.com
                """,
            subcommands: [Pull.self]
        )
    }
}
