import Logging
import TFRegSystem

/// The audit trail: every state change's one log line and audit event (`changed`), refused writes
/// (`recordRefusal`), and reading the trail back.
extension RegistryService {
    // MARK: The change log

    /// The one log line of a state change, naming who made it (`by`), and its audit event to every
    /// sink (`auditSinks`), with the request's id, source IP and user agent when a request made it
    /// (`AuditContext.current`). Never a token, a token's hash or a key in `metadata` or `target`.
    func changed(
        _ event: String,
        by principal: some CustomStringConvertible,
        _ metadata: Logger.Metadata,
        _ logger: Logger,
        action: String,
        namespace: Namespace?,
        target: String
    ) async {
        var line = metadata
        line["by"] = "\(principal)"
        logger.info("\(event)", metadata: line)
        let context = AuditContext.current
        let audit = AuditEvent(
            time: clock.now(),
            principal: "\(principal)",
            action: action,
            namespace: namespace,
            target: target,
            requestID: context?.requestID,
            sourceIP: context?.sourceIP,
            userAgent: context?.userAgent,
            details: metadata.mapValues { "\($0)" }
        )
        for sink in auditSinks { await sink.record(audit, logger: logger) }
    }

    /// A write refused with 401 or 403 (`RegistryAPI` reports them): its audit event, `principal` nil
    /// for a request without valid credentials (`anonymous`). `route` is the operation's template
    /// (`METHOD TEMPLATE` is the action), `path` the raw path (bounded, as every field).
    public func recordRefusal(
        principal: Identity?,
        method: String,
        route: String,
        path: String,
        status: Int,
        namespace: Namespace?,
        logger: Logger
    ) async {
        let context = AuditContext.current
        let event = AuditEvent(
            time: clock.now(),
            principal: principal?.value ?? "anonymous",
            action: "\(method.prefix(16)) \(route)",
            namespace: namespace,
            target: path,
            result: status == 401 ? "unauthenticated" : "denied",
            status: status,
            requestID: context?.requestID,
            sourceIP: context?.sourceIP,
            userAgent: context?.userAgent
        )
        for sink in auditSinks { await sink.record(event, logger: logger) }
    }

    // MARK: Reading the trail

    /// `GET /v1/audit?namespace=NS`: needs `create_grant` on the namespace (who administers a
    /// namespace sees what happened in it).
    public func auditEvents(
        in namespace: Namespace,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int,
        caller: Principal?
    ) async throws(RegistryError) -> [AuditEvent] {
        try await authorize(caller, .createGrant, in: namespace)
        return try await store.auditEvents(in: namespace, since: since, after: cursor, limit: min(max(limit, 1), AuditRetention.maximumPageSize))
    }

    /// `tfreg audit` on the store: any namespace, or (nil) the events of no namespace (tokens).
    public func auditEvents(
        in namespace: Namespace?,
        since: Int64,
        after cursor: AuditCursor?,
        limit: Int,
        by op: LocalOperator
    ) async throws(RegistryError) -> [AuditEvent] {
        try await store.auditEvents(in: namespace, since: since, after: cursor, limit: min(max(limit, 1), AuditRetention.maximumPageSize))
    }
}

/// Keeps events in the metadata store (`AuditStore`). A failed write is logged at error and the
/// change stands: it was made before its event, and refusing it now would not undo it.
public struct StoreAuditSink: AuditSink {
    public let store: any AuditStore

    public init(store: any AuditStore) { self.store = store }

    public func record(_ event: AuditEvent, logger: Logger) async {
        do { try await store.recordAudit(event) } catch {
            logger.error("audit event not stored", metadata: ["action": "\(event.action)", "target": "\(event.target)", "error": "\(error)"])
        }
    }
}
