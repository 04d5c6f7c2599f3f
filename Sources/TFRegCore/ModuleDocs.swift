import Logging

/// What a module version's documentation says, extracted once from its canonical archive when the
/// version is stored (never on the read path), so it describes exactly the bytes `terraform init`
/// installs. One `ModuleDocs.Part` each for the root module, every `modules/*` submodule and every
/// `examples/*` directory; the names and meanings follow hashicorp/terraform-config-inspect and the
/// public registry's module detail API.
public struct ModuleDocs: Sendable, Hashable {
    /// The root module (`path` is "").
    public var root: Part
    /// `modules/NAME`, ordered by path.
    public var submodules: [Part]
    /// `examples/NAME`, ordered by path.
    public var examples: [Part]

    public init(root: Part, submodules: [Part] = [], examples: [Part] = []) {
        self.root = root
        self.submodules = submodules
        self.examples = examples
    }

    /// One directory of `.tf` / `.tf.json` files.
    public struct Part: Sendable, Hashable {
        /// The directory inside the archive ("" for the root, `modules/vpc`, `examples/simple`).
        public var path: String
        /// README.md (name matched case-insensitively) as written, nil when there is none.
        public var readme: String?
        /// True when the directory has no `.tf` / `.tf.json` file.
        public var empty: Bool
        public var inputs: [Input]
        public var outputs: [Output]
        /// Module calls.
        public var dependencies: [Dependency]
        /// `terraform { required_providers { … } }`.
        public var providerDependencies: [ProviderDependency]
        public var resources: [Resource]
        /// `terraform { required_version = "…" }`, as written.
        public var requiredVersion: String?
        /// Why some of the documentation is missing: a file that does not parse (`main.tf:12: …`), a
        /// bound reached. Empty when everything was read.
        public var problems: [String]

        public init(
            path: String,
            readme: String? = nil,
            empty: Bool = false,
            inputs: [Input] = [],
            outputs: [Output] = [],
            dependencies: [Dependency] = [],
            providerDependencies: [ProviderDependency] = [],
            resources: [Resource] = [],
            requiredVersion: String? = nil,
            problems: [String] = []
        ) {
            self.path = path
            self.readme = readme
            self.empty = empty
            self.inputs = inputs
            self.outputs = outputs
            self.dependencies = dependencies
            self.providerDependencies = providerDependencies
            self.resources = resources
            self.requiredVersion = requiredVersion
            self.problems = problems
        }

        /// The last path component ("" for the root).
        public var name: String { path.split(separator: "/").last.map(String.init) ?? "" }
    }

    /// A `variable` block.
    public struct Input: Sendable, Hashable {
        public var name: String
        /// The type constraint's source text as written (`map(object({ a = string }))`), nil when absent.
        public var type: String?
        public var description: String?
        /// The default, JSON-encoded as a string (`"\"eu-west-1\""`, `"3"`, `"null"`, `"{\"a\":1}"`), as the
        /// public registry and terraform-ls expect; an expression that is not a literal keeps its source
        /// text, JSON-encoded as a string. nil when the block has no `default` attribute.
        public var defaultJSON: String?
        /// True when the block has no `default` attribute (`default = null` is optional).
        public var required: Bool
        public var sensitive: Bool
        public var nullable: Bool

        public init(
            name: String,
            type: String? = nil,
            description: String? = nil,
            defaultJSON: String? = nil,
            required: Bool,
            sensitive: Bool = false,
            nullable: Bool = true
        ) {
            self.name = name
            self.type = type
            self.description = description
            self.defaultJSON = defaultJSON
            self.required = required
            self.sensitive = sensitive
            self.nullable = nullable
        }
    }

    /// An `output` block.
    public struct Output: Sendable, Hashable {
        public var name: String
        public var description: String?
        public var sensitive: Bool
        public init(name: String, description: String? = nil, sensitive: Bool = false) {
            self.name = name
            self.description = description
            self.sensitive = sensitive
        }
    }

    /// A `module` block: its label, `source` and `version` as written.
    public struct Dependency: Sendable, Hashable {
        public var name: String
        public var source: String
        public var version: String?
        public init(name: String, source: String, version: String? = nil) {
            self.name = name
            self.source = source
            self.version = version
        }
    }

    /// An entry of `required_providers`: the local name, the source address's namespace, the source
    /// (`hashicorp/aws`) and the version constraint as written.
    public struct ProviderDependency: Sendable, Hashable {
        public var name: String
        public var namespace: String
        public var source: String
        public var version: String?
        public init(name: String, namespace: String, source: String, version: String? = nil) {
            self.name = name
            self.namespace = namespace
            self.source = source
            self.version = version
        }
    }

    /// A `resource` or `data` block (`type` is `data.aws_ami` for data sources, as terraform-docs writes it).
    public struct Resource: Sendable, Hashable {
        public var type: String
        public var name: String
        public init(type: String, name: String) {
            self.type = type
            self.name = name
        }
    }
}

/// One module version as its detail page and the detail API show it: the record, every live version
/// (highest first), the module's summary figures and, when it was extracted, its documentation.
public struct ModuleDetail: Sendable {
    public var record: ModuleVersionRecord
    public var versions: [ModuleVersionRecord]
    /// The first paragraph of the README as plain text, or what the publisher gave; "" when neither.
    public var description: String
    /// An http(s) URL of the module's repository given at publish, or nil.
    public var source: String?
    public var downloads: Int64
    /// nil for a version stored before documentation was extracted (until `tfreg reindex`).
    public var docs: ModuleDocs?

    public init(
        record: ModuleVersionRecord,
        versions: [ModuleVersionRecord],
        description: String = "",
        source: String? = nil,
        downloads: Int64 = 0,
        docs: ModuleDocs? = nil
    ) {
        self.record = record
        self.versions = versions
        self.description = description
        self.source = source
        self.downloads = downloads
        self.docs = docs
    }
}

extension RegistryService {
    /// One version of a module (the latest when `version` is nil) with every version and what is
    /// known of its documentation, authorized like `versions(of:caller:)`. The documentation is the
    /// stored blob the record names (read, never computed, here); one that cannot be read is logged
    /// and the detail comes without it.
    public func moduleDetail(
        _ module: ModuleAddress,
        version: Version?,
        caller: Principal?,
        logger: Logger? = nil
    ) async throws(RegistryError) -> ModuleDetail {
        let all = try await versions(of: module, caller: caller)
        let record: ModuleVersionRecord
        if let version {
            guard let found = all.first(where: { $0.version == version }) else {
                throw .notFound("version \(version) of module \(module) not found")
            }
            record = found
        } else {
            record = Self.latestRecord(all)
        }
        return ModuleDetail(
            record: record,
            versions: all,
            description: record.description ?? "",
            source: record.source,
            // One point read of the summary, which holds the counted downloads.
            downloads: try await store.moduleSummary(of: record.module)?.downloads ?? 0,
            docs: await documentation(of: record, logger: logger)
        )
    }
}

/// Reads a staged canonical module archive and says what its documentation is. Implemented over the
/// HCL parser (TFRegDocs); the registry calls it once when a version is stored (upload, create,
/// import, reindex), never on the read path. It never fails a publish: whatever cannot be read is
/// named in `Part.problems`, and it bounds its own time and sizes.
public protocol ModuleDocumenter: Sendable {
    func documentation(ofArchiveAt path: String) async -> ModuleDocs
}
