import TFRegCore

/// A `ModuleDocumenter` that answers the same documentation for every archive and counts its calls:
/// the service's part of documentation (store, reference, read back) is tested without the HCL parser.
public actor FixedDocumenter: ModuleDocumenter {
    public let docs: ModuleDocs
    public private(set) var calls = 0

    public init(_ docs: ModuleDocs) { self.docs = docs }

    public func documentation(ofArchiveAt path: String) async -> ModuleDocs {
        calls += 1
        return docs
    }

    /// A module with every kind of field: a README, a required and an optional input (default
    /// JSON-encoded), an output, a module call, a provider, a resource, a submodule and an example.
    public static let sample = ModuleDocs(
        root: ModuleDocs.Part(
            path: "",
            readme:
                "# VPC\n\n[![badge](https://x/b.svg)](https://x)\n\nCreates a **VPC** with [subnets](https://example.com)\nacross zones.\n\nMore text.\n",
            inputs: [
                ModuleDocs.Input(name: "cidr", type: "string", description: "The CIDR block.", required: true),
                ModuleDocs.Input(name: "tags", type: "map(string)", defaultJSON: "{\"team\":\"a\"}", required: false),
            ],
            outputs: [ModuleDocs.Output(name: "vpc_id", description: "The VPC's id.")],
            dependencies: [ModuleDocs.Dependency(name: "subnets", source: "./modules/subnets")],
            providerDependencies: [ModuleDocs.ProviderDependency(name: "aws", namespace: "hashicorp", source: "hashicorp/aws", version: ">= 5.0")],
            resources: [ModuleDocs.Resource(type: "aws_vpc", name: "this")],
            requiredVersion: ">= 1.5"
        ),
        submodules: [ModuleDocs.Part(path: "modules/subnets", inputs: [ModuleDocs.Input(name: "vpc_id", required: true)])],
        examples: [ModuleDocs.Part(path: "examples/simple", readme: "Simple.", problems: ["main.tf:3: unexpected '}'"])]
    )
}
