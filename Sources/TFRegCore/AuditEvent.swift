import Glibc
import Logging
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// One entry of the audit trail: a state change, a token issue, or a refused write (401/403).
/// Written by `RegistryService` (`changed`, `recordRefusal`) to every `AuditSink`: a JSON line on
/// standard error (`AuditLine`) and the store (`AuditStore`).
///
/// It names the principal as it was verified (an IAM ARN, `token:NAME#ID`, `local:USER@HOST`, or
/// `anonymous` for a refused request without credentials), never a token, a token's hash, a key or
/// a signature: no field is ever given one.
public struct AuditEvent: Sendable, Hashable {
    /// Seconds since the epoch (the service's clock).
    public var time: Int64
    /// 24 hex digits (`newID`): orders and tells apart events of the same second.
    public var id: String
    public var principal: String
    /// What was done (`Action`), or for a refusal the route (`PUT /v1/grants/{namespace}`).
    public var action: String
    /// The namespace the event belongs to (nil: token creation, revocation and issue).
    public var namespace: Namespace?
    /// What was acted on: a module version (`NS/NAME/SYSTEM@VERSION`), an identity, a path.
    public var target: String
    /// `ok`, `denied` (403) or `unauthenticated` (401).
    public var result: String
    /// The HTTP status of the request (200 for changes made by the CLI on the store).
    public var status: Int
    public var requestID: String?
    public var sourceIP: String?
    public var userAgent: String?
    /// Further facts of the action (permissions granted, sha256 published, expiry of an issued token).
    public var details: [String: String]

    public init(
        time: Int64,
        id: String = AuditEvent.newID(),
        principal: String,
        action: String,
        namespace: Namespace?,
        target: String,
        result: String = "ok",
        status: Int = 200,
        requestID: String? = nil,
        sourceIP: String? = nil,
        userAgent: String? = nil,
        details: [String: String] = [:]
    ) {
        self.time = time
        self.id = id
        self.principal = Self.bounded(principal)
        self.action = Self.bounded(action)
        self.namespace = namespace
        self.target = Self.bounded(target)
        self.result = result
        self.status = status
        self.requestID = requestID.map(Self.bounded)
        self.sourceIP = sourceIP.map(Self.bounded)
        self.userAgent = userAgent.map(Self.bounded)
        self.details = details.mapValues(Self.bounded)
    }

    /// The actions of state changes and token issues.
    public enum Action {
        public static let publish = "publish"
        public static let register = "register"
        public static let importLegacy = "import_legacy"
        public static let deleteVersion = "delete_version"
        public static let deprecate = "deprecate"
        public static let undeprecate = "undeprecate"
        public static let putGrant = "put_grant"
        public static let deleteGrant = "delete_grant"
        public static let createToken = "create_token"
        public static let revokeToken = "revoke_token"
        public static let issueToken = "issue_token"
        public static let reindex = "reindex"
        public static let publishProvider = "publish_provider"
        public static let addSigningKey = "add_signing_key"
        public static let removeSigningKey = "remove_signing_key"
    }

    /// Every field a client can influence (user agent, path, request id) is cut to this many bytes
    /// before it is kept: an event's size is bounded whatever a request carries.
    public static let maximumFieldBytes = 512

    static func bounded(_ s: String) -> String {
        guard s.utf8.count > maximumFieldBytes else { return s }
        var cut = s.utf8.prefix(maximumFieldBytes)
        while !cut.isEmpty, String(cut) == nil { cut = cut.dropLast() }
        return String(cut) ?? ""
    }

    /// 16 hex digits of the wall clock in nanoseconds since the epoch, then 8 random ones: events of
    /// one second sort in the order they were made (across processes as far as their clocks agree,
    /// whatever clock stamped `time`), and two events never share an id.
    public static func newID() -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let nanos = UInt64(max(0, ts.tv_sec)) &* 1_000_000_000 &+ UInt64(max(0, ts.tv_nsec))
        let bytes = (0..<8).map { UInt8(truncatingIfNeeded: nanos >> (56 - 8 * UInt64($0))) }
        return Hex.encode(bytes + SecureRandom.bytes(4))
    }

    /// The event as one JSON object (the `tfreg audit --output json` and `GET /v1/audit` shape).
    public var jsonValue: JSONValue {
        var fields: [(String, JSONValue)] = [
            ("time", .string(rfc3339(time))), ("id", .string(id)), ("principal", .string(principal)), ("action", .string(action)),
        ]
        if let namespace { fields.append(("namespace", .string(namespace.value))) }
        fields += [("target", .string(target)), ("result", .string(result)), ("status", .int(Int64(status)))]
        if let requestID, !requestID.isEmpty { fields.append(("request_id", .string(requestID))) }
        if let sourceIP { fields.append(("source_ip", .string(sourceIP))) }
        if let userAgent { fields.append(("user_agent", .string(userAgent))) }
        if !details.isEmpty {
            fields.append(("details", .object(details.keys.sorted().map { ($0, .string(details[$0]!)) })))
        }
        return .object(fields)
    }

    /// The log line: `{"audit": true, "time": …, "level": "info", "message": "audit", …}` (the shape of
    /// every JSON log line, so a log pipeline keeps it; the event's own time is `event_time`).
    public func logLine(now: Int64) -> [UInt8] {
        guard case .object(let own) = jsonValue else { return [] }
        var fields: [(String, JSONValue)] = [
            ("audit", .bool(true)), ("time", .string(rfc3339(now))), ("level", .string("info")), ("message", .string("audit")),
            ("label", .string("tfreg.audit")),
        ]
        for (k, v) in own { fields.append((k == "time" ? "event_time" : k, v)) }
        var bytes = JSONValue.object(fields).serialized()
        bytes.append(10)
        return bytes
    }

    /// The event as stored (SQLite column, DynamoDB attribute): its JSON text.
    public var encoded: String { String(decoding: jsonValue.serialized(), as: UTF8.self) }

    /// Reads a stored event (`encoded`); nil when it is not one.
    public init?(encoded: String) {
        guard let json = try? JSONValue(parsing: Array(encoded.utf8)) else { return nil }
        self.init(json: json)
    }

    /// Reads an event written by `jsonValue` (the CLI reads `GET /v1/audit` pages); nil when it is not one.
    public init?(json: JSONValue) {
        guard let t = json["time"]?.stringValue.flatMap(parseRFC3339), let id = json["id"]?.stringValue,
            let principal = json["principal"]?.stringValue, let action = json["action"]?.stringValue,
            let target = json["target"]?.stringValue, let result = json["result"]?.stringValue
        else { return nil }
        var details: [String: String] = [:]
        if case .object(let d)? = json["details"] { for (k, v) in d { if let s = v.stringValue { details[k] = s } } }
        self.init(
            time: t,
            id: id,
            principal: principal,
            action: action,
            namespace: json["namespace"]?.stringValue.flatMap { try? Namespace($0) },
            target: target,
            result: result,
            status: Int(json["status"]?.intValue ?? 0),
            requestID: json["request_id"]?.stringValue,
            sourceIP: json["source_ip"]?.stringValue,
            userAgent: json["user_agent"]?.stringValue,
            details: details
        )
    }
}

/// The request an audit event comes from, set by `RegistryAPI` around each request (a task-local
/// value, so the service's use cases need no extra parameter): request id, source IP, user agent.
/// Unset for CLI commands on the store.
public struct AuditContext: Sendable {
    public var requestID: String
    public var userAgent: String?
    /// Looked up only when an event is recorded: `serve` asks the connection for its peer address,
    /// which takes the channel's lock and formats the address — 1.5 % of a read request's
    /// instructions (callgrind, issue 17) for a value only writes record.
    private var sourceLookup: @Sendable () -> String?

    public var sourceIP: String? {
        get { sourceLookup() }
        set { sourceLookup = { newValue } }
    }

    public init(requestID: String, sourceIP: String?, userAgent: String?) {
        self.init(requestID: requestID, sourceIP: { sourceIP }, userAgent: userAgent)
    }

    public init(requestID: String, sourceIP lookup: @escaping @Sendable () -> String?, userAgent: String?) {
        self.requestID = requestID
        self.sourceLookup = lookup
        self.userAgent = userAgent
    }

    @TaskLocal public static var current: AuditContext?
}

/// Where audit events go. `record` never throws: a sink that fails says so in its own log line and
/// the change it reports stands (it was already made).
public protocol AuditSink: Sendable {
    func record(_ event: AuditEvent, logger: Logger) async
}

/// The JSON line sink: one line per event on a file descriptor (standard error: journald for `serve`,
/// CloudWatch Logs for Lambda), written whatever the log level or format.
public struct AuditLine: AuditSink {
    public let fd: Int32
    let clock: any WallClock

    public init(fd: Int32 = 2, clock: any WallClock = SystemClock()) {
        self.fd = fd
        self.clock = clock
    }

    public func record(_ event: AuditEvent, logger: Logger) async {
        _ = FileSystem.write(fd: fd, event.logLine(now: clock.now()))
    }
}
