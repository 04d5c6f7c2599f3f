import TFRegAWS
import TFRegCore
import TFRegCrypto

/// `TokenStore` on DynamoDB: the `StaticToken` and `StaticTokenName` items, and the orphan grants of a
/// token name.
extension DynamoDBMetadataStore {
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
