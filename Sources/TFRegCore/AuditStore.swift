/// The queryable audit trail: events by namespace and time. One section of `MetadataStore`.
///
/// Every read is one namespace (or the events of no namespace: token creation, revocation and issue)
/// from a time on, oldest first, one page at a time: SQLite an index on `(namespace, time, id)`,
/// DynamoDB a Query on the namespace's partition (no Scan). Events are kept `retentionSeconds`
/// (DynamoDB: the table's TTL attribute `expires_at`; SQLite: older rows are deleted as new ones
/// are written). Errors as `MetadataStore` says.
public protocol AuditStore: Sendable {
    func recordAudit(_ event: AuditEvent) async throws(RegistryError)
    /// Events of `namespace` (nil: the events of no namespace) at or after `since`, oldest first,
    /// after `cursor` (the last event of the previous page), at most `limit`.
    func auditEvents(
        in namespace: Namespace?,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int
    ) async throws(RegistryError)
        -> [AuditEvent]
}

/// Where a page of events ends: the last event's time and id (`TIME-ID`, opaque to clients).
public struct AuditCursor: Sendable, Hashable, CustomStringConvertible {
    public let time: Int64
    public let id: String

    public init(time: Int64, id: String) {
        self.time = time
        self.id = id
    }

    public init(_ event: AuditEvent) { self.init(time: event.time, id: event.id) }

    /// Parses `TIME-ID` (digits, `-`, 1-32 lowercase hex digits); nil for anything else.
    public init?(parsing text: some StringProtocol) {
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, (1...19).contains(parts[0].utf8.count), parts[0].utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let time = Int64(parts[0]), (1...32).contains(parts[1].utf8.count),
            parts[1].utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) })
        else { return nil }
        self.init(time: time, id: String(parts[1]))
    }

    public var description: String { "\(time)-\(id)" }
}

public enum AuditRetention {
    /// 400 days: a yearly audit finds the whole previous year, with a month to spare.
    public static let seconds: Int64 = 400 * 86_400
    /// The largest page `auditEvents` is asked for.
    public static let maximumPageSize = 1000
}
