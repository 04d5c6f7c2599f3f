import Glibc
import Logging
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegCore

/// Issue 21's audit trail: every state change and token issue records one event (principal as
/// verified, action, target, result, the request's id, source IP and user agent), in the store and in
/// any other sink; never a token, its hash or a key.
@Suite struct AuditTrailTests {
    let store = InMemoryMetadataStore()
    let clock = TestClock(1_700_000_000)
    var service: RegistryService { RegistryService(store: store, storage: NullStorage(), canonicalizer: AcceptAll(), clock: clock) }
    let module = try! ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
    let admin = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/admin"))
    let op = LocalOperator(user: "alice", host: "build-01")
    let context = AuditContext(requestID: "req-1", sourceIP: "192.0.2.7", userAgent: "Terraform/1.9.0")
    let logger = Logger(label: "test")

    init() async throws {
        try await store.putGrant(
            Grant(
                namespace: module.namespace,
                identity: admin.identity,
                permissions: Permissions(download: true, upload: true, createGrant: true, deleteGrant: true)
            ),
            mode: .create
        )
    }

    func onlyEvent() async throws -> AuditEvent {
        let log = await store.auditLog
        #expect(log.count == 1, "\(log)")
        return try #require(log.last)
    }

    @Test func everyChangeOverTheAPIRecordsOneEventWithTheRequest() async throws {
        let v = try Version("1.0.0")
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        try await AuditContext.$current.withValue(context) {
            let staged = StagedArchive(path: "/nonexistent/tfreg-staged", size: 1, sha256: "ab")
            _ = try await service.publish(staged, version: v, of: module, caller: admin, logger: logger)
            _ = try await service.deprecate(v, of: module, reason: "old", replacement: nil, caller: admin, logger: logger)
            _ = try await service.deprecate(v, of: module, reason: nil, replacement: nil, caller: admin, logger: logger)
            try await service.deleteVersion(v, of: module, caller: admin, logger: logger)
            try await service.putGrant(
                Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true)),
                caller: admin,
                logger: logger
            )
            try await service.deleteGrant(for: ci, in: module.namespace, caller: admin, logger: logger)
        }
        let events = await store.auditLog
        #expect(events.map(\.action) == ["publish", "deprecate", "undeprecate", "delete_version", "put_grant", "delete_grant"])
        #expect(events.map(\.target) == Array(repeating: "acme/vpc/aws@1.0.0", count: 4) + [ci.value, ci.value])
        for e in events {
            #expect(e.principal == admin.identity.value && e.namespace == module.namespace && e.result == "ok" && e.status == 200)
            #expect(e.requestID == "req-1" && e.sourceIP == "192.0.2.7" && e.userAgent == "Terraform/1.9.0" && e.time == 1_700_000_000)
        }
        #expect(events[0].details["sha256"] == "ab")
        #expect(events[4].details["permissions"] != nil)
        #expect(Set(events.map(\.id)).count == events.count)
        // Read back by namespace and time, as `GET /v1/audit` does (create_grant needed).
        let read = try await service.auditEvents(in: module.namespace, since: 0, after: nil, limit: 100, caller: admin)
        #expect(read.count == 6)
        let reader = Principal(identity: try Identity("arn:aws:iam::123456789012:role/reader"))
        try await store.putGrant(
            Grant(namespace: module.namespace, identity: reader.identity, permissions: Permissions(download: true, upload: true)),
            mode: .create
        )
        await #expect(throws: RegistryError.forbidden("")) {
            try await service.auditEvents(in: module.namespace, since: 0, after: nil, limit: 100, caller: reader)
        }
        await #expect(throws: RegistryError.unauthenticated("")) {
            try await service.auditEvents(in: module.namespace, since: 0, after: nil, limit: 100, caller: nil)
        }
    }

    @Test func grantChangesOnTheStoreNameTheOperator() async throws {
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        let grant = Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true))
        try await service.writeGrant(grant, mode: .create, by: op, logger: logger)
        try await service.writeGrant(
            Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true, upload: true)),
            mode: .update,
            by: op,
            logger: logger
        )
        _ = try await service.deleteGrant(for: ci, in: module.namespace, by: op, logger: logger)
        let events = await store.auditLog
        #expect(events.map(\.action) == ["put_grant", "put_grant", "delete_grant"])
        #expect(events.allSatisfy { $0.principal == "local:alice@build-01" && $0.requestID == nil && $0.sourceIP == nil && $0.target == ci.value })
        #expect(events[1].details["permissions"] != events[0].details["permissions"])
    }

    @Test func staticTokensAreAuditedWithoutTheToken() async throws {
        let name = try Identity.token(named: "ci")
        let (identity, token) = try await service.createStaticToken(named: name, discardingOrphans: false, by: op, logger: logger)
        _ = try await service.revokeStaticToken(named: name, by: op, logger: logger)
        let events = await store.auditLog
        #expect(events.map(\.action) == ["create_token", "revoke_token"])
        #expect(events.allSatisfy { $0.namespace == nil && $0.target == identity.value && $0.principal == "local:alice@build-01" })
        let digest = StaticTokenAuthenticator.digest(of: token)
        for e in events {
            let text = e.encoded + String(decoding: e.logLine(now: 1), as: UTF8.self)
            #expect(!text.contains(token) && !text.contains(digest))
        }
        #expect(try await store.auditEvents(in: nil, since: 0, after: nil, limit: 10).count == 2)
    }

    @Test func tokenIssuesAreAuditedWithoutTheToken() async throws {
        let tokens = SealedTokens(keys: StaticTokenKeys(keys: [[UInt8](repeating: 9, count: 32)]), audience: "registry.example.com", clock: clock)
        let (token, _) = try await AuditContext.$current.withValue(context) {
            try await service.issueToken(for: admin, requestedLifetime: 60, with: tokens, logger: logger)
        }
        let issuer = TokenIssuer(tokens: tokens, verifier: FixedVerifier(identity: admin.identity))
        let request = SignedCallerIdentityRequest(method: "POST", url: "https://sts.amazonaws.com/", headers: [], body: "")
        let exchanged = try await service.issueToken(exchanging: request, requestedLifetime: nil, with: issuer, logger: logger)
        let events = await store.auditLog
        #expect(events.map(\.action) == ["issue_token", "issue_token"])
        #expect(events.map { $0.details["via"] } == ["front end", "GetCallerIdentity"])
        #expect(events.allSatisfy { $0.principal == admin.identity.value && $0.namespace == nil })
        #expect(events[0].sourceIP == "192.0.2.7")
        for e in events { #expect(!e.encoded.contains(token) && !e.encoded.contains(exchanged.token)) }
    }

    @Test func refusalsAreRecorded() async throws {
        await AuditContext.$current.withValue(context) {
            await service.recordRefusal(
                principal: nil,
                method: "PUT",
                route: "/v1/grants/{namespace}",
                path: "/v1/grants/acme",
                status: 401,
                namespace: module.namespace,
                logger: logger
            )
        }
        let e = try await onlyEvent()
        #expect(e.principal == "anonymous" && e.action == "PUT /v1/grants/{namespace}" && e.result == "unauthenticated" && e.status == 401)
        #expect(e.requestID == "req-1" && e.namespace == module.namespace && e.target == "/v1/grants/acme")
    }

    @Test func aFailingStoreDoesNotFailTheChange() async throws {
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        var s = service
        s.auditSinks = [DownStore()].map { StoreAuditSink(store: $0) }
        let log = LogCapture()
        try await s.writeGrant(
            Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true)),
            mode: .create,
            by: op,
            logger: log.logger()
        )
        #expect(try await store.grant(for: ci, in: module.namespace) != nil)
        #expect(log.lines("audit event not stored").count == 1)
    }

    @Test func theLogLineIsOneJSONObjectMarkedAudit() throws {
        let e = AuditEvent(
            time: 1_700_000_000,
            id: "0123456789abcdef",
            principal: "token:ci#ab12",
            action: "publish",
            namespace: module.namespace,
            target: "acme/vpc/aws@1.0.0",
            requestID: "r",
            sourceIP: "::1",
            userAgent: "x\n\"y\"\u{7}",
            details: ["k": "v"]
        )
        let line = e.logLine(now: 1_700_000_001)
        #expect(line.last == 10 && line.dropLast().allSatisfy { $0 != 10 })
        let text = String(decoding: line, as: UTF8.self)
        #expect(
            text.hasPrefix(
                #"{"audit":true,"time":"2023-11-14T22:13:21Z","level":"info","message":"audit","label":"tfreg.audit","event_time":"2023-11-14T22:13:20Z""#
            )
        )
        #expect(text.contains(#""principal":"token:ci#ab12""#) && text.contains(#""user_agent":"x\n\"y\"\u0007""#))
        // The stored form reads back equal; a cut field stays valid UTF-8 within the bound.
        #expect(AuditEvent(encoded: e.encoded) == e)
        let long = AuditEvent(time: 1, principal: "p", action: "a", namespace: nil, target: String(repeating: "é", count: 400))
        #expect(long.target.utf8.count <= AuditEvent.maximumFieldBytes && long.target.utf8.count >= AuditEvent.maximumFieldBytes - 1)
    }

    @Test(arguments: ["", "1", "x-ab", "12-", "-ab", "12-AB", "12-ab-cd", "99999999999999999999-ab", "1-\(String(repeating: "a", count: 33))"])
    func cursorsRefuseAnythingElse(_ text: String) {
        #expect(AuditCursor(parsing: text) == nil)
    }

    @Test func cursorsRoundTrip() throws {
        let c = try #require(AuditCursor(parsing: "1700000000-0123456789abcdef"))
        #expect(c.time == 1_700_000_000 && c.id == "0123456789abcdef" && c.description == "1700000000-0123456789abcdef")
    }
}

/// An audit store that is down.
struct DownStore: AuditStore {
    func recordAudit(_ event: AuditEvent) async throws(RegistryError) { throw .unavailable("the audit store", detail: "test: down") }
    func auditEvents(in namespace: Namespace?, since: Int64, after cursor: AuditCursor?, limit: Int) async throws(RegistryError) -> [AuditEvent] {
        throw .unavailable("the audit store", detail: "test: down")
    }
}
