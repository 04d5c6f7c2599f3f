import TFRegCore

/// `ProviderStore` in the actor: dictionaries keyed like the real stores' keys.
extension InMemoryMetadataStore {
    private static func key(_ p: ProviderAddress, _ v: String) -> String { "\(p)/\(v)" }

    public func providerVersions(of provider: ProviderAddress) async throws(RegistryError) -> [ProviderVersionRecord] {
        try check()
        return providerVersionsByKey.values.filter { $0.provider == provider }
    }

    public func allProviderVersions(in namespace: Namespace?) async throws(RegistryError) -> [ProviderVersionRecord] {
        try check()
        return providerVersionsByKey.values.filter { namespace == nil || ($0.provider.namespace == namespace && $0.provider.origin == nil) }
    }

    public func providerVersion(_ version: Version, of provider: ProviderAddress) async throws(RegistryError) -> ProviderVersionRecord? {
        try check()
        return providerVersionsByKey[Self.key(provider, version.description)]
    }

    public func insertProviderVersion(_ record: ProviderVersionRecord) async throws(RegistryError) {
        try check()
        let precedence = Self.key(record.provider, record.version.precedenceKey)
        guard !providerPrecedences.contains(precedence) else { throw .conflict("provider version \(record.version) already exists or was deleted") }
        providerPrecedences.insert(precedence)
        providerVersionsByKey[Self.key(record.provider, record.version.description)] = record
    }

    public func tombstoneProviderVersion(
        _ version: Version,
        of provider: ProviderAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    {
        try check()
        return providerVersionsByKey.removeValue(forKey: Self.key(provider, version.description))
    }

    public func setProviderDeprecation(
        _ deprecation: Deprecation?,
        version: Version,
        of provider: ProviderAddress
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    {
        try check()
        let k = Self.key(provider, version.description)
        guard var record = providerVersionsByKey[k] else { return nil }
        record.deprecation = deprecation
        providerVersionsByKey[k] = record
        return record
    }

    public func signingKeys(in namespace: Namespace, origin: String?) async throws(RegistryError) -> [ProviderSigningKey] {
        try check()
        return signingKeysByKey.values.filter { $0.namespace == namespace && $0.origin == origin }.sorted { $0.fingerprint < $1.fingerprint }
    }

    public func addSigningKey(_ key: ProviderSigningKey) async throws(RegistryError) {
        try check()
        let k = "\(key.storageNamespace)/\(key.fingerprint)"
        guard signingKeysByKey[k] == nil else { throw .conflict("key \(key.fingerprint) is already registered") }
        signingKeysByKey[k] = key
    }

    public func removeSigningKey(fingerprint: String, in namespace: Namespace) async throws(RegistryError) -> Bool {
        try check()
        return signingKeysByKey.removeValue(forKey: "\(namespace)/\(fingerprint)") != nil
    }
}
