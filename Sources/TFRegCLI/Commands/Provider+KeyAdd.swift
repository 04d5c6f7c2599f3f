import ArgumentParser
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg.ProviderCommand {
    struct KeyAdd: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "add",
            abstract: "Register an ASCII-armored OpenPGP public key (RSA or Ed25519) for a namespace.",
            discussion: """
                Example (the key exported with gpg --armor --export KEYID):
                  tfreg provider key add -n acme --armor key.asc --registry registry.example.com
                """
        )
        @OptionGroup var ns: NamespaceOption
        @Option(help: ArgumentHelp("The public key, ASCII-armored (- for standard input).", valueName: "FILE"))
        var armor: String
        @OptionGroup var target: ProviderRegistryOptions
        @OptionGroup var out: OutputOptions

        func run() async throws {
            let namespace = try ns.parsed()
            let format = try out.format()
            let limit = 64 * 1024
            let bytes = armor == "-" ? Optional(FileSystem.readStandardInput(limit: limit + 1)) : FileSystem.read(armor, limit: limit + 1)
            guard let bytes, !bytes.isEmpty, bytes.count <= limit else {
                throw CLIError.usage("--armor: cannot read \(armor) (or it is over 64 KiB)")
            }
            let remote = try await target.remote()
            let r = try await remote.send("POST", "\(namespace)/keys", contentType: "application/pgp-keys", body: bytes)
            guard r.status == 201, let doc = try? JSONValue(parsing: r.body) else {
                throw CLIError.registry(r, action: "add the key to namespace \(namespace)")
            }
            switch format {
            case .json: printJSON(doc)
            case .text:
                print("added key \(doc["key_id"]?.stringValue ?? "?") (\(doc["fingerprint"]?.stringValue ?? "?")) to namespace \(namespace)")
            }
        }
    }
}
