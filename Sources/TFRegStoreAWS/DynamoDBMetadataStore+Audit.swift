import TFRegAWS
import TFRegCore

/// `AuditStore` on DynamoDB: one item per event in the namespace's partition (`pk = NAMESPACE`, or
/// `Audit~` for events of no namespace, which no namespace can be), `sk = Audit~TIME~ID` with the
/// time as 12 digits so the sort key orders by time. `event` holds the event's JSON and
/// `expires_at` (the table's TTL attribute, shared with `DynamoDBReplayGuard`) its time plus
/// `AuditRetention.seconds`. Reading is one Query page on the partition between two sort keys,
/// never a Scan.
extension DynamoDBMetadataStore {
    static let auditPrefix = "Audit~"
    /// The partition of events that belong to no namespace (token creation, revocation, issue).
    static let auditGlobalPartition = "Audit~"

    static func auditPK(_ namespace: Namespace?) -> String { namespace?.value ?? auditGlobalPartition }

    static func auditSK(time: Int64, id: String) -> String {
        let digits = String(max(0, time))
        return auditPrefix + String(repeating: "0", count: max(0, 12 - digits.count)) + digits + "~" + id
    }

    public func recordAudit(_ event: AuditEvent) async throws(RegistryError) {
        let item: DynamoDBItem = [
            "pk": .s(Self.auditPK(event.namespace)), "sk": .s(Self.auditSK(time: event.time, id: event.id)),
            "event": .s(event.encoded), DynamoDBReplayGuard.ttlAttribute: .n(String(event.time + AuditRetention.seconds)),
        ]
        try await wrap { () async throws(AWSError) in try await dynamo.putItem(table: table, item: item) }
    }

    public func auditEvents(
        in namespace: Namespace?,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int
    ) async throws(RegistryError)
        -> [AuditEvent]
    {
        // From the later of `since` and the cursor (inclusive; the cursor's own event is dropped below)
        // to the end of the events (`~` sorts after every digit).
        let lower = cursor.map { Self.auditSK(time: max($0.time, since), id: $0.time >= since ? $0.id : "") } ?? Self.auditSK(time: since, id: "")
        let items = try await wrap { () async throws(AWSError) in
            try await dynamo.queryPage(
                table: table,
                keyCondition: .init(
                    "pk = :pk AND sk BETWEEN :lo AND :hi",
                    values: [":pk": .s(Self.auditPK(namespace)), ":lo": .s(lower), ":hi": .s(Self.auditPrefix + "~")]
                ),
                limit: limit + 1
            )
        }
        let events = items.compactMap { $0["event"]?.string.flatMap(AuditEvent.init(encoded:)) }
            .filter { e in e.time >= since && cursor.map { (e.time, e.id) > ($0.time, $0.id) } ?? true }
        return Array(events.prefix(limit))
    }
}
