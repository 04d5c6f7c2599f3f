import TFRegCore
import TFRegJSON
import TFRegSystem

/// The JSON shapes of the module routes, each written once: a list item (Terraform's module registry
/// protocol), a module's details, its versions, a published version, a deprecation.
enum ModuleJSON {
    static func deprecation(_ d: Deprecation) -> JSONValue {
        var fields: [(String, JSONValue)] = [("reason", .string(d.reason))]
        if let r = d.replacement { fields.append(("replacement", .string(r))) }
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
            ] + (record.deprecation.map { [("deprecation", deprecation($0))] } ?? [])
        )
    }

    static func listItem(_ r: ModuleVersionRecord) -> [(String, JSONValue)] {
        [
            ("id", .string("\(r.module)/\(r.version)")), ("owner", .string(r.publishedBy ?? "")),
            ("namespace", .string(r.module.namespace.value)), ("name", .string(r.module.name)),
            ("version", .string(r.version.description)), ("provider", .string(r.module.system)),
            ("description", .string("")), ("source", .string("")),
            ("published_at", .string(rfc3339(r.publishedAt))), ("downloads", .int(0)), ("verified", .bool(false)),
        ]
    }

    /// The same fields as `listItem(_:)` of the module's latest version, from its summary.
    static func listItem(_ s: ModuleSummary) -> [(String, JSONValue)] {
        [
            ("id", .string("\(s.module)/\(s.latest)")), ("owner", .string(s.latestPublishedBy ?? "")),
            ("namespace", .string(s.module.namespace.value)), ("name", .string(s.module.name)),
            ("version", .string(s.latest.description)), ("provider", .string(s.module.system)),
            ("description", .string(s.description)), ("source", .string("")),
            ("published_at", .string(rfc3339(s.latestPublishedAt))), ("downloads", .int(s.downloads)), ("verified", .bool(false)),
        ]
    }

    /// `GET /v1/modules/NS/NAME/SYS[/VER]`: one version's list item, every version, its digest.
    static func detail(_ record: ModuleVersionRecord, all: [ModuleVersionRecord]) -> JSONValue {
        var fields = listItem(record)
        fields.append(("versions", .array(all.map { .string($0.version.description) })))
        fields.append(("sha256", .string(record.sha256)))
        if let d = record.deprecation { fields.append(("deprecation", deprecation(d))) }
        return .object(fields)
    }

    /// `GET …/versions` (module registry protocol, "List Available Versions for a Specific Module").
    static func versions(_ module: ModuleAddress, _ records: [ModuleVersionRecord]) -> JSONValue {
        let versions: [JSONValue] = records.map { r in
            var fields: [(String, JSONValue)] = [("version", .string(r.version.description))]
            if let d = r.deprecation { fields.append(("deprecation", deprecation(d))) }
            return .object(fields)
        }
        return .object([("modules", .array([.object([("source", .string(module.description)), ("versions", .array(versions))])]))])
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
