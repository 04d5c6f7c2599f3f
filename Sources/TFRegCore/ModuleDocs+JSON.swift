import TFRegJSON

/// The `ModuleDocs` ⇄ JSON codec, once: the registry stores a version's documentation as this JSON
/// (a `.moduleDocs` blob) and reads it back for the detail API, the web pages and `tfreg modules
/// show`. The field names are the public registry's module detail API's (`inputs`, `outputs`,
/// `provider_dependencies`, `default` as a JSON-encoded string), plus `sensitive`, `nullable`,
/// `required_version` and `problems`. Reading is strict: a document that is not exactly this shape
/// (another tfreg's format, a truncated blob) is refused, never half-read.
extension ModuleDocs {
    /// The format written; a reader refuses any other.
    public static let jsonFormat: Int64 = 1
    /// The largest stored document read back (a README of megabytes is still far below this).
    public static let maximumJSONBytes = 16 << 20

    public var jsonValue: JSONValue {
        .object([
            ("format", .int(Self.jsonFormat)), ("root", root.jsonValue), ("submodules", .array(submodules.map(\.jsonValue))),
            ("examples", .array(examples.map(\.jsonValue))),
        ])
    }

    /// Reads what `jsonValue` wrote (`.answers` depth: parts nest a few levels).
    public init(jsonBytes: [UInt8]) throws(RegistryError) {
        guard jsonBytes.count <= Self.maximumJSONBytes else { throw Self.invalid("larger than \(Self.maximumJSONBytes) bytes") }
        let json: JSONValue
        do { json = try JSONValue(parsing: jsonBytes, options: JSONParseOptions(maxDepth: 8, integersOnly: true)) } catch {
            throw Self.invalid("not JSON: \(error)")
        }
        try self.init(json: json)
    }

    public init(json: JSONValue) throws(RegistryError) {
        let r = try Reader(json, "documentation", ["format", "root", "submodules", "examples"])
        guard r.value("format")?.intValue == Self.jsonFormat else { throw Self.invalid("unknown format") }
        root = try Part(json: try r.required("root"))
        submodules = try r.array("submodules").map { v throws(RegistryError) in try Part(json: v) }
        examples = try r.array("examples").map { v throws(RegistryError) in try Part(json: v) }
    }

    static func invalid(_ why: String) -> RegistryError {
        .internalError("stored module documentation is unreadable: \(why)")
    }

    /// Strict reading of one object: only `allowed` names, each once.
    struct Reader {
        let fields: [(String, JSONValue)]
        let what: String

        init(_ json: JSONValue, _ what: String, _ allowed: Set<String>) throws(RegistryError) {
            guard case .object(let fields) = json else { throw ModuleDocs.invalid("\(what) is not an object") }
            var seen: Set<String> = []
            for (name, _) in fields {
                guard allowed.contains(name), seen.insert(name).inserted else {
                    throw ModuleDocs.invalid("\(what) has an unexpected or repeated member '\(name.prefix(32))'")
                }
            }
            self.fields = fields
            self.what = what
        }

        func value(_ name: String) -> JSONValue? { fields.first { $0.0 == name }?.1 }

        func required(_ name: String) throws(RegistryError) -> JSONValue {
            guard let v = value(name) else { throw ModuleDocs.invalid("\(what) lacks '\(name)'") }
            return v
        }

        func string(_ name: String) throws(RegistryError) -> String {
            guard let s = try required(name).stringValue else { throw ModuleDocs.invalid("\(what).\(name) is not a string") }
            return s
        }

        /// Absent or null: nil.
        func optionalString(_ name: String) throws(RegistryError) -> String? {
            guard let v = value(name), v != .null else { return nil }
            guard let s = v.stringValue else { throw ModuleDocs.invalid("\(what).\(name) is not a string") }
            return s
        }

        func bool(_ name: String) throws(RegistryError) -> Bool {
            guard let b = try required(name).boolValue else { throw ModuleDocs.invalid("\(what).\(name) is not a boolean") }
            return b
        }

        func array(_ name: String) throws(RegistryError) -> [JSONValue] {
            guard case .array(let items) = try required(name) else { throw ModuleDocs.invalid("\(what).\(name) is not an array") }
            return items
        }
    }
}

extension JSONValue {
    /// `.string(s)`, or `.null` for nil.
    static func optional(_ s: String?) -> JSONValue { s.map(JSONValue.string) ?? .null }
}

extension ModuleDocs.Part {
    public var jsonValue: JSONValue {
        .object([
            ("path", .string(path)), ("name", .string(name)), ("readme", .optional(readme)), ("empty", .bool(empty)),
            ("inputs", .array(inputs.map(\.jsonValue))), ("outputs", .array(outputs.map(\.jsonValue))),
            ("dependencies", .array(dependencies.map(\.jsonValue))),
            ("provider_dependencies", .array(providerDependencies.map(\.jsonValue))),
            ("resources", .array(resources.map(\.jsonValue))), ("required_version", .optional(requiredVersion)),
            ("problems", .array(problems.map(JSONValue.string))),
        ])
    }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(
            json,
            "part",
            [
                "path", "name", "readme", "empty", "inputs", "outputs", "dependencies", "provider_dependencies", "resources",
                "required_version", "problems",
            ]
        )
        self.init(
            path: try r.string("path"),
            readme: try r.optionalString("readme"),
            empty: try r.bool("empty"),
            inputs: try r.array("inputs").map { v throws(RegistryError) in try ModuleDocs.Input(json: v) },
            outputs: try r.array("outputs").map { v throws(RegistryError) in try ModuleDocs.Output(json: v) },
            dependencies: try r.array("dependencies").map { v throws(RegistryError) in try ModuleDocs.Dependency(json: v) },
            providerDependencies: try r.array("provider_dependencies").map { v throws(RegistryError) in try ModuleDocs.ProviderDependency(json: v) },
            resources: try r.array("resources").map { v throws(RegistryError) in try ModuleDocs.Resource(json: v) },
            requiredVersion: try r.optionalString("required_version"),
            problems: try r.array("problems").map { v throws(RegistryError) in
                guard let s = v.stringValue else { throw ModuleDocs.invalid("a problem is not a string") }
                return s
            }
        )
    }
}

extension ModuleDocs.Input {
    /// `default` is the JSON-encoded string (`defaultJSON`), null when the block has none.
    public var jsonValue: JSONValue {
        .object([
            ("name", .string(name)), ("type", .optional(type)), ("description", .optional(description)), ("default", .optional(defaultJSON)),
            ("required", .bool(required)), ("sensitive", .bool(sensitive)), ("nullable", .bool(nullable)),
        ])
    }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(json, "input", ["name", "type", "description", "default", "required", "sensitive", "nullable"])
        self.init(
            name: try r.string("name"),
            type: try r.optionalString("type"),
            description: try r.optionalString("description"),
            defaultJSON: try r.optionalString("default"),
            required: try r.bool("required"),
            sensitive: try r.bool("sensitive"),
            nullable: try r.bool("nullable")
        )
    }
}

extension ModuleDocs.Output {
    public var jsonValue: JSONValue {
        .object([("name", .string(name)), ("description", .optional(description)), ("sensitive", .bool(sensitive))])
    }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(json, "output", ["name", "description", "sensitive"])
        self.init(name: try r.string("name"), description: try r.optionalString("description"), sensitive: try r.bool("sensitive"))
    }
}

extension ModuleDocs.Dependency {
    public var jsonValue: JSONValue {
        .object([("name", .string(name)), ("source", .string(source)), ("version", .optional(version))])
    }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(json, "dependency", ["name", "source", "version"])
        self.init(name: try r.string("name"), source: try r.string("source"), version: try r.optionalString("version"))
    }
}

extension ModuleDocs.ProviderDependency {
    public var jsonValue: JSONValue {
        .object([("name", .string(name)), ("namespace", .string(namespace)), ("source", .string(source)), ("version", .optional(version))])
    }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(json, "provider dependency", ["name", "namespace", "source", "version"])
        self.init(
            name: try r.string("name"),
            namespace: try r.string("namespace"),
            source: try r.string("source"),
            version: try r.optionalString("version")
        )
    }
}

extension ModuleDocs.Resource {
    public var jsonValue: JSONValue { .object([("name", .string(name)), ("type", .string(type))]) }

    init(json: JSONValue) throws(RegistryError) {
        let r = try ModuleDocs.Reader(json, "resource", ["name", "type"])
        self.init(type: try r.string("type"), name: try r.string("name"))
    }
}
