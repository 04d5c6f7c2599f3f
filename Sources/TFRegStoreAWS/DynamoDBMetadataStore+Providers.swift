import TFRegAWS
import TFRegCore

/// `ProviderStore` on DynamoDB (issue 20), every item in the namespace's partition (Queries only, a Scan
/// only for the administrative `allProviderVersions(in: nil)`):
///
/// | item | pk | sk | attributes |
/// |---|---|---|---|
/// | provider version | NAMESPACE | `ProviderVersion~TYPE~VERSION` | namespace, type, version, protocols, packages (JSON), shasums_*, signature_*, key_fingerprint, published_*, deprecation |
/// | precedence reservation | NAMESPACE | `ProviderPrecedence~TYPE~VERSION-WITHOUT-BUILD` | (none) |
/// | tombstone | NAMESPACE | `ProviderTombstone~TYPE~VERSION` | version, deleted_at, deleted_by |
/// | signing key | NAMESPACE | `ProviderKey~FINGERPRINT` | fingerprint, key_id, ascii_armor, added_at, added_by |
///
/// A provider mirrored from another registry (`ProviderAddress.origin`) has `HOST/NAMESPACE` where
/// NAMESPACE stands (its `storageNamespace`), for its versions and the upstream keys kept with them: a
/// namespace has no `/`, so these partitions never meet an own namespace's, a grant's or a token's.
///
/// A version is put in one transaction with its precedence item (`attribute_not_exists`); a delete
/// removes the version and writes the tombstone in one transaction and keeps the precedence item.
extension DynamoDBMetadataStore {
    static func providerVersionSK(_ p: ProviderAddress, _ v: String) -> String { "ProviderVersion~\(p.type)~\(v)" }
    static func providerPrefix(_ p: ProviderAddress) -> String { "ProviderVersion~\(p.type)~" }
    static func providerPrecedenceSK(_ p: ProviderAddress, _ v: Version) -> String { "ProviderPrecedence~\(p.type)~\(v.precedenceKey)" }
    static func providerTombstoneSK(_ p: ProviderAddress, _ v: String) -> String { "ProviderTombstone~\(p.type)~\(v)" }
    static func signingKeySK(_ fingerprint: String) -> String { "ProviderKey~\(fingerprint)" }

    static func blob(_ item: DynamoDBItem, _ prefix: String) -> ProviderBlob? {
        guard let key = item["\(prefix)_key"]?.string, let sha = item["\(prefix)_sha256"]?.string, let size = item["\(prefix)_size"]?.int else {
            return nil
        }
        return ProviderBlob(location: ArchiveLocation(bucket: item["\(prefix)_bucket"]?.string, key: key), sha256: sha, size: size)
    }

    static func put(_ b: ProviderBlob, _ prefix: String, into item: inout DynamoDBItem) {
        item["\(prefix)_key"] = .s(b.location.key)
        item["\(prefix)_sha256"] = .s(b.sha256)
        item["\(prefix)_size"] = .n(String(b.size))
        if let bucket = b.location.bucket { item["\(prefix)_bucket"] = .s(bucket) }
    }

    static func providerRecord(_ item: DynamoDBItem) -> ProviderVersionRecord? {
        guard let ns = item["namespace"]?.string, let type = item["type"]?.string, let v = item["version"]?.string,
            let provider = try? ProviderAddress(storageNamespace: ns, type: type), let version = try? Version(v),
            let protocols = item["protocols"]?.string.flatMap(ProviderRecordCoding.decodeStrings),
            let packages = item["packages"]?.string.flatMap(ProviderRecordCoding.decodePackages),
            let shasums = blob(item, "shasums"), let signature = blob(item, "signature"),
            let fp = item["key_fingerprint"]?.string, let at = item["published_at"]?.int
        else { return nil }
        let deprecation = item["deprecated_at"]?.int.map {
            Deprecation(
                reason: item["deprecation_reason"]?.string ?? "",
                replacement: item["deprecation_replacement"]?.string,
                at: $0,
                by: item["deprecated_by"]?.string
            )
        }
        return ProviderVersionRecord(
            provider: provider,
            version: version,
            protocols: protocols,
            packages: packages,
            shasums: shasums,
            signature: signature,
            keyFingerprint: fp,
            publishedAt: at,
            publishedBy: item["published_by"]?.string,
            deprecation: deprecation
        )
    }

    static func providerItem(_ r: ProviderVersionRecord) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "pk": .s(r.provider.storageNamespace), "sk": .s(providerVersionSK(r.provider, r.version.description)),
            "namespace": .s(r.provider.storageNamespace), "type": .s(r.provider.type), "version": .s(r.version.description),
            "protocols": .s(ProviderRecordCoding.encodeStrings(r.protocols)), "packages": .s(ProviderRecordCoding.encodePackages(r.packages)),
            "key_fingerprint": .s(r.keyFingerprint), "published_at": .n(String(r.publishedAt)),
        ]
        put(r.shasums, "shasums", into: &item)
        put(r.signature, "signature", into: &item)
        if let by = r.publishedBy { item["published_by"] = .s(by) }
        if let d = r.deprecation {
            item["deprecated_at"] = .n(String(d.at))
            item["deprecation_reason"] = .s(d.reason)
            if let x = d.replacement { item["deprecation_replacement"] = .s(x) }
            if let by = d.by { item["deprecated_by"] = .s(by) }
        }
        return item
    }

    public func providerVersions(of provider: ProviderAddress) async throws(RegistryError) -> [ProviderVersionRecord] {
        try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(provider.storageNamespace), ":prefix": .s(Self.providerPrefix(provider))]
                )
            )
        }.compactMap(Self.providerRecord).filter { $0.provider == provider }
    }

    public func allProviderVersions(in namespace: Namespace?) async throws(RegistryError) -> [ProviderVersionRecord] {
        try await wrap { () async throws(AWSError) in
            if let namespace {
                return try await dynamo.query(
                    table: table,
                    keyCondition: .init(
                        "pk = :pk AND begins_with(sk, :prefix)",
                        values: [":pk": .s(namespace.value), ":prefix": .s("ProviderVersion~")]
                    )
                )
            }
            return try await dynamo.scan(table: table, filter: .init("begins_with(sk, :prefix)", values: [":prefix": .s("ProviderVersion~")]))
        }.compactMap(Self.providerRecord)
    }

    public func providerVersion(_ version: Version, of provider: ProviderAddress) async throws(RegistryError) -> ProviderVersionRecord? {
        try await wrap { () async throws(AWSError) in
            try await dynamo.getItem(
                table: table,
                key: ["pk": .s(provider.storageNamespace), "sk": .s(Self.providerVersionSK(provider, version.description))]
            )
        }.flatMap(Self.providerRecord)
    }

    public func insertProviderVersion(_ r: ProviderVersionRecord) async throws(RegistryError) {
        let ns = r.provider.storageNamespace
        do {
            try await dynamo.transactWrite([
                .put(
                    table: table,
                    item: ["pk": .s(ns), "sk": .s(Self.providerPrecedenceSK(r.provider, r.version))],
                    condition: .init("attribute_not_exists(pk)")
                ),
                .put(table: table, item: Self.providerItem(r), condition: .init("attribute_not_exists(pk)")),
            ])
        } catch {
            if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" {
                throw .conflict("version \(r.version) of provider \(r.provider) already exists or was deleted; versions are immutable")
            }
            throw map(error)
        }
    }

    public func tombstoneProviderVersion(
        _ version: Version,
        of provider: ProviderAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    {
        let ns = provider.storageNamespace
        let key: DynamoDBItem = ["pk": .s(ns), "sk": .s(Self.providerVersionSK(provider, version.description))]
        guard
            let existing = try await wrap({ () async throws(AWSError) in try await dynamo.getItem(table: table, key: key) }).flatMap(
                Self.providerRecord
            )
        else { return nil }
        var tombstone: DynamoDBItem = [
            "pk": .s(ns), "sk": .s(Self.providerTombstoneSK(provider, version.description)), "version": .s(version.description),
            "deleted_at": .n(String(at)),
        ]
        if let by { tombstone["deleted_by"] = .s(by) }
        do {
            try await dynamo.transactWrite([
                .delete(table: table, key: key, condition: .init("attribute_exists(pk)")),
                .put(table: table, item: tombstone, condition: nil),
            ])
        } catch {
            if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" { return nil }
            throw map(error)
        }
        return existing
    }

    public func setProviderDeprecation(
        _ d: Deprecation?,
        version: Version,
        of provider: ProviderAddress
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    {
        let key: DynamoDBItem = ["pk": .s(provider.storageNamespace), "sk": .s(Self.providerVersionSK(provider, version.description))]
        let update: DynamoDBClient.Expression
        if let d {
            var set = ["deprecated_at = :at", "deprecation_reason = :reason"]
            var remove: [String] = []
            var values: DynamoDBItem = [":at": .n(String(d.at)), ":reason": .s(d.reason)]
            if let x = d.replacement {
                set.append("deprecation_replacement = :replacement")
                values[":replacement"] = .s(x)
            } else {
                remove.append("deprecation_replacement")
            }
            if let by = d.by {
                set.append("deprecated_by = :by")
                values[":by"] = .s(by)
            } else {
                remove.append("deprecated_by")
            }
            update = .init("SET " + set.joined(separator: ", ") + (remove.isEmpty ? "" : " REMOVE " + remove.joined(separator: ", ")), values: values)
        } else {
            update = .init("REMOVE deprecated_at, deprecation_reason, deprecation_replacement, deprecated_by")
        }
        do {
            let after = try await dynamo.updateItem(table: table, key: key, update: update, condition: .init("attribute_exists(pk)"))
            return after.flatMap(Self.providerRecord)
        } catch {
            if error.kind == .conditionalCheckFailed { return nil }
            throw map(error)
        }
    }

    static func signingKey(_ item: DynamoDBItem) -> ProviderSigningKey? {
        guard let owner = item["pk"]?.string.flatMap({ try? ProviderAddress(storageNamespace: $0, type: "key") }),
            let fp = item["fingerprint"]?.string, let id = item["key_id"]?.string,
            let armor = item["ascii_armor"]?.string, let at = item["added_at"]?.int
        else { return nil }
        return ProviderSigningKey(
            namespace: owner.namespace,
            fingerprint: fp,
            keyID: id,
            asciiArmor: armor,
            addedAt: at,
            addedBy: item["added_by"]?.string,
            origin: owner.origin
        )
    }

    public func signingKeys(in namespace: Namespace, origin: String?) async throws(RegistryError) -> [ProviderSigningKey] {
        // A mirrored provider's upstream keys sit in the partition `HOST/NAMESPACE` (no own namespace has a `/`).
        let pk = origin.map { "\($0)/\(namespace.value)" } ?? namespace.value
        return try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init("pk = :pk AND begins_with(sk, :prefix)", values: [":pk": .s(pk), ":prefix": .s("ProviderKey~")])
            )
        }.compactMap(Self.signingKey).sorted { $0.fingerprint < $1.fingerprint }
    }

    public func addSigningKey(_ k: ProviderSigningKey) async throws(RegistryError) {
        var item: DynamoDBItem = [
            "pk": .s(k.storageNamespace), "sk": .s(Self.signingKeySK(k.fingerprint)), "fingerprint": .s(k.fingerprint), "key_id": .s(k.keyID),
            "ascii_armor": .s(k.asciiArmor), "added_at": .n(String(k.addedAt)),
        ]
        if let by = k.addedBy { item["added_by"] = .s(by) }
        do {
            try await dynamo.putItem(table: table, item: item, condition: .init("attribute_not_exists(pk)"))
        } catch {
            if error.kind == .conditionalCheckFailed { throw .conflict("key \(k.fingerprint) is already registered in namespace \(k.namespace)") }
            throw map(error)
        }
    }

    public func removeSigningKey(fingerprint: String, in namespace: Namespace) async throws(RegistryError) -> Bool {
        do {
            _ = try await dynamo.deleteItem(
                table: table,
                key: ["pk": .s(namespace.value), "sk": .s(Self.signingKeySK(fingerprint))],
                condition: .init("attribute_exists(pk)")
            )
            return true
        } catch {
            if error.kind == .conditionalCheckFailed { return false }
            throw map(error)
        }
    }
}
