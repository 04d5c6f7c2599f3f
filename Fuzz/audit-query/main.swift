import FuzzSupport
import TFRegAPI
import TFRegCore
import TFRegJSON

/// `GET /v1/audit`'s query (`AuditQuery(parsing:)`, `AuditCursor(parsing:)`) and the stored form of an
/// event (`AuditEvent(encoded:)`, what SQLite and DynamoDB hand back). Input: the query string.
/// Properties: never traps; a parsed query writes a query string (`queryString`, the `next_url`) that
/// parses to the same query; a parsed cursor prints as it was read; an event read from stored text
/// re-encodes to text that reads back equal, every field within its bound.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    if let query = try? AuditQuery(parsing: text) {
        guard let again = try? AuditQuery(parsing: query.queryString), again == query else {
            fatalError("query \(text.debugDescription) does not round-trip through \(query.queryString.debugDescription)")
        }
        guard (1...AuditRetention.maximumPageSize).contains(query.limit) else { fatalError("limit \(query.limit) out of bounds") }
    }
    if let cursor = AuditCursor(parsing: text) {
        guard cursor.description == text || text.hasPrefix("0") else { fatalError("cursor \(text.debugDescription) prints as \(cursor)") }
    }
    if let event = AuditEvent(encoded: text) {
        guard AuditEvent(encoded: event.encoded) == event else { fatalError("event \(text.debugDescription) does not round-trip") }
        for field in [event.principal, event.action, event.target] {
            guard field.utf8.count <= AuditEvent.maximumFieldBytes else { fatalError("unbounded field in \(text.debugDescription)") }
        }
    }
}
