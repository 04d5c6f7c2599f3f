/// Module addresses are case-insensitive, as Terraform compares registry addresses: `Acme/Vpc/aws`
/// and `acme/vpc/aws` are one module, displayed as its first publish spelled it. Read from the
/// listing summaries every store keeps (DynamoDB: one Query of the namespace directory, then one
/// Query per namespace spelled like the asked one, usually one), so no store needs a new key; only
/// the miss path of a read and a publish ever ask.
extension ModuleStore {
    /// The namespace as stored, when a namespace equal to `namespace` ignoring ASCII case holds (or
    /// held) a module summary: `namespace` itself when it is stored so, else the first other
    /// spelling in order; nil when none does.
    public func storedSpelling(of namespace: Namespace) async throws(RegistryError) -> Namespace? {
        let key = namespace.folded
        let matches = try await summaryNamespaces().filter { $0.folded == key }
        return matches.contains(namespace) ? namespace : matches.sorted().first
    }

    /// The module as stored, when one equal to `module` ignoring ASCII case has a live version:
    /// `module` itself when it is stored so, else the first other spelling in order; nil when none.
    /// Data written before names were compared this way may hold two spellings; both stay readable
    /// under their own spelling (see `SQLiteMetadataStore.migrations` 8).
    public func storedSpelling(of module: ModuleAddress) async throws(RegistryError) -> ModuleAddress? {
        let key = module.folded
        var matches: [ModuleAddress] = []
        let namespaces = try await summaryNamespaces().filter { $0.folded == module.namespace.folded }
        for ns in namespaces {
            matches += try await moduleSummaries(in: ns).map(\.module).filter { $0.folded == key }
        }
        return matches.contains(module) ? module : matches.sorted().first
    }
}
