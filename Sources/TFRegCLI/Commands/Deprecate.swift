import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON

extension TFReg {
    struct Deprecate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Mark a module version deprecated (it stays listed and downloadable), or clear the mark.",
            discussion: """
                The mark (reason, suggested replacement, when and by whom) shows in the registry's module \
                detail and versions answers and in every later listing; Terraform keeps installing the \
                version for callers that pin it. Needs the upload permission. Asks for confirmation on a \
                terminal; pass --yes in scripts.

                Examples:
                  tfreg deprecate --registry registry.example.com -n acme --name vpc --system aws --module-version 1.3.0 --reason 'breaks IPv6' --replacement 1.3.1
                  tfreg deprecate --registry registry.example.com -n acme --name vpc --system aws --module-version 1.3.0 --clear --yes
                """
        )

        @OptionGroup var target: VersionTarget

        @Option(help: "Why the version should not be used (shown to users).")
        var reason: String?

        @Option(help: "What to use instead: a version or a module source.")
        var replacement: String?

        @Flag(help: "Remove the deprecation mark instead.")
        var clear = false

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        @Flag(help: "Check that the version exists and say what would change; change nothing.")
        var dryRun = false

        @OptionGroup var out: OutputOptions

        func validate() throws {
            if clear && (reason != nil || replacement != nil) { throw ValidationError("--clear takes no --reason or --replacement") }
            if !clear && reason == nil { throw ValidationError("give --reason (it may be empty: --reason '') or --clear") }
        }

        func run() async throws {
            let (module, version) = try target.resolved()
            let format = try out.format()
            let remote = try await target.remote()
            if dryRun {
                if let note = try await remote.requireVersion(version, of: module) { printError(note) }
                report(module, version, format: format)
                return
            }
            if clear {
                try Confirmation.require("clear the deprecation of \(module) \(version)?", yes: yes)
                let r = try await remote.send("DELETE", ModuleRoute.undeprecate(module, version: version).relativePath)
                guard r.status == 200 else { throw CLIError.registry(r, action: "clear the deprecation of \(module) \(version)") }
                report(module, version, format: format)
                return
            }
            try Confirmation.require("deprecate \(module) \(version)?", yes: yes)
            var fields: [(String, JSONValue)] = [("reason", .string(reason ?? ""))]
            if let replacement { fields.append(("replacement", .string(replacement))) }
            let r = try await remote.send(
                "POST",
                ModuleRoute.deprecate(module, version: version).relativePath,
                json: JSONValue.object(fields).serialized()
            )
            guard r.status == 200 else { throw CLIError.registry(r, action: "deprecate \(module) \(version)") }
            report(module, version, format: format)
        }

        /// What changed (or, with --dry-run, would change): a line for people, or one JSON document.
        func report(_ module: ModuleAddress, _ version: Version, format: OutputFormat) {
            switch format {
            case .json:
                printJSON(
                    .object([
                        ("module", .string(module.description)), ("version", .string(version.description)), ("deprecated", .bool(!clear)),
                        ("reason", clear ? .null : .string(reason ?? "")), ("replacement", replacement.map { .string($0) } ?? .null),
                        ("dry_run", .bool(dryRun)),
                    ])
                )
            case .text:
                let line =
                    clear
                    ? "\(module) \(version) \(dryRun ? "would no longer be" : "is no longer") deprecated"
                    : "\(dryRun ? "would deprecate" : "deprecated") \(module) \(version)" + (replacement.map { " (use \($0) instead)" } ?? "")
                print(line + (dryRun ? "; nothing changed (--dry-run)" : ""))
            }
        }
    }
}
