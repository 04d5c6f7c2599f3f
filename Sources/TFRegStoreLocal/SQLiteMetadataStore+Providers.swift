import TFRegCore
import TFRegSystem

/// `ProviderStore` on SQLite (issue 20): `provider_versions` (one row per precedence, kept with
/// `deleted_at` after a delete so the number is never reused) and `provider_signing_keys`.
extension SQLiteMetadataStore {
    static let providersTable = """
        CREATE TABLE provider_versions (
            namespace TEXT NOT NULL, type TEXT NOT NULL, precedence TEXT NOT NULL, version TEXT NOT NULL,
            protocols TEXT NOT NULL, packages TEXT NOT NULL,
            shasums_bucket TEXT, shasums_key TEXT NOT NULL, shasums_sha256 TEXT NOT NULL, shasums_size INTEGER NOT NULL,
            signature_bucket TEXT, signature_key TEXT NOT NULL, signature_sha256 TEXT NOT NULL, signature_size INTEGER NOT NULL,
            key_fingerprint TEXT NOT NULL, published_at INTEGER NOT NULL, published_by TEXT,
            deprecated_at INTEGER, deprecated_by TEXT, deprecation_reason TEXT, deprecation_replacement TEXT,
            deleted_at INTEGER, deleted_by TEXT,
            PRIMARY KEY (namespace, type, precedence)
        ) WITHOUT ROWID;
        CREATE TABLE provider_signing_keys (
            namespace TEXT NOT NULL, fingerprint TEXT NOT NULL, key_id TEXT NOT NULL, ascii_armor TEXT NOT NULL,
            added_at INTEGER NOT NULL, added_by TEXT,
            PRIMARY KEY (namespace, fingerprint)
        ) WITHOUT ROWID;
        """

    enum ProviderColumn: Int, SQLColumns {
        case namespace, type, precedence, version, protocols, packages
        case shasumsBucket, shasumsKey, shasumsSha256, shasumsSize
        case signatureBucket, signatureKey, signatureSha256, signatureSize
        case keyFingerprint, publishedAt, publishedBy
        case deprecatedAt, deprecatedBy, deprecationReason, deprecationReplacement
    }

    enum SigningKeyColumn: Int, SQLColumns {
        case namespace, fingerprint, keyId, asciiArmor, addedAt, addedBy
    }

    static func providerRecord(_ row: SQLRow) -> ProviderVersionRecord? {
        typealias C = ProviderColumn
        guard row.count == C.count, let ns = row[C.namespace].string, let type = row[C.type].string, let v = row[C.version].string,
            let provider = try? ProviderAddress(storageNamespace: ns, type: type), let version = try? Version(v),
            let protocols = row[C.protocols].string.flatMap(ProviderRecordCoding.decodeStrings),
            let packages = row[C.packages].string.flatMap(ProviderRecordCoding.decodePackages),
            let sk = row[C.shasumsKey].string, let ss = row[C.shasumsSha256].string, let sz = row[C.shasumsSize].int,
            let gk = row[C.signatureKey].string, let gs = row[C.signatureSha256].string, let gz = row[C.signatureSize].int,
            let fp = row[C.keyFingerprint].string, let at = row[C.publishedAt].int
        else { return nil }
        let deprecation = row[C.deprecatedAt].int.map {
            Deprecation(
                reason: row[C.deprecationReason].string ?? "",
                replacement: row[C.deprecationReplacement].string,
                at: $0,
                by: row[C.deprecatedBy].string
            )
        }
        return ProviderVersionRecord(
            provider: provider,
            version: version,
            protocols: protocols,
            packages: packages,
            shasums: ProviderBlob(location: ArchiveLocation(bucket: row[C.shasumsBucket].string, key: sk), sha256: ss, size: sz),
            signature: ProviderBlob(location: ArchiveLocation(bucket: row[C.signatureBucket].string, key: gk), sha256: gs, size: gz),
            keyFingerprint: fp,
            publishedAt: at,
            publishedBy: row[C.publishedBy].string,
            deprecation: deprecation
        )
    }

    static func signingKey(_ row: SQLRow) -> ProviderSigningKey? {
        typealias C = SigningKeyColumn
        guard row.count == C.count, let stored = row[C.namespace].string,
            let owner = try? ProviderAddress(storageNamespace: stored, type: "key"), let fp = row[C.fingerprint].string,
            let id = row[C.keyId].string, let armor = row[C.asciiArmor].string, let at = row[C.addedAt].int
        else { return nil }
        return ProviderSigningKey(
            namespace: owner.namespace,
            fingerprint: fp,
            keyID: id,
            asciiArmor: armor,
            addedAt: at,
            addedBy: row[C.addedBy].string,
            origin: owner.origin
        )
    }

    static let providerColumns = ProviderColumn.selectList
    static let live = "deleted_at IS NULL"

    public func providerVersions(of provider: ProviderAddress) async throws(RegistryError) -> [ProviderVersionRecord] {
        let params: [SQLValue] = [.text(provider.storageNamespace), .text(provider.type)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(Self.providerColumns) FROM provider_versions WHERE namespace = ? AND type = ? AND \(Self.live)", params)
                .compactMap(Self.providerRecord)
        }
    }

    public func allProviderVersions(in namespace: Namespace?) async throws(RegistryError) -> [ProviderVersionRecord] {
        let ns = namespace?.value
        return try await run { db throws(SQLiteError) in
            if let ns {
                return try db.query("SELECT \(Self.providerColumns) FROM provider_versions WHERE namespace = ? AND \(Self.live)", [.text(ns)])
                    .compactMap(Self.providerRecord)
            }
            return try db.query("SELECT \(Self.providerColumns) FROM provider_versions WHERE \(Self.live)").compactMap(Self.providerRecord)
        }
    }

    public func providerVersion(_ version: Version, of provider: ProviderAddress) async throws(RegistryError) -> ProviderVersionRecord? {
        let params: [SQLValue] = [.text(provider.storageNamespace), .text(provider.type), .text(version.description)]
        return try await run { db throws(SQLiteError) in
            try db.query(
                "SELECT \(Self.providerColumns) FROM provider_versions WHERE namespace = ? AND type = ? AND version = ? AND \(Self.live)",
                params
            ).first.flatMap(Self.providerRecord)
        }
    }

    public func insertProviderVersion(_ r: ProviderVersionRecord) async throws(RegistryError) {
        let params: [SQLValue] = [
            .text(r.provider.storageNamespace), .text(r.provider.type), .text(r.version.precedenceKey), .text(r.version.description),
            .text(ProviderRecordCoding.encodeStrings(r.protocols)), .text(ProviderRecordCoding.encodePackages(r.packages)),
            r.shasums.location.bucket.map(SQLValue.text) ?? .null, .text(r.shasums.location.key), .text(r.shasums.sha256), .integer(r.shasums.size),
            r.signature.location.bucket.map(SQLValue.text) ?? .null, .text(r.signature.location.key), .text(r.signature.sha256),
            .integer(r.signature.size),
            .text(r.keyFingerprint), .integer(r.publishedAt), r.publishedBy.map(SQLValue.text) ?? .null,
            r.deprecation.map { .integer($0.at) } ?? .null, r.deprecation?.by.map(SQLValue.text) ?? .null,
            r.deprecation.map { .text($0.reason) } ?? .null, r.deprecation?.replacement.map(SQLValue.text) ?? .null,
        ]
        let marks = Array(repeating: "?", count: ProviderColumn.count).joined(separator: ",")
        do {
            try await connection.run { db throws(SQLiteError) in
                // The primary key is the precedence, and deleted rows stay: a `1.0.0+b` or a deleted number fails here.
                _ = try db.query("INSERT INTO provider_versions (\(Self.providerColumns)) VALUES (\(marks))", params)
            }
        } catch {
            if error.isConstraint {
                throw .conflict("version \(r.version) of provider \(r.provider) already exists or was deleted; versions are immutable")
            }
            throw Self.map(error)
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
        let params: [SQLValue] = [.text(provider.storageNamespace), .text(provider.type), .text(version.description)]
        let mark: [SQLValue] = [.integer(at), by.map(SQLValue.text) ?? .null]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> ProviderVersionRecord? in
                let where_ = "WHERE namespace = ? AND type = ? AND version = ? AND \(Self.live)"
                guard
                    let existing = try db.query("SELECT \(Self.providerColumns) FROM provider_versions \(where_)", params).first
                        .flatMap(Self.providerRecord)
                else { return nil }
                try db.query("UPDATE provider_versions SET deleted_at = ?, deleted_by = ? \(where_)", mark + params)
                return existing
            }
        }
    }

    public func setProviderDeprecation(
        _ d: Deprecation?,
        version: Version,
        of provider: ProviderAddress
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    {
        let values: [SQLValue] = [
            d.map { .integer($0.at) } ?? .null, d?.by.map(SQLValue.text) ?? .null, d.map { .text($0.reason) } ?? .null,
            d?.replacement.map(SQLValue.text) ?? .null,
        ]
        let params: [SQLValue] = [.text(provider.storageNamespace), .text(provider.type), .text(version.description)]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> ProviderVersionRecord? in
                let where_ = "WHERE namespace = ? AND type = ? AND version = ? AND \(Self.live)"
                try db.query(
                    "UPDATE provider_versions SET deprecated_at = ?, deprecated_by = ?, deprecation_reason = ?, deprecation_replacement = ? \(where_)",
                    values + params
                )
                return try db.query("SELECT \(Self.providerColumns) FROM provider_versions \(where_)", params).first.flatMap(Self.providerRecord)
            }
        }
    }

    public func signingKeys(in namespace: Namespace, origin: String?) async throws(RegistryError) -> [ProviderSigningKey] {
        let params: [SQLValue] = [.text(origin.map { "\($0)/\(namespace.value)" } ?? namespace.value)]
        return try await run { db throws(SQLiteError) in
            try db.query("SELECT \(SigningKeyColumn.selectList) FROM provider_signing_keys WHERE namespace = ? ORDER BY fingerprint", params)
                .compactMap(Self.signingKey)
        }
    }

    public func addSigningKey(_ k: ProviderSigningKey) async throws(RegistryError) {
        let params: [SQLValue] = [
            .text(k.storageNamespace), .text(k.fingerprint), .text(k.keyID), .text(k.asciiArmor), .integer(k.addedAt),
            k.addedBy.map(SQLValue.text) ?? .null,
        ]
        do {
            try await connection.run { db throws(SQLiteError) in
                _ = try db.query("INSERT INTO provider_signing_keys (\(SigningKeyColumn.selectList)) VALUES (?,?,?,?,?,?)", params)
            }
        } catch {
            if error.isConstraint { throw .conflict("key \(k.fingerprint) is already registered in namespace \(k.namespace)") }
            throw Self.map(error)
        }
    }

    public func removeSigningKey(fingerprint: String, in namespace: Namespace) async throws(RegistryError) -> Bool {
        let params: [SQLValue] = [.text(namespace.value), .text(fingerprint)]
        return try await run { db throws(SQLiteError) in
            try db.transaction { () throws(SQLiteError) -> Bool in
                let found = try !db.query("SELECT fingerprint FROM provider_signing_keys WHERE namespace = ? AND fingerprint = ?", params).isEmpty
                try db.query("DELETE FROM provider_signing_keys WHERE namespace = ? AND fingerprint = ?", params)
                return found
            }
        }
    }
}
