import TFRegCore
import TFRegJSON
import TFRegSystem

extension RegistryAPI {
    /// `GET /v1/audit?namespace=NS[&since=TIME][&after=CURSOR][&limit=N]`: a page of the namespace's
    /// audit events, oldest first, for callers with `create_grant` there. `since` is RFC 3339
    /// (`2026-01-01T00:00:00Z`) or seconds since the epoch; `next_url` continues after the page's last
    /// event.
    func audit(_ route: AuditRoute, _ req: APIRequest, caller: Principal) async throws(RegistryError) -> APIResponse {
        let query = try AuditQuery(parsing: req.query)
        let events = try await service.auditEvents(in: query.namespace, since: query.since, after: query.after, limit: query.limit, caller: caller)
        var meta: [(String, JSONValue)] = [("limit", .int(Int64(query.limit)))]
        if events.count == query.limit, let last = events.last {
            var next = query
            next.after = AuditCursor(last)
            meta.append(("next_url", .string(route.path + "?" + next.queryString)))
        }
        return .json(200, JSONValue.object([("events", .array(events.map(\.jsonValue))), ("meta", .object(meta))]).serialized())
    }
}

/// The parameters of `GET /v1/audit`, each checked against its grammar (400 otherwise); also what the
/// CLI sends.
public struct AuditQuery: Sendable, Hashable {
    public var namespace: Namespace
    public var since: Int64
    public var after: AuditCursor?
    public var limit: Int

    public static let defaultLimit = 100

    public init(namespace: Namespace, since: Int64 = 0, after: AuditCursor? = nil, limit: Int = defaultLimit) {
        self.namespace = namespace
        self.since = since
        self.after = after
        self.limit = limit
    }

    public init(parsing query: String) throws(RegistryError) {
        guard let items = URLParsing.queryItems(query) else { throw .badRequest("malformed query string") }
        func value(_ name: String) throws(RegistryError) -> String? {
            let v = items.filter { $0.name == name }
            guard v.count <= 1 else { throw .badRequest("parameter '\(name)' given more than once") }
            return v.first?.value
        }
        for item in items where !["namespace", "since", "after", "limit"].contains(item.name) {
            throw .badRequest("unknown parameter '\(item.name.prefix(64))'; use namespace, since, after, limit")
        }
        guard let ns = try value("namespace") else { throw .badRequest("the 'namespace' parameter is required") }
        namespace = try Namespace(ns)
        since = 0
        if let s = try value("since") {
            guard let t = Self.parseTime(s) else { throw .badRequest("since must be RFC 3339 (2026-01-01T00:00:00Z) or seconds since the epoch") }
            since = t
        }
        if let a = try value("after") {
            guard let c = AuditCursor(parsing: a) else { throw .badRequest("invalid 'after' cursor") }
            after = c
        }
        limit = Self.defaultLimit
        if let l = try value("limit") {
            guard l.utf8.count <= 7, let n = Int(l), n >= 1 else { throw .badRequest("limit must be a positive integer") }
            limit = min(n, AuditRetention.maximumPageSize)
        }
    }

    /// RFC 3339 (`…Z`) or 1-12 digits of seconds since the epoch; nothing before the epoch (an RFC 3339
    /// year 0226 would be a negative number that `next_url` could not carry: found by fuzz-audit-query).
    public static func parseTime(_ s: String) -> Int64? {
        if let t = parseRFC3339(s) { return t >= 0 ? t : nil }
        guard (1...12).contains(s.utf8.count), s.utf8.allSatisfy(ASCII.isDigit) else { return nil }
        return Int64(s)
    }

    public var queryString: String {
        var q = "namespace=\(namespace.value)&since=\(since)&limit=\(limit)"
        if let after { q += "&after=\(after)" }
        return q
    }
}
