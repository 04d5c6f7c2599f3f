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

        func validate() throws {
            if clear && (reason != nil || replacement != nil) { throw ValidationError("--clear takes no --reason or --replacement") }
            if !clear && reason == nil { throw ValidationError("give --reason (it may be empty: --reason '') or --clear") }
        }

        func run() async throws {
            let (module, version) = try target.resolved()
            let remote = try await target.remote()
            if clear {
                try Confirmation.require("clear the deprecation of \(module) \(version)?", yes: yes)
                let r = try await remote.send("DELETE", "\(module)/\(version)/deprecate")
                guard r.status == 200 else { throw CLIError.registry(r, action: "clear the deprecation of \(module) \(version)") }
                print("\(module) \(version) is no longer deprecated")
                return
            }
            try Confirmation.require("deprecate \(module) \(version)?", yes: yes)
            var fields: [(String, JSONValue)] = [("reason", .string(reason ?? ""))]
            if let replacement { fields.append(("replacement", .string(replacement))) }
            let r = try await remote.send("POST", "\(module)/\(version)/deprecate", json: JSONValue.object(fields).serialized())
            guard r.status == 200 else { throw CLIError.registry(r, action: "deprecate \(module) \(version)") }
            print("deprecated \(module) \(version)" + (replacement.map { " (use \($0) instead)" } ?? ""))
        }
    }
}
