import TFRegCore
import TFRegJSON
import TFRegSystem

/// The JSON shapes of the module routes, each written once: a list item (Terraform's module registry
/// protocol), a module's details, its versions, a published version, a deprecation.
enum ModuleJSON {
    static func deprecation(_ d: Deprecation) -> JSONValue {
        var fields: [(String, JSONValue)] = [("reason", .string(d.reason))]
        if let r = d.replacement {
            fields.append(("replacement", .string(r)))
            // What Terraform's deprecation warning (an unreleased branch) reads besides `reason`.
            if PublishDetails.isHTTPURL(r) { fields.append(("link", .string(r))) }
        }
        fields.append(("deprecated_at", .string(rfc3339(d.at))))
        if let by = d.by { fields.append(("deprecated_by", .string(by))) }
        return .object(fields)
    }

    /// The answer to upload, create and deprecate: the version as stored.
    static func published(_ record: ModuleVersionRecord) -> JSONValue {
        let module = record.module
        return JSONValue.object(
            [
                ("id", .string("\(module)/\(record.version)")), ("namespace", .string(module.namespace.value)), ("name", .string(module.name)),
                ("provider", .string(module.system)), ("version", .string(record.version.description)), ("sha256", .string(record.sha256)),
                ("size", .int(record.size)), ("published_at", .string(rfc3339(record.publishedAt))),
            ] + (record.description.map { [("description", .string($0))] } ?? []) + (record.source.map { [("source", .string($0))] } ?? [])
                + [("documented", .bool(record.docsKey != nil))] + (record.deprecation.map { [("deprecation", deprecation($0))] } ?? [])
        )
    }

    /// A list item (module registry protocol, "List Modules") of the module's latest version, from its summary.
    static func listItem(_ s: ModuleSummary) -> [(String, JSONValue)] {
        [
            ("id", .string("\(s.module)/\(s.latest)")), ("owner", .string(s.latestPublishedBy ?? "")),
            ("namespace", .string(s.module.namespace.value)), ("name", .string(s.module.name)),
            ("version", .string(s.latest.description)), ("provider", .string(s.module.system)),
            ("description", .string(s.description)), ("source", .string(s.source ?? "")),
            ("published_at", .string(rfc3339(s.latestPublishedAt))), ("downloads", .int(s.downloads)), ("verified", .bool(false)),
        ]
    }

    /// `GET /v1/modules/NS/NAME/SYS[/VER]`: the public registry's module detail document (`id, owner,
    /// namespace, name, version, provider, description, source, published_at, downloads, verified,
    /// root, submodules, examples, providers, versions`) plus tfreg's `sha256`, `published_by` and
    /// `deprecation`. Each input's `default` is a JSON-encoded string (what terraform-ls decodes); a
    /// version without extracted documentation has an empty root (`documented: false`).
    static func detail(_ d: ModuleDetail) -> JSONValue {
        let r = d.record
        let module = r.module
        let root = d.docs?.root ?? ModuleDocs.Part(path: "")
        var fields: [(String, JSONValue)] = [
            ("id", .string("\(module)/\(r.version)")), ("owner", .string(r.publishedBy ?? "")),
            ("namespace", .string(module.namespace.value)), ("name", .string(module.name)),
            ("version", .string(r.version.description)), ("provider", .string(module.system)),
            ("description", .string(d.description)), ("source", .string(d.source ?? "")),
            ("published_at", .string(rfc3339(r.publishedAt))), ("downloads", .int(d.downloads)), ("verified", .bool(false)),
            ("root", part(root, name: module.name)),
            ("submodules", .array((d.docs?.submodules ?? []).map { part($0, name: $0.name) })),
            ("examples", .array((d.docs?.examples ?? []).map { part($0, name: $0.name) })),
            ("providers", .array([.string(module.system)])),
            ("versions", .array(d.versions.map { .string($0.version.description) })),
            ("sha256", .string(r.sha256)), ("published_by", r.publishedBy.map(JSONValue.string) ?? .null),
            ("documented", .bool(d.docs != nil)),
        ]
        if let dep = r.deprecation { fields.append(("deprecation", deprecation(dep))) }
        return .object(fields)
    }

    /// One directory's documentation in the public registry's shape (`path, name, readme, empty,
    /// inputs, outputs, dependencies, provider_dependencies, resources`), strings never null, plus
    /// tfreg's `sensitive`/`nullable` per input, `required_version` and `problems` (why some is missing).
    static func part(_ p: ModuleDocs.Part, name: String) -> JSONValue {
        var fields: [(String, JSONValue)] = [
            ("path", .string(p.path)), ("name", .string(name)), ("readme", .string(p.readme ?? "")), ("empty", .bool(p.empty)),
            (
                "inputs",
                .array(
                    p.inputs.map { i in
                        .object([
                            ("name", .string(i.name)), ("type", .string(i.type ?? "")), ("description", .string(i.description ?? "")),
                            ("default", .string(i.defaultJSON ?? "")), ("required", .bool(i.required)), ("sensitive", .bool(i.sensitive)),
                            ("nullable", .bool(i.nullable)),
                        ])
                    }
                )
            ),
            (
                "outputs",
                .array(
                    p.outputs.map { o in
                        .object([("name", .string(o.name)), ("description", .string(o.description ?? "")), ("sensitive", .bool(o.sensitive))])
                    }
                )
            ),
            (
                "dependencies",
                .array(
                    p.dependencies.map {
                        .object([("name", .string($0.name)), ("source", .string($0.source)), ("version", .string($0.version ?? ""))])
                    }
                )
            ),
            (
                "provider_dependencies",
                .array(
                    p.providerDependencies.map {
                        .object([
                            ("name", .string($0.name)), ("namespace", .string($0.namespace)), ("source", .string($0.source)),
                            ("version", .string($0.version ?? "")),
                        ])
                    }
                )
            ),
            ("resources", .array(p.resources.map { .object([("name", .string($0.name)), ("type", .string($0.type))]) })),
        ]
        if let v = p.requiredVersion { fields.append(("required_version", .string(v))) }
        if !p.problems.isEmpty { fields.append(("problems", .array(p.problems.map(JSONValue.string)))) }
        return .object(fields)
    }

    /// `GET …/versions` (module registry protocol, "List Available Versions for a Specific Module"):
    /// `{"modules":[{"source":…,"versions":[{"version":…[,"deprecation":{…}]},…]}]}`.
    /// Written straight into bytes: this is the hottest answer (every `terraform init`, every
    /// Renovate run), and building a `JSONValue` tree for it, then writing and freeing the tree, cost
    /// more than the rest of tfreg's own work per request (callgrind, issue 17). The tree form stays
    /// in the tests as the oracle.
    static func versions(_ module: ModuleAddress, _ records: [ModuleVersionRecord]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(64 + records.count * 24)
        // `source`: the latest version's repository URL when it has one (Renovate links it), else the
        // module's address, as before.
        let source = RegistryService.latestRecordIfAny(records)?.source ?? module.description
        out.append(contentsOf: #"{"modules":[{"source":"#.utf8)
        JSONString.write(source, into: &out)
        out.append(contentsOf: #","versions":["#.utf8)
        for i in records.indices {
            if i > records.startIndex { out.append(UInt8(ascii: ",")) }
            out.append(contentsOf: #"{"version":"#.utf8)
            JSONString.write(records[i].version.description, into: &out)
            if let d = records[i].deprecation {
                out.append(contentsOf: #","deprecation":"#.utf8)
                deprecation(d).write(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "]}]}".utf8)
        return out
    }

    /// A page of a listing or search: `meta` (with `next_url` when there is more) and the modules.
    static func page(_ page: Page<ModuleSummary>, nextURL: String?) -> JSONValue {
        var meta: [(String, JSONValue)] = [("limit", .int(Int64(page.limit))), ("current_offset", .int(Int64(page.offset)))]
        if let next = page.nextOffset {
            meta.append(("next_offset", .int(Int64(next))))
            if let nextURL { meta.append(("next_url", .string(nextURL))) }
        }
        if let prev = page.previousOffset { meta.append(("prev_offset", .int(Int64(prev)))) }
        return .object([("meta", .object(meta)), ("modules", .array(page.items.map { .object(listItem($0)) }))])
    }
}
