import ArgumentParser
import TFRegCore

/// `--registry HOST -n NS --name NAME --system S --module-version V`: one version of one module in one
/// registry (publish, delete, deprecate). `--system` is the address's third part, which the registry
/// protocol calls the target system (`aws` in `acme/vpc/aws`); "provider" is kept for Terraform
/// providers (`tfreg provider …`). tfreg's earlier `--provider` and publish's `--version` are accepted
/// as hidden old names (`RoleDispatch.legacyOptions`).
struct ModuleVersionOptions: ParsableArguments {
    @Option(help: "The registry host, with a port if not 443 (e.g. registry.example.com or 127.0.0.1:8443).")
    var registry: String

    @Option(name: [.customLong("namespace"), .customShort("n")], help: "Namespace.")
    var namespace: String

    @Option(help: "Module name.")
    var name: String

    @Option(name: .customLong("system"), help: "The module's target system (the address's third part), e.g. aws.")
    var system: String

    @Option(name: .customLong("module-version"), help: "The version, e.g. 1.2.0.")
    var version: String

    /// The module and version; a value that breaks the grammar is a usage error naming its flag (exit 64).
    func resolved() throws(CLIError) -> (ModuleAddress, Version) {
        func typed<T>(_ flag: String, _ make: () throws(RegistryError) -> T) throws(CLIError) -> T {
            do { return try make() } catch { throw CLIError.usage("\(flag): \(error.message)") }
        }
        _ = try typed("-n/--namespace") { () throws(RegistryError) in try Namespace(namespace) }
        let module = try typed("--name or --system") { () throws(RegistryError) in
            try ModuleAddress(namespace: namespace, name: name, system: system)
        }
        return (module, try typed("--module-version") { () throws(RegistryError) in try Version(version) })
    }
}
