import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg {
    /// `tfreg grant …`: manages grants directly in the store (the admin path: whoever can open the
    /// database is trusted).
    /// The type is `GrantCommand` so that `Grant` in this module is TFRegCore's grant.
    struct GrantCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "grant",
            abstract: "Manage per-namespace permission grants for IAM roles and static tokens.",
            discussion: """
                Works directly on the registry's store (--data-dir / TFREG_DATA_DIR, or --table for DynamoDB), \
                or with --registry HOST through the registry's grants API as you: your token comes from \
                --token-file PATH (- for standard input), --token, TFREG_TOKEN, TF_TOKEN_…, the Terraform CLI config, else your AWS IAM identity. Over the API you can \
                only give permissions you hold yourself. The order of the tool tfreg replaces also works: \
                manage-registry-permissions --role-arn ARN --namespace NS create -d

                Examples:
                  tfreg grant create -n acme --new-token ci --download --upload
                  tfreg grant list -n acme --output json
                  tfreg grant create --registry registry.example.com -n acme -r arn:aws:iam::123456789012:role/ci -d
                """,
            subcommands: [Create.self, Update.self, Delete.self, List.self, Show.self, RevokeToken.self]
        )

        static let verbs: Set<String> = ["create", "update", "delete", "list", "show", "revoke-token", "help"]

        /// Moves a verb given after the options (the replaced tool's order) to the front.
        static func normalizeLegacyOrder(_ args: [String]) -> [String] {
            guard let first = args.first, !verbs.contains(first), !first.hasPrefix("-h"), first != "--help" else { return args }
            guard let i = args.firstIndex(where: { verbs.contains($0) }) else { return args }
            var rest = args
            let verb = rest.remove(at: i)
            return [verb] + rest
        }
    }
}
