import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg {
    struct Modules: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List, search and show the modules of a registry (what you may download).",
            discussion: """
                Reads the registry's API with the same credentials as publish: --token-file or --token, \
                else TFREG_TOKEN, else Terraform's (TF_TOKEN_<host>, the CLI config), else an IAM token for \
                your AWS identity when the registry issues them. --output json prints the registry's own \
                document. Text from the registry (names, descriptions, READMEs) is printed with control \
                characters escaped.

                Examples:
                  tfreg modules list --registry registry.example.com
                  tfreg modules list acme --registry registry.example.com
                  tfreg modules search vpc --registry registry.example.com
                  tfreg modules show acme/vpc/aws@1.2.0 --registry registry.example.com --readme
                """,
            subcommands: [List.self, Search.self, Show.self]
        )

        /// `--registry` and the credentials, as publish takes them.
        struct RegistryOptions: ParsableArguments {
            @Option(help: "The registry host, with a port if not 443 (e.g. registry.example.com or 127.0.0.1:8443).")
            var registry: String

            @OptionGroup var auth: TokenOptions

            func remote() async throws -> RemoteModules {
                let host = try RegistryHost(registry)
                let token = try await auth.token(for: host)
                let client = RegistryClient.make(caBundle: try auth.caBundle)
                return RemoteModules(base: try await RegistryDiscovery.modulesBase(host: host, client: client), token: token, client: client)
            }
        }

        struct List: AsyncParsableCommand {
            static let configuration = CommandConfiguration(abstract: "List modules, in one namespace or in every one you may read.")

            @Argument(help: "Only this namespace.")
            var namespace: String?

            @OptionGroup var target: RegistryOptions

            @Option(help: "Only modules for this system (the address's third part).")
            var system: String?

            @Option(help: "Skip this many modules.")
            var offset: Int = 0

            @Option(help: "At most this many modules (1-100).")
            var limit: Int = ModuleQuery.maximumLimit

            @OptionGroup var out: OutputOptions

            func run() async throws {
                let format = try out.format()
                let route: ModuleRoute
                if let namespace {
                    do { _ = try Namespace(namespace) } catch { throw ValidationError(error.message) }
                    route = .listNamespace(namespace)
                } else {
                    route = .list
                }
                let doc = try await Modules.page(route, query: Modules.pageQuery(offset: offset, limit: limit, system: system), target: target)
                Modules.printPage(doc, format: format)
            }
        }

        struct Search: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Search modules by name, description and README text (best matches first)."
            )

            @Argument(help: "The words to look for.")
            var query: String

            @OptionGroup var target: RegistryOptions

            @Option(help: "Only this namespace.")
            var namespace: String?

            @Option(help: "Only modules for this system (the address's third part).")
            var system: String?

            @Option(help: "Skip this many modules.")
            var offset: Int = 0

            @Option(help: "At most this many modules (1-100).")
            var limit: Int = ModuleQuery.maximumLimit

            @OptionGroup var out: OutputOptions

            func run() async throws {
                let format = try out.format()
                guard !query.isEmpty, query.utf8.count <= 256 else { throw ValidationError("the query must be 1-256 bytes") }
                var q = "q=" + PercentEncoding.encode(query) + "&" + Modules.pageQuery(offset: offset, limit: limit, system: system)
                if let namespace { q += "&namespace=" + PercentEncoding.encode(namespace) }
                let doc = try await Modules.page(.search, query: q, target: target)
                Modules.printPage(doc, format: format)
            }
        }

        struct Show: AsyncParsableCommand {
            static let configuration = CommandConfiguration(
                abstract: "Show a module version: description, source, versions, deprecation, inputs and outputs."
            )

            @Argument(help: "NAMESPACE/NAME/SYSTEM, or NAMESPACE/NAME/SYSTEM@VERSION (default: the latest version).")
            var module: String

            @OptionGroup var target: RegistryOptions

            @Flag(help: "Also print the README.")
            var readme = false

            @OptionGroup var out: OutputOptions

            func run() async throws {
                let format = try out.format()
                let (address, version) = try Self.parse(module)
                let remote = try await target.remote()
                let route: ModuleRoute = version.map { .version(address, version: $0) } ?? .module(ModulePath(address))
                let r = try await remote.send("GET", route.relativePath)
                guard r.status == 200, let doc = try? JSONParser.parse(r.body) else { throw CLIError.registry(r, action: "show \(module)") }
                if format == .json {
                    printJSON(doc)
                    return
                }
                print(Self.text(doc, readme: readme), terminator: "")
            }

            /// `NS/NAME/SYSTEM[@VERSION]`, each part checked (a usage error otherwise).
            static func parse(_ text: String) throws -> (ModuleAddress, Version?) {
                let at = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
                let parts = at[0].split(separator: "/", omittingEmptySubsequences: false).map(String.init)
                do throws(RegistryError) {
                    guard parts.count == 3 else {
                        throw RegistryError.badRequest("expected NAMESPACE/NAME/SYSTEM[@VERSION], got '\(text.prefix(80))'")
                    }
                    let address = try ModuleAddress(namespace: parts[0], name: parts[1], system: parts[2])
                    return (address, try at.count == 2 ? Version(String(at[1])) : nil)
                } catch {
                    throw ValidationError(error.message)
                }
            }

            /// The detail document as text: a header, the deprecation, versions, then tables.
            static func text(_ d: JSONValue, readme: Bool) -> String {
                func s(_ v: JSONValue?) -> String { Modules.safe(v?.stringValue ?? "") }
                var out = "\(s(d["id"]))\n"
                if let dep = d["deprecation"] {
                    out += "DEPRECATED: \(s(dep["reason"]))"
                    if let r = dep["replacement"]?.stringValue { out += " (use \(Modules.safe(r)) instead)" }
                    out += "\n"
                }
                if !s(d["description"]).isEmpty { out += s(d["description"]) + "\n" }
                if !s(d["source"]).isEmpty { out += "source: \(s(d["source"]))\n" }
                out += "published: \(s(d["published_at"]))" + (s(d["published_by"]).isEmpty ? "" : " by \(s(d["published_by"]))") + "\n"
                out += "downloads: \(d["downloads"]?.intValue ?? 0)\n"
                if case .array(let versions)? = d["versions"] { out += "versions: " + versions.map { s($0) }.joined(separator: ", ") + "\n" }
                if d["documented"]?.boolValue == false { out += "(no documentation extracted for this version yet: tfreg reindex)\n" }
                let root = d["root"]
                if case .array(let inputs)? = root?["inputs"], !inputs.isEmpty {
                    out += "\nInputs\n"
                    out += Modules.table(
                        ["NAME", "TYPE", "DEFAULT", "REQUIRED", "DESCRIPTION"],
                        inputs.map { i in
                            [
                                s(i["name"]), s(i["type"]), i["required"]?.boolValue == true ? "" : s(i["default"]),
                                i["required"]?.boolValue == true ? "yes" : "no", s(i["description"]),
                            ]
                        }
                    )
                }
                if case .array(let outputs)? = root?["outputs"], !outputs.isEmpty {
                    out += "\nOutputs\n" + Modules.table(["NAME", "DESCRIPTION"], outputs.map { [s($0["name"]), s($0["description"])] })
                }
                for (title, key) in [("Submodules", "submodules"), ("Examples", "examples")] {
                    if case .array(let parts)? = d[key], !parts.isEmpty { out += "\n\(title)\n" + parts.map { "  " + s($0["path"]) + "\n" }.joined() }
                }
                if readme, let text = root?["readme"]?.stringValue, !text.isEmpty {
                    out += "\nREADME\n" + Modules.safe(text, multiline: true) + (text.hasSuffix("\n") ? "" : "\n")
                }
                return out
            }
        }

        /// `offset=…&limit=…[&provider=…]`.
        static func pageQuery(offset: Int, limit: Int, system: String?) -> String {
            "offset=\(max(0, offset))&limit=\(min(max(1, limit), ModuleQuery.maximumLimit))"
                + (system.map { "&provider=" + PercentEncoding.encode($0) } ?? "")
        }

        static func page(_ route: ModuleRoute, query: String, target: RegistryOptions) async throws -> JSONValue {
            let remote = try await target.remote()
            let r = try await remote.send("GET", route.relativePath + "?" + query)
            guard r.status == 200, let doc = try? JSONParser.parse(r.body) else { throw CLIError.registry(r, action: "list modules") }
            return doc
        }

        static func printPage(_ doc: JSONValue, format: OutputFormat) {
            if format == .json {
                printJSON(doc)
                return
            }
            guard case .array(let items)? = doc["modules"], !items.isEmpty else {
                print("no modules")
                return
            }
            func s(_ v: JSONValue?) -> String { safe(v?.stringValue ?? "") }
            print(
                table(
                    ["MODULE", "LATEST", "DOWNLOADS", "DESCRIPTION"],
                    items.map { m in
                        [
                            "\(s(m["namespace"]))/\(s(m["name"]))/\(s(m["provider"]))", s(m["version"]), String(m["downloads"]?.intValue ?? 0),
                            s(m["description"]),
                        ]
                    }
                ),
                terminator: ""
            )
            if let next = doc["meta"]?["next_offset"]?.intValue { printError("more: --offset \(next)") }
        }

        /// Columns padded to their widest cell (descriptions cut at 60 characters).
        static func table(_ header: [String], _ rows: [[String]]) -> String {
            let cut = rows.map { $0.map { $0.count > 60 ? String($0.prefix(59)) + "…" : $0 } }
            let widths = header.indices.map { i in ([header[i]] + cut.map { $0[i] }).map(\.count).max() ?? 0 }
            return ([header] + cut).map { row in
                row.indices.map { i in i == row.count - 1 ? row[i] : row[i] + String(repeating: " ", count: widths[i] - row[i].count) }
                    .joined(separator: "  ").trimmingTrailingSpaces() + "\n"
            }.joined()
        }

        /// Registry text for a terminal: control characters (escape sequences) and bidi controls are
        /// shown as `<U+XXXX>`; newlines kept only in `multiline` text.
        static func safe(_ text: String, multiline: Bool = false) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                if multiline && (scalar == "\n" || scalar == "\t") {
                    out.unicodeScalars.append(scalar)
                } else if VisibleText.isControl(scalar) || VisibleText.isInvisible(scalar) {
                    out += "<" + VisibleText.codePoint(scalar) + ">"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
            return out
        }
    }
}

extension String {
    fileprivate func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
