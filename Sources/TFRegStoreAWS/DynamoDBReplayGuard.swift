import TFRegAWS
import TFRegCore
import TFRegSystem

/// `ReplayGuard` in the registry's DynamoDB table, so a presigned request is accepted once across
/// every `serve` process and Lambda instance using the table: one PutItem of
/// `pk = SignedRequest~KEY, sk = SignedRequest, expires_at` with `attribute_not_exists(pk)`.
/// `expires_at` is the table's TTL attribute (the Terraform module enables it); DynamoDB deletes expired
/// items within days, not at once, so an item still present after its expiry is overwritten (the
/// condition also admits `expires_at < now`).
///
/// No count is kept here, so there is nothing one account can fill: each claim is one write of its
/// own item (after STS verified the caller), and an on-demand table takes far more writes than STS
/// verifies. `owner` is not stored.
public struct DynamoDBReplayGuard: ReplayGuard {
    public static let ttlAttribute = "expires_at"
    public let dynamo: DynamoDBClient
    public let table: String
    let clock: any WallClock

    public init(dynamo: DynamoDBClient, table: String, clock: any WallClock = SystemClock()) {
        self.dynamo = dynamo
        self.table = table
        self.clock = clock
    }

    public func claim(_ key: String, owner: String, until expiresAt: Int64) async throws(RegistryError) -> Bool {
        let item: DynamoDBItem = ["pk": .s("SignedRequest~\(key)"), "sk": .s("SignedRequest"), Self.ttlAttribute: .n(String(expiresAt))]
        do {
            try await dynamo.putItem(
                table: table,
                item: item,
                condition: .init(
                    "attribute_not_exists(pk) OR #e < :now",
                    names: ["#e": Self.ttlAttribute],
                    values: [":now": .n(String(clock.now()))]
                )
            )
            return true
        } catch {
            if error.kind == .conditionalCheckFailed { return false }
            throw DynamoDBMetadataStore.map(error, table: table, region: dynamo.client.region)
        }
    }
}
