import ArgumentParser
import Glibc
import TFRegCore
import TFRegHTTPClient
import TFRegSystem

extension TFReg {
    struct InstallHelper: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "install-helper",
            abstract: "Install tfreg as Terraform's credentials helper, so terraform init gets IAM tokens by itself.",
            discussion: """
                Links ~/.terraform.d/plugins/terraform-credentials-tfreg to this tfreg and adds \
                credentials_helper "tfreg" { args = ["--expiration-window", "N"] } to the Terraform CLI config \
                (--rc-file, else TF_CLI_CONFIG_FILE, else ~/.terraformrc). Terraform then runs the helper once per registry \
                host and run; the helper proves your AWS identity (profiles, SSO, CI roles) and hands \
                Terraform a short-lived token. Running it again is harmless. A config that already names \
                another credentials helper is left alone (Terraform allows only one).

                Examples:
                  tfreg install-helper --registry registry.example.com
                """
        )

        @Option(
            name: [.customLong("expiration-window"), .customLong("time"), .customShort("T")],
            help: "Lifetime of the tokens the helper fetches, in seconds (the registry caps it)."
        )
        var time: Int = 3600

        @Option(
            name: [.customLong("plugin-directory"), .customLong("plugins-dir")],
            help: "Directory for the helper (default ~/.terraform.d/plugins)."
        )
        var pluginsDir: String?

        @Option(
            name: [.customLong("rc-file"), .customLong("config")],
            help: "Terraform CLI config file to edit (default TF_CLI_CONFIG_FILE, else ~/.terraformrc)."
        )
        var config: String?

        @Option(help: "For an API Gateway or Function URL front end: execute-api or lambda (default: what each registry's discovery says).")
        var service: String?

        @Option(name: .customLong("registry"), help: "Check that this registry offers IAM tokens before installing.")
        var registryHost: String?

        @OptionGroup var ca: CABundleOption

        func validate() throws {
            guard time > 0 else { throw ValidationError("--expiration-window must be positive") }
            if let service, !["execute-api", "lambda"].contains(service) { throw ValidationError("--service must be execute-api or lambda") }
        }

        func run() async throws {
            if let registryHost {
                let host = try RegistryHost(registryHost)
                let http = RegistryClient.make(caBundle: try ca.checked())
                guard await IAMTokenClient.iamDiscovery(host: host, http: http) != nil || service != nil else {
                    throw CLIError.configuration("\(host.name) does not offer IAM tokens (checked https://\(host.name)/.well-known/terraform.json)")
                }
            }
            // Everything is checked before anything is written: a config naming another helper
            // stops the install with no link made.
            let path = config ?? Env.value("TF_CLI_CONFIG_FILE") ?? Env.home + "/.terraformrc"
            let current = FileSystem.read(path, limit: 1 << 20).map { String(decoding: $0, as: UTF8.self) } ?? ""
            var configured = false
            if let range = current.firstRange(of: "credentials_helper") {
                let rest = current[range.upperBound...].drop { $0 == " " || $0 == "\t" }
                guard rest.hasPrefix("\"tfreg\"") else {
                    throw CLIError(
                        "\(path) already names another credentials_helper; Terraform allows one. Remove it and run install-helper again (nothing was changed)."
                    )
                }
                configured = true
            }
            let plugins = pluginsDir ?? Env.home + "/.terraform.d/plugins"
            try RegistryError.storage(FileSystem.makeDirectories(plugins, mode: 0o755))
            let link = plugins + "/terraform-credentials-tfreg"
            let target = Self.executablePath()
            if let existing = Self.readLink(link), existing == target {
                print("helper already installed: \(link) -> \(target)")
            } else {
                unlink(link)
                guard symlink(target, link) == 0 else { throw CLIError("cannot create \(link): errno \(errno)") }
                print("installed \(link) -> \(target)")
            }
            if configured {
                print("\(path) already uses the tfreg credentials helper")
                return
            }
            let args = ["--expiration-window", String(time)] + (service.map { ["--service", $0] } ?? [])
            let block = "credentials_helper \"tfreg\" {\n  args = [\(args.map { "\"\($0)\"" }.joined(separator: ", "))]\n}\n"
            let text = current.isEmpty || current.hasSuffix("\n") ? current + block : current + "\n" + block
            try RegistryError.storage(FileSystem.writeAtomically(path, Array(text.utf8), mode: 0o644))
            print("added credentials_helper \"tfreg\" to \(path)")
        }

        static func executablePath() -> String {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink("/proc/self/exe", &buf, buf.count - 1)
            return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : CommandLine.arguments[0]
        }

        static func readLink(_ path: String) -> String? {
            var buf = [CChar](repeating: 0, count: 4096)
            let n = readlink(path, &buf, buf.count - 1)
            return n > 0 ? String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self) : nil
        }
    }
}
