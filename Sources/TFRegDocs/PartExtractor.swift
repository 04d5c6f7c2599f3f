import TFRegCore
import TFRegHCL
import TFRegJSON

/// The schema of the blocks documentation reads from a `.tf.json` file (Terraform's JSON syntax).
enum TerraformJSONSchema {
    static let variable = HCLJSONSyntax.Schema(
        blocks: ["validation": (0, HCLJSONSyntax.Schema())],
        expressionAttributes: ["type"]
    )
    static let terraform = HCLJSONSyntax.Schema(
        blocks: [
            "required_providers": (0, HCLJSONSyntax.Schema()),
            "backend": (1, HCLJSONSyntax.Schema()),
            "cloud": (0, HCLJSONSyntax.Schema()),
        ]
    )
    static let file = HCLJSONSyntax.Schema(blocks: [
        "variable": (1, variable),
        "output": (1, HCLJSONSyntax.Schema(expressionAttributes: ["value"])),
        "module": (1, HCLJSONSyntax.Schema()),
        "resource": (2, HCLJSONSyntax.Schema()),
        "data": (2, HCLJSONSyntax.Schema()),
        "terraform": (0, terraform),
        "provider": (1, HCLJSONSyntax.Schema()),
        "locals": (0, HCLJSONSyntax.Schema()),
    ])
}

/// One directory's documentation: files are read in Terraform's order, override files merged.
struct PartExtractor {
    /// A named block and its arguments, merged across files.
    struct Named {
        var name: String
        var arguments: [String: HCLExpression]
    }

    let path: String
    let limits: HCLLimits
    var problems: [String] = []
    var variables: [Named] = []
    var outputs: [Named] = []
    var modules: [Named] = []
    var providers: [(name: String, expression: HCLExpression)] = []
    var requiredVersion: HCLExpression?
    var resources: [ModuleDocs.Resource] = []

    init(path: String, limits: HCLLimits) {
        self.path = path
        self.limits = limits
    }

    mutating func run(
        files: [(name: String, bytes: [UInt8])],
        deadline: ContinuousClock.Instant,
        clock: ContinuousClock
    )
        -> ModuleDocs.Part
    {
        let readme = files.first { HCLModuleDocumenter.isReadme($0.name) }.map { String(decoding: $0.bytes, as: UTF8.self) }
        let terraform = files.filter { HCLModuleDocumenter.isTerraformFile($0.name) }
            .sorted { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
        let ordered = terraform.filter { !HCLModuleDocumenter.isOverride($0.name) } + terraform.filter { HCLModuleDocumenter.isOverride($0.name) }
        for (k, file) in ordered.enumerated() {
            guard clock.now < deadline else {
                problems.append("the time limit for documentation was reached: \(ordered.count - k) file(s) not read")
                break
            }
            let result: HCLParseResult
            if file.name.hasSuffix(".tf.json") {
                result = HCLJSONSyntax.parse(file.bytes, filename: file.name, schema: TerraformJSONSchema.file, limits: limits)
            } else {
                result = HCLParser.parse(file.bytes, filename: file.name, limits: limits)
            }
            if let error = result.error { problems.append(error.description) }
            read(result.body, file: file.name, override: HCLModuleDocumenter.isOverride(file.name))
        }
        return ModuleDocs.Part(
            path: path,
            readme: readme,
            empty: terraform.isEmpty,
            inputs: variables.map(Self.input),
            outputs: outputs.map {
                ModuleDocs.Output(
                    name: $0.name,
                    description: $0.arguments["description"].map(Self.text),
                    sensitive: $0.arguments["sensitive"]?.value?.boolValue ?? false
                )
            },
            dependencies: modules.map {
                ModuleDocs.Dependency(
                    name: $0.name,
                    source: $0.arguments["source"].map(Self.text) ?? "",
                    version: $0.arguments["version"].map(Self.text)
                )
            },
            providerDependencies: providers.map(Self.provider),
            resources: resources,
            requiredVersion: requiredVersion.map(Self.text),
            problems: problems
        )
    }

    /// A string's value, else the expression as written.
    static func text(_ e: HCLExpression) -> String { e.value?.stringValue ?? e.source }

    static func input(_ v: Named) -> ModuleDocs.Input {
        let defaultJSON = v.arguments["default"].map { e in
            String(decoding: (e.value ?? .string(e.source)).serialized(), as: UTF8.self)
        }
        return ModuleDocs.Input(
            name: v.name,
            type: v.arguments["type"]?.source,
            description: v.arguments["description"].map(text),
            defaultJSON: defaultJSON,
            required: v.arguments["default"] == nil,
            sensitive: v.arguments["sensitive"]?.value?.boolValue ?? false,
            nullable: v.arguments["nullable"]?.value?.boolValue ?? true
        )
    }

    /// `name = { source = "ns/type", version = "…" }`, or the old `name = "version"` (source implied
    /// `hashicorp/NAME`, as Terraform implies it).
    static func provider(_ p: (name: String, expression: HCLExpression)) -> ModuleDocs.ProviderDependency {
        var source: String?
        var version: String?
        if case .string(let v) = p.expression.value {
            version = v
        } else {
            source = p.expression.item("source").map(text)
            version = p.expression.item("version").map(text)
        }
        let address = source ?? "hashicorp/\(p.name)"
        let parts = address.split(separator: "/")
        let namespace = parts.count >= 2 ? String(parts[parts.count - 2]) : ""
        return ModuleDocs.ProviderDependency(name: p.name, namespace: namespace, source: address, version: version)
    }

    mutating func problem(_ file: String, _ line: Int, _ message: String) { problems.append("\(file):\(line): \(message)") }

    mutating func read(_ body: HCLBody, file: String, override: Bool) {
        for block in body.blocks {
            switch (block.type, block.labels.count) {
            case ("variable", 1):
                if let p = Self.merge(block, into: &variables, kind: "variable", file: file, override: override) { problems.append(p) }
            case ("output", 1):
                if let p = Self.merge(block, into: &outputs, kind: "output", file: file, override: override) { problems.append(p) }
            case ("module", 1):
                if let p = Self.merge(block, into: &modules, kind: "module", file: file, override: override) { problems.append(p) }
            case ("resource", 2), ("data", 2):
                let r = ModuleDocs.Resource(
                    type: block.type == "data" ? "data." + block.labels[0] : block.labels[0],
                    name: block.labels[1]
                )
                if override {
                    if !resources.contains(r) {
                        problem(file, block.line, "override of \(block.type) \"\(r.type)\" \"\(r.name)\", which no primary file declares (ignored)")
                    }
                } else if resources.contains(r) {
                    problem(file, block.line, "duplicate \(block.type) \"\(block.labels[0])\" \"\(r.name)\" (ignored)")
                } else {
                    resources.append(r)
                }
            case ("terraform", 0): terraformBlock(block, file: file, override: override)
            default: break
            }
        }
    }

    /// Adds or merges `block` into `list`; the problem to report, if any.
    static func merge(_ block: HCLBlock, into list: inout [Named], kind: String, file: String, override: Bool) -> String? {
        let name = block.labels[0]
        var arguments: [String: HCLExpression] = [:]
        for a in block.body.attributes { arguments[a.name] = a.expression }
        if let k = list.firstIndex(where: { $0.name == name }) {
            if override {
                list[k].arguments.merge(arguments) { _, new in new }
                return nil
            }
            return "\(file):\(block.line): duplicate \(kind) \"\(name)\" (the first one is documented)"
        }
        if override {
            return "\(file):\(block.line): override of \(kind) \"\(name)\", which no primary file declares (ignored)"
        }
        list.append(Named(name: name, arguments: arguments))
        return nil
    }

    mutating func terraformBlock(_ block: HCLBlock, file: String, override: Bool) {
        if let v = block.body.attribute("required_version") {
            if requiredVersion == nil || override { requiredVersion = v.expression }
        }
        for inner in block.body.blocks where inner.type == "required_providers" && inner.labels.isEmpty {
            for a in inner.body.attributes {
                if let k = providers.firstIndex(where: { $0.name == a.name }) {
                    if override {
                        providers[k].expression = a.expression
                    } else {
                        problem(file, a.line, "provider \"\(a.name)\" is required twice (the first one is documented)")
                    }
                } else {
                    providers.append((a.name, a.expression))
                }
            }
        }
    }
}
