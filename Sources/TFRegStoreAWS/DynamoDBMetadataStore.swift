import TFRegAWS
import TFRegCore
import TFRegCrypto

/// `MetadataStore` on one DynamoDB table (`pk`, `sk` strings), readable and writable alongside the
/// tool tfreg replaces, with no migration:
///
/// | item | pk | sk | attributes |
/// |---|---|---|---|
/// | module version (seed layout) | NAMESPACE | `Module~NS~NAME~SYSTEM~VERSION` | namespace, name, system, version, bucket, key, expected_checksum (+ tfreg: sha256, size, published_at, published_by) |
/// | IAM grant (seed layout) | NAMESPACE | `IAMBearerAuth~ARN` | namespace, identifier, permissions {download, upload, create_grant, delete_grant} |
/// | static-token grant (new) | NAMESPACE | `StaticTokenAuth~token:NAME#ID` | as above |
/// | static token by digest (new) | `StaticToken` | `StaticToken~SHA256HEX` | identifier (`token:NAME#ID`) |
/// | static token by name (new) | `StaticTokenName` | `token:NAME` | sha256, created_at, token_id |
/// | used presigned STS request (`DynamoDBReplayGuard`) | `SignedRequest~SHA256HEX` | `SignedRequest` | expires_at (TTL) |
/// | precedence reservation (new) | NAMESPACE | `ModulePrecedence~NS~NAME~SYSTEM~VERSION-WITHOUT-BUILD` | (none) |
/// | tombstone of a deleted version (new) | NAMESPACE | `ModuleTombstone~NS~NAME~SYSTEM~VERSION` | version, sha256, deleted_at, deleted_by |
/// | module summary (new) | NAMESPACE | `ModuleSummary~NAME~SYSTEM` | latest, version_count, …, revision (see `+Summaries`) |
/// | namespace directory (new) | `ModuleNamespaces~` | NAMESPACE | (none) |
///
/// A version is inserted in one transaction with its precedence item (`attribute_not_exists`), so
/// concurrent `1.0.0+a` / `1.0.0+b` have exactly one winner; a delete removes the version item and
/// writes the tombstone in one transaction and keeps the precedence item, so the number is never
/// reused. No new item begins with `Module~`, so the replaced tool's queries do not see them. Insert
/// and delete rewrite the module's summary in the same transaction.
///
/// A static token's grants are keyed by `token:NAME#ID`, `ID` being the random id written on its
/// name item at creation, so a grant never passes to a later token of the same name. Tokens written
/// by tfreg before ids existed have a name item without `token_id`: they keep authenticating as
/// `token:NAME` and their grants stay under `StaticTokenAuth~token:NAME` (bound to the token that held
/// the name when this tfreg first ran: every token created from now on has an id, and creating one
/// over leftover `token:NAME` grants is refused). Nothing is rewritten.
///
/// Reads within a namespace are Queries (all pages); listing across namespaces reads the namespace
/// directory and summaries (Queries). `allVersions(in: nil)`, grants by identity and orphan grants are
/// Scans (administrative, rare; never on the request path).
public struct DynamoDBMetadataStore: MetadataStore {
    public let dynamo: DynamoDBClient
    public let table: String

    public init(dynamo: DynamoDBClient, table: String) {
        self.dynamo = dynamo
        self.table = table
    }

    func map(_ e: AWSError) -> RegistryError { Self.map(e, table: table, region: dynamo.client.region) }

    /// A failed condition is a conflict; a refusal retrying cannot fix (credentials, permissions, a
    /// missing table, any other 4xx) is a configuration error naming the call, the table and what to
    /// check; only throttling, 5xx and network failures are "unavailable, try again".
    public static func map(_ e: AWSError, table: String, region: String) -> RegistryError {
        if e.kind == .conditionalCheckFailed { return .conflict("the item already exists") }
        if e.isConfigurationProblem {
            let what =
                e.code == "ResourceNotFoundException"
                ? "table \(table) does not exist in region \(region): check --table/TABLE_NAME and AWS_REGION" : e.advice
            return .misconfigured(
                "the metadata table",
                explanation:
                    "DynamoDB \(e.message) (\(e.code.isEmpty ? "no error code" : e.code), HTTP \(e.status)) on table \(table) in \(region): \(what)"
            )
        }
        return .unavailable("the metadata table", detail: e.description)
    }

    private func wrap<T>(_ body: () async throws(AWSError) -> T) async throws(RegistryError) -> T {
        do { return try await body() } catch { throw map(error) }
    }

    // MARK: Keys

    static func versionSK(_ m: ModuleAddress, _ v: String) -> String { "Module~\(m.namespace)~\(m.name)~\(m.system)~\(v)" }
    static func modulePrefix(_ m: ModuleAddress) -> String { "Module~\(m.namespace)~\(m.name)~\(m.system)~" }
    static func precedenceSK(_ m: ModuleAddress, _ v: Version) -> String {
        "ModulePrecedence~\(m.namespace)~\(m.name)~\(m.system)~\(v.precedenceKey)"
    }
    static func tombstoneSK(_ m: ModuleAddress, _ v: String) -> String { "ModuleTombstone~\(m.namespace)~\(m.name)~\(m.system)~\(v)" }
    static func grantSK(_ id: Identity) -> String { id.kind == .iam ? "IAMBearerAuth~\(id.value)" : "StaticTokenAuth~\(id.value)" }

    // MARK: Versions

    static func record(_ item: DynamoDBItem) -> ModuleVersionRecord? {
        guard let ns = item["namespace"]?.string, let name = item["name"]?.string, let system = item["system"]?.string,
            let v = item["version"]?.string, let key = item["key"]?.string,
            let module = try? ModuleAddress(namespace: ns, name: name, system: system), let version = try? Version(v)
        else { return nil }
        var sha = item["sha256"]?.string ?? ""
        if sha.isEmpty, let expected = item["expected_checksum"]?.string {
            // The replaced tool stores S3's base64 ChecksumSHA256; tfreg works in hex.
            sha = Base64.decode(expected).flatMap { $0.count == 32 ? Hex.encode($0) : nil } ?? expected.lowercased()
        }
        let bucket = item["bucket"]?.string.flatMap { $0.isEmpty ? nil : $0 }
        let deprecation = item["deprecated_at"]?.int.map {
            Deprecation(
                reason: item["deprecation_reason"]?.string ?? "",
                replacement: item["deprecation_replacement"]?.string,
                at: $0,
                by: item["deprecated_by"]?.string
            )
        }
        return ModuleVersionRecord(
            module: module,
            version: version,
            location: ArchiveLocation(bucket: bucket, key: key),
            sha256: sha,
            size: item["size"]?.int ?? 0,
            publishedAt: item["published_at"]?.int ?? 0,
            publishedBy: item["published_by"]?.string,
            deprecation: deprecation
        )
    }

    static func item(_ r: ModuleVersionRecord) -> DynamoDBItem {
        var item: DynamoDBItem = [
            "pk": .s(r.module.namespace.value), "sk": .s(versionSK(r.module, r.version.description)),
            "namespace": .s(r.module.namespace.value), "name": .s(r.module.name), "system": .s(r.module.system),
            "version": .s(r.version.description), "key": .s(r.location.key), "sha256": .s(r.sha256),
            "size": .n(String(r.size)), "published_at": .n(String(r.publishedAt)),
        ]
        if let bucket = r.location.bucket { item["bucket"] = .s(bucket) }
        if let digest = Hex.decode(r.sha256), digest.count == 32 { item["expected_checksum"] = .s(Base64.encode(digest)) }
        if let by = r.publishedBy { item["published_by"] = .s(by) }
        if let d = r.deprecation {
            item["deprecated_at"] = .n(String(d.at))
            item["deprecation_reason"] = .s(d.reason)
            if let x = d.replacement { item["deprecation_replacement"] = .s(x) }
            if let by = d.by { item["deprecated_by"] = .s(by) }
        }
        return item
    }

    public func versions(of module: ModuleAddress) async throws(RegistryError) -> [ModuleVersionRecord] {
        try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(module.namespace.value), ":prefix": .s(Self.modulePrefix(module))]
                )
            )
        }.compactMap(Self.record).filter { $0.module == module }
    }

    public func version(_ version: Version, of module: ModuleAddress) async throws(RegistryError) -> ModuleVersionRecord? {
        try await wrap { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))])
        }.flatMap(Self.record)
    }

    public func allVersions(in namespace: Namespace?) async throws(RegistryError) -> [ModuleVersionRecord] {
        try await wrap { () async throws(AWSError) in
            if let namespace {
                return try await dynamo.query(
                    table: table,
                    keyCondition: .init(
                        "pk = :pk AND begins_with(sk, :prefix)",
                        values: [":pk": .s(namespace.value), ":prefix": .s("Module~")]
                    )
                )
            }
            return try await dynamo.scan(table: table, filter: .init("begins_with(sk, :prefix)", values: [":prefix": .s("Module~")]))
        }.compactMap(Self.record)
    }

    public func insertVersion(_ record: ModuleVersionRecord) async throws(RegistryError) {
        let ns = record.module.namespace.value
        for _ in 0..<Self.summaryAttempts {
            let base = try await summaryBase(record.module, readingVersions: false)
            let next =
                base.current.map { $0.adding(record) } ?? base.summary(of: (base.records ?? []).filter { $0.version != record.version } + [record])
            do {
                try await dynamo.transactWrite(
                    [
                        .put(
                            table: table,
                            item: ["pk": .s(ns), "sk": .s(Self.precedenceSK(record.module, record.version))],
                            condition: .init("attribute_not_exists(pk)")
                        ),
                        .put(table: table, item: Self.item(record), condition: .init("attribute_not_exists(pk)")),
                    ] + summaryWrites(base, summary: next)
                )
                return
            } catch {
                if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" {
                    // The version's conditions, or only the summary's (another writer of the module): retry that.
                    let precedence = try await wrap { () async throws(AWSError) in
                        try await dynamo.getItem(table: table, key: ["pk": .s(ns), "sk": .s(Self.precedenceSK(record.module, record.version))])
                    }
                    // Versions the replaced tool wrote have no precedence item: only then are the versions read.
                    var taken = precedence != nil
                    if !taken {
                        let records: [ModuleVersionRecord]
                        if let known = base.records { records = known } else { records = try await versions(of: record.module) }
                        taken = records.contains { $0.version.hasSamePrecedence(as: record.version) }
                    }
                    if taken {
                        throw .conflict("version \(record.version) of module \(record.module) already exists; versions are immutable")
                    }
                    continue
                }
                throw map(error)
            }
        }
        throw Self.summaryContention(record.module)
    }

    public func tombstoneVersion(
        _ version: Version,
        of module: ModuleAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        let ns = module.namespace.value
        let key: DynamoDBItem = ["pk": .s(ns), "sk": .s(Self.versionSK(module, version.description))]
        guard let existing = try await wrap({ () async throws(AWSError) in try await dynamo.getItem(table: table, key: key) }).flatMap(Self.record)
        else {
            return nil
        }
        var tombstone: DynamoDBItem = [
            "pk": .s(ns), "sk": .s(Self.tombstoneSK(module, version.description)), "version": .s(version.description),
            "sha256": .s(existing.sha256), "deleted_at": .n(String(at)),
        ]
        if let by { tombstone["deleted_by"] = .s(by) }
        for _ in 0..<Self.summaryAttempts {
            let base = try await summaryBase(module)
            let records = base.records ?? []
            guard records.contains(where: { $0.version == version }) else { return nil }
            do {
                try await dynamo.transactWrite(
                    [
                        .delete(table: table, key: key, condition: .init("attribute_exists(pk)")),
                        .put(table: table, item: tombstone, condition: nil),
                        // Versions the replaced tool wrote have no precedence item: reserve the number now.
                        .put(table: table, item: ["pk": .s(ns), "sk": .s(Self.precedenceSK(module, version))], condition: nil),
                    ] + summaryWrites(base, summary: base.summary(of: records.filter { $0.version != version }))
                )
                return existing
            } catch {
                // Deleted meanwhile (the next round finds no version), or the summary moved: retry.
                if error.kind == .conditionalCheckFailed || error.code == "TransactionCanceledException" { continue }
                throw map(error)
            }
        }
        throw Self.summaryContention(module)
    }

    public func tombstones(of module: ModuleAddress) async throws(RegistryError) -> [VersionTombstone] {
        let prefix = Self.tombstoneSK(module, "")
        return try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :prefix)",
                    values: [":pk": .s(module.namespace.value), ":prefix": .s(prefix)]
                )
            )
        }.compactMap { item in
            guard let v = item["version"]?.string.flatMap({ try? Version($0) }), let sha = item["sha256"]?.string, let at = item["deleted_at"]?.int
            else { return nil }
            return VersionTombstone(module: module, version: v, sha256: sha, deletedAt: at, deletedBy: item["deleted_by"]?.string)
        }
    }

    public func replaceArchive(
        of version: Version,
        of module: ModuleAddress,
        from: ArchiveLocation,
        to: ArchiveLocation,
        sha256: String,
        size: Int64
    ) async throws(RegistryError) -> Bool {
        let key: DynamoDBItem = ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))]
        // Only the archive's attributes change (UpdateItem, not a rewrite of the item), and only while
        // the item still names `from`: a deprecation written meanwhile is kept (issue 17).
        // `key` and `size` are DynamoDB reserved words (and `bucket` is named alike): always by #name.
        var set = ["#key = :to", "sha256 = :sha", "#size = :size"]
        var remove: [String] = []
        var values: DynamoDBItem = [":to": .s(to.key), ":sha": .s(sha256), ":size": .n(String(size)), ":from": .s(from.key)]
        if let bucket = to.bucket {
            set.append("#bucket = :bucket")
            values[":bucket"] = .s(bucket)
        } else {
            remove.append("#bucket")
        }
        if let digest = Hex.decode(sha256), digest.count == 32 {
            set.append("expected_checksum = :checksum")
            values[":checksum"] = .s(Base64.encode(digest))
        } else {
            remove.append("expected_checksum")
        }
        var condition = "#key = :from AND "
        if let bucket = from.bucket {
            condition += "#bucket = :fromBucket"
            values[":fromBucket"] = .s(bucket)
        } else {
            // The replaced tool may have written an empty bucket for "none" (`record` reads it so).
            condition += "(attribute_not_exists(#bucket) OR #bucket = :none)"
            values[":none"] = .s("")
        }
        let update = "SET " + set.joined(separator: ", ") + (remove.isEmpty ? "" : " REMOVE " + remove.joined(separator: ", "))
        do {
            _ = try await dynamo.updateItem(
                table: table,
                key: key,
                update: .init(update, names: ["#key": "key", "#bucket": "bucket", "#size": "size"], values: values),
                condition: .init(condition)
            )
        } catch {
            if error.kind == .conditionalCheckFailed { return false }
            throw map(error)
        }
        await refreshSummaryAfterChange(of: module)
        return true
    }

    public func setDeprecation(
        _ deprecation: Deprecation?,
        version: Version,
        of module: ModuleAddress
    ) async throws(RegistryError) -> ModuleVersionRecord? {
        let key: DynamoDBItem = ["pk": .s(module.namespace.value), "sk": .s(Self.versionSK(module, version.description))]
        // Only the deprecation attributes change (UpdateItem), on an item that exists: an archive
        // replaced meanwhile (import-legacy) and attributes the replaced tool wrote are kept (issue 17).
        let update: DynamoDBClient.Expression
        if let d = deprecation {
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
        let after: DynamoDBItem?
        do {
            after = try await dynamo.updateItem(table: table, key: key, update: update, condition: .init("attribute_exists(pk)"))
        } catch {
            if error.kind == .conditionalCheckFailed { return nil }
            throw map(error)
        }
        guard let after, let record = Self.record(after) else {
            throw .unavailable("the metadata table", detail: "UpdateItem answered without a readable version item")
        }
        await refreshSummaryAfterChange(of: module)
        return record
    }

    // MARK: Grants

    static func grant(_ item: DynamoDBItem) -> Grant? {
        guard let ns = item["namespace"]?.string.flatMap({ try? Namespace($0) }),
            let id = item["identifier"]?.string.flatMap({ try? Identity($0) })
        else { return nil }
        let p = item["permissions"]?.map ?? [:]
        func flag(_ k: String) -> Bool {
            switch p[k] {
            case .bool(let b)?: b
            case .n(let n)?: n != "0"
            case .s(let s)?: s.lowercased() == "true"
            default: false
            }
        }
        return Grant(
            namespace: ns,
            identity: id,
            permissions: Permissions(
                download: flag(Permission.download.rawValue),
                upload: flag(Permission.upload.rawValue),
                createGrant: flag(Permission.createGrant.rawValue),
                deleteGrant: flag(Permission.deleteGrant.rawValue)
            )
        )
    }

    static func item(_ g: Grant) -> DynamoDBItem {
        let p = g.permissions
        return [
            "pk": .s(g.namespace.value), "sk": .s(grantSK(g.identity)), "namespace": .s(g.namespace.value), "identifier": .s(g.identity.value),
            "permissions": .m(Dictionary(uniqueKeysWithValues: Permission.allCases.map { ($0.rawValue, .bool(p.allows($0))) })),
        ]
    }

    /// Grants for roles: the replaced tool keys a grant by the ARN as the administrator typed it, so a
    /// role with a path (`IAMBearerAuth~arn:aws:iam::ACCT:role/PATH/NAME`, e.g. an IAM Identity Center
    /// role) sits under another key than the normalized `role/NAME` a caller authenticates as (an
    /// assumed-role ARN carries no path). A role's grant is therefore read with one Query for every role
    /// grant of its account in the namespace (`begins_with(sk, "IAMBearerAuth~arn:P:iam::ACCT:role/")`,
    /// the same one call a GetItem was), keeping the items `Identity.matchesGrant(writtenAs:)` accepts:
    /// same partition, account and role name (safe: role names are unique per account whatever the
    /// path; see `Identity.normalizeARN`). Items are never rewritten, so the replaced tool can still
    /// read the table after a rollback.
    static let iamGrantPrefix = "IAMBearerAuth~"

    /// One grant per namespace and identity from items that may hold several ways of writing one role:
    /// the item under the normalized key (what tfreg writes, so an update through tfreg wins) if there
    /// is one, else the union of the path variants' permissions (each was written for this very role).
    static func mergedGrants(_ items: [DynamoDBItem], matching identity: Identity? = nil) -> [Grant] {
        var merged: [String: (grant: Grant, exact: Bool)] = [:]
        var order: [String] = []
        for item in items {
            guard let sk = item["sk"]?.string, let g = grant(item) else { continue }
            if let identity {
                guard g.identity == identity else { continue }
                if sk.hasPrefix(iamGrantPrefix) {
                    guard identity.matchesGrant(writtenAs: String(sk.dropFirst(iamGrantPrefix.count))) else { continue }
                } else if sk != grantSK(identity) {
                    continue
                }
            }
            let exact = sk == grantSK(g.identity)
            let key = g.namespace.value + "\u{0}" + g.identity.value
            guard let seen = merged[key] else {
                merged[key] = (g, exact)
                order.append(key)
                continue
            }
            if seen.exact { continue }
            if exact {
                merged[key] = (g, true)
            } else {
                var union = seen.grant
                union.permissions = Permissions(
                    download: union.permissions.download || g.permissions.download,
                    upload: union.permissions.upload || g.permissions.upload,
                    createGrant: union.permissions.createGrant || g.permissions.createGrant,
                    deleteGrant: union.permissions.deleteGrant || g.permissions.deleteGrant
                )
                merged[key] = (union, false)
            }
        }
        return order.compactMap { merged[$0]?.grant }
    }

    /// The items in `namespace` that hold a grant for the role `identity`, however its ARN was written.
    func roleGrantItems(_ identity: Identity, prefix: String, in namespace: Namespace) async throws(RegistryError) -> [DynamoDBItem] {
        try await wrap { () async throws(AWSError) in
            try await dynamo.query(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND begins_with(sk, :sk)",
                    values: [":pk": .s(namespace.value), ":sk": .s(Self.iamGrantPrefix + prefix)]
                )
            )
        }.filter { identity.matchesGrant(writtenAs: String(($0["sk"]?.string ?? "").dropFirst(Self.iamGrantPrefix.count))) }
    }

    public func grant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Grant? {
        if let prefix = identity.roleARNPrefix {
            return Self.mergedGrants(try await roleGrantItems(identity, prefix: prefix, in: namespace), matching: identity).first
        }
        return try await wrap { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s(namespace.value), "sk": .s(Self.grantSK(identity))])
        }.flatMap(Self.grant)
    }

    public func grants(in namespace: Namespace) async throws(RegistryError) -> [Grant] {
        let items = try await wrap { () async throws(AWSError) in
            try await dynamo.query(table: table, keyCondition: .init("pk = :pk", values: [":pk": .s(namespace.value)]))
        }
        return Self.mergedGrants(
            items.filter { ($0["sk"]?.string ?? "").hasPrefix("IAMBearerAuth~") || ($0["sk"]?.string ?? "").hasPrefix("StaticTokenAuth~") }
        ).sorted { $0.identity < $1.identity }
    }

    public func grants(for identity: Identity) async throws(RegistryError) -> [Grant] {
        let filter: DynamoDBClient.Expression =
            identity.roleARNPrefix.map { DynamoDBClient.Expression("begins_with(sk, :sk)", values: [":sk": .s(Self.iamGrantPrefix + $0)]) }
            ?? DynamoDBClient.Expression("sk = :sk", values: [":sk": .s(Self.grantSK(identity))])
        return Self.mergedGrants(
            try await wrap { () async throws(AWSError) in try await dynamo.scan(table: table, filter: filter) },
            matching: identity
        ).sorted { $0.namespace < $1.namespace }
    }

    /// Every grant item written under a role ARN with a path (the replaced tool's layout), for
    /// `tfreg import-legacy` to report: namespace, the ARN as written, the identity it is matched as.
    public func roleGrantsWrittenWithPath() async throws(RegistryError) -> [(namespace: String, written: String, matchedAs: Identity)] {
        try await wrap { () async throws(AWSError) in
            try await dynamo.scan(table: table, filter: .init("begins_with(sk, :sk)", values: [":sk": .s(Self.iamGrantPrefix + "arn:")]))
        }.compactMap { (item: DynamoDBItem) -> (namespace: String, written: String, matchedAs: Identity)? in
            guard let ns = item["pk"]?.string, let sk = item["sk"]?.string else { return nil }
            let written = String(sk.dropFirst(Self.iamGrantPrefix.count))
            guard Identity.isRoleARNWithPath(written), let id = try? Identity(written) else { return nil }
            return (ns, written, id)
        }.sorted { ($0.namespace, $0.written) < ($1.namespace, $1.written) }
    }

    /// The condition that the token `identity` (`token:NAME#ID`, or a legacy `token:NAME`) still holds its name.
    static func tokenStillCurrent(_ table: String, _ identity: Identity) -> DynamoDBClient.TransactItem? {
        guard let name = identity.tokenName else { return nil }
        let key: DynamoDBItem = ["pk": .s("StaticTokenName"), "sk": .s(name.value)]
        if let id = identity.tokenID {
            return .conditionCheck(table: table, key: key, condition: .init("token_id = :id", values: [":id": .s(id)]))
        }
        return .conditionCheck(table: table, key: key, condition: .init("attribute_exists(pk) AND attribute_not_exists(token_id)"))
    }

    public func putGrant(_ grant: Grant, mode: GrantWriteMode) async throws(RegistryError) {
        var grant = grant
        grant.identity = try await tokenForGrant(grant.identity)
        let condition: DynamoDBClient.Expression? =
            switch mode {
            case .create: .init("attribute_not_exists(pk)")
            case .update: .init("attribute_exists(pk)")
            case .upsert: nil
            }
        do {
            if let check = Self.tokenStillCurrent(table, grant.identity) {
                // One transaction with the check that the token still holds its name (no grant for a
                // token revoked meanwhile).
                try await dynamo.transactWrite([check, .put(table: table, item: Self.item(grant), condition: condition)])
            } else {
                try await dynamo.putItem(table: table, item: Self.item(grant), condition: condition)
            }
        } catch {
            if error.kind == .conditionalCheckFailed {
                // Which condition failed: the token's, or the grant's.
                _ = try await tokenForGrant(grant.identity)
                if mode == .update, let prefix = grant.identity.roleARNPrefix,
                    !(try await roleGrantItems(grant.identity, prefix: prefix, in: grant.namespace)).isEmpty
                {
                    // Only a path variant exists (the replaced tool's key): the update writes the normalized
                    // item, which wins over the variant from now on.
                    try await wrap { () async throws(AWSError) in try await dynamo.putItem(table: table, item: Self.item(grant)) }
                    return
                }
                if mode == .update { throw .notFound("no grant for \(grant.identity) on namespace '\(grant.namespace)'; use create") }
                throw .conflict("a grant for \(grant.identity) on namespace '\(grant.namespace)' already exists; use update")
            }
            throw map(error)
        }
    }

    public func deleteGrant(for identity: Identity, in namespace: Namespace) async throws(RegistryError) -> Bool {
        if let prefix = identity.roleARNPrefix {
            // Every way the role's grant was written goes: a revoked role must not keep a path variant.
            var deleted = false
            for item in try await roleGrantItems(identity, prefix: prefix, in: namespace) {
                guard let sk = item["sk"] else { continue }
                let gone = try await wrap { () async throws(AWSError) in
                    try await dynamo.deleteItem(table: table, key: ["pk": .s(namespace.value), "sk": sk])
                }
                deleted = deleted || gone != nil
            }
            return deleted
        }
        return try await wrap { () async throws(AWSError) in
            try await dynamo.deleteItem(table: table, key: ["pk": .s(namespace.value), "sk": .s(Self.grantSK(identity))])
        } != nil
    }

    // MARK: Static tokens

    public func staticTokenIdentity(hash sha256: String) async throws(RegistryError) -> Identity? {
        try await wrap { () async throws(AWSError) in
            try await dynamo.getItem(table: table, key: ["pk": .s("StaticToken"), "sk": .s("StaticToken~\(sha256)")])
        }?["identifier"]?.string.flatMap { try? Identity($0) }
    }

    public func staticToken(named name: Identity) async throws(RegistryError) -> Identity? {
        guard let name = name.tokenName else { return nil }
        guard
            let item = try await wrap({ () async throws(AWSError) in
                try await dynamo.getItem(table: table, key: ["pk": .s("StaticTokenName"), "sk": .s(name.value)])
            })
        else { return nil }
        guard let id = item["token_id"]?.string else { return name }  // written before tokens had ids
        return try? Identity.token(named: name.value.dropFirst(6), id: id)
    }

    public func orphanGrants(named name: Identity) async throws(RegistryError) -> [Grant] {
        guard let name = name.tokenName else { return [] }
        let current = try await staticToken(named: name)
        return try await wrap { () async throws(AWSError) in
            try await dynamo.scan(table: table, filter: .init("begins_with(sk, :p)", values: [":p": .s("StaticTokenAuth~\(name.value)")]))
        }.compactMap(Self.grant)
            .filter { $0.identity.tokenName == name && $0.identity != current }
            .sorted { ($0.namespace, $0.identity) < ($1.namespace, $1.identity) }
    }

    public func createStaticToken(
        _ name: Identity,
        hash sha256: String,
        createdAt: Int64,
        discardingOrphans: Bool
    ) async throws(RegistryError) -> Identity {
        guard let name = name.tokenName else { throw .badRequest("not a token name: \(name)") }
        if try await staticToken(named: name) != nil { throw .conflict("a token named \(name) already exists") }
        let orphans = try await orphanGrants(named: name)
        if !orphans.isEmpty {
            guard discardingOrphans else { throw OrphanGrants.refusal(name, orphans) }
            for g in orphans { _ = try await deleteGrant(for: g.identity, in: g.namespace) }
        }
        let id = Identity.newTokenID()
        let identity = try Identity.token(named: name.value.dropFirst(6), id: id)
        let absent = DynamoDBClient.Expression("attribute_not_exists(pk)")
        do {
            try await dynamo.transactWrite([
                .put(
                    table: table,
                    item: [
                        "pk": .s("StaticTokenName"), "sk": .s(name.value), "sha256": .s(sha256), "created_at": .n(String(createdAt)),
                        "token_id": .s(id),
                    ],
                    condition: absent
                ),
                .put(
                    table: table,
                    item: ["pk": .s("StaticToken"), "sk": .s("StaticToken~\(sha256)"), "identifier": .s(identity.value)],
                    condition: absent
                ),
            ])
        } catch {
            if error.kind == .conditionalCheckFailed {
                throw .conflict("a token named \(name) already exists")
            }
            throw map(error)
        }
        return identity
    }

    public func revokeStaticToken(_ name: Identity) async throws(RegistryError) -> Int? {
        guard let name = name.tokenName else { return nil }
        guard
            let item = try await wrap({ () async throws(AWSError) in
                try await dynamo.getItem(table: table, key: ["pk": .s("StaticTokenName"), "sk": .s(name.value)])
            }), let hash = item["sha256"]?.string
        else { return nil }
        let current =
            try item["token_id"]?.string.map { id throws(RegistryError) in try Identity.token(named: name.value.dropFirst(6), id: id) } ?? name
        // The token first (it stops working), then its grants. A crash in between leaves grants under
        // an id no token will ever have again: they never apply, and creating a token of the name
        // reports them.
        try await wrap { () async throws(AWSError) in
            try await dynamo.transactWrite([
                .delete(table: table, key: ["pk": .s("StaticToken"), "sk": .s("StaticToken~\(hash)")], condition: nil),
                .delete(table: table, key: ["pk": .s("StaticTokenName"), "sk": .s(name.value)], condition: nil),
            ])
        }
        var removed = 0
        for g in try await grants(for: current) where try await deleteGrant(for: current, in: g.namespace) { removed += 1 }
        return removed
    }
}

extension DynamoDBMetadataStore {
    /// Where the table's versions keep their archives, from a bounded look: one Scan page
    /// (`DynamoDBClient.scanFirstPage`: one call reading at most 1 MB of the table) of the version
    /// items, returning only their `sk` and `bucket`. `serve`, `serve --check-config`, `lambda` and
    /// `import-legacy` read it once at start to refuse a storage setting that cannot serve them.
    public func archivePlacement() async throws(RegistryError) -> ArchivePlacement {
        let (items, more) = try await wrap { () async throws(AWSError) in
            try await dynamo.scanFirstPage(
                table: table,
                filter: .init("begins_with(sk, :m)", names: ["#b": "bucket"], values: [":m": .s("Module~")]),
                projection: "sk, #b"
            )
        }
        return ArchivePlacement(versionItems: items, complete: !more)
    }
}
