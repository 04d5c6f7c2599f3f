import ArgumentParser
import TFRegCore

/// `-n NS --type TYPE --version V` of the `tfreg provider` commands that act on one version.
struct ProviderVersionOptions: ParsableArguments {
    @OptionGroup var ns: NamespaceOption
    @Option(help: "The provider type (the last part of HOST/NAMESPACE/TYPE).")
    var type: String
    @Option(help: "The version (without a leading v).")
    var version: String

    /// The provider and version; a bad one is a usage error (exit 64).
    func resolved() throws -> (ProviderAddress, Version) {
        let namespace = try ns.parsed()
        do { return (try ProviderAddress(namespace: namespace.value, type: type), try Version(version)) } catch {
            throw CLIError.usage(error.message)
        }
    }

    /// `NS/TYPE/VERSION`, below the `providers.v1` base.
    func relativePath(_ provider: ProviderAddress, _ version: Version) -> String { "\(provider)/\(version)" }
}
