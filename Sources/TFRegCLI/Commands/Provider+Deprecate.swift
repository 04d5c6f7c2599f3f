import ArgumentParser
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

extension TFReg.ProviderCommand {
    struct Deprecate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a provider version deprecated (or clear the mark with --undo).",
            discussion: """
                The version stays installable; the registry's versions document names it in warnings, \
                which terraform init prints. Needs upload in the namespace.

                Example:
                  tfreg provider deprecate --registry registry.example.com -n acme --type demo --version 1.0.0 --reason "use 1.0.1" --replacement 1.0.1
                """
        )
        @OptionGroup var target: ProviderVersionOptions
        @Option(help: "Why (shown to whoever installs it; may be empty).")
        var reason: String?
        @Option(help: "What to use instead (a version).")
        var replacement: String?
        @Flag(help: "Clear the deprecation mark.")
        var undo = false
        @OptionGroup var registry: ProviderRegistryOptions

        func run() async throws {
            let (provider, version) = try target.resolved()
            if undo, reason != nil || replacement != nil { throw CLIError.usage("--undo takes no --reason or --replacement") }
            if !undo, reason == nil { throw CLIError.usage("give --reason (it may be empty), or --undo") }
            let remote = try await registry.remote()
            let path = target.relativePath(provider, version) + "/deprecate"
            let r: HTTPResponse
            if undo {
                r = try await remote.send("DELETE", path)
            } else {
                let body = JSONValue.object([("reason", .string(reason ?? ""))] + (replacement.map { [("replacement", .string($0))] } ?? []))
                r = try await remote.send("POST", path, contentType: "application/json", body: body.serialized())
            }
            guard r.status == 200 else { throw CLIError.registry(r, action: "\(undo ? "undeprecate" : "deprecate") \(provider) \(version)") }
            print("\(undo ? "undeprecated" : "deprecated") \(provider) \(version)")
        }
    }
}
