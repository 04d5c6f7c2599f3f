import TFRegAWS
import TFRegCore
import TFRegCrypto

/// `GrantStore` on DynamoDB: grant items in the namespace's partition (`IAMBearerAuth~…`,
/// `StaticTokenAuth~…`).
extension DynamoDBMetadataStore {
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
        // Two prefixes, not the whole partition: the namespace's audit events live there too.
        var items: [DynamoDBItem] = []
        for prefix in ["IAMBearerAuth~", "StaticTokenAuth~"] {
            items += try await wrap { () async throws(AWSError) in
                try await dynamo.query(
                    table: table,
                    keyCondition: .init("pk = :pk AND begins_with(sk, :p)", values: [":pk": .s(namespace.value), ":p": .s(prefix)])
                )
            }
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
}
