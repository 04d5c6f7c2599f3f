import TFRegCore

/// The `AuditStore` section: events by namespace and time, oldest first, paged by cursor; the events
/// of no namespace apart; a namespace's grants unaffected by its events (DynamoDB keeps both in the
/// namespace's partition).
extension MetadataStoreConformance {
    public static func auditStore(_ store: any MetadataStore) async throws {
        let a = try Namespace("conf-audit-a")
        let b = try Namespace("conf-audit-b")
        func event(_ time: Int64, _ id: String, _ ns: Namespace?, _ action: String) -> AuditEvent {
            AuditEvent(
                time: time,
                id: id,
                principal: "arn:aws:iam::123456789012:role/ci",
                action: action,
                namespace: ns,
                target: "\(ns?.value ?? "-")/vpc/aws@1.0.0",
                requestID: "req-\(id)",
                sourceIP: "192.0.2.1",
                userAgent: "Terraform/1.9 \"quoted\"\n",
                details: ["sha256": String(repeating: "a", count: 64)]
            )
        }
        // Written out of order; read back by time, then id.
        let written = [
            event(1_700_000_300, "00000000000000c3", a, "delete_version"), event(1_700_000_100, "00000000000000a1", a, "publish"),
            event(1_700_000_200, "00000000000000b2", a, "deprecate"), event(1_700_000_200, "00000000000000b1", a, "undeprecate"),
            event(1_700_000_150, "00000000000000f1", b, "put_grant"), event(1_700_000_160, "00000000000000f2", nil, "issue_token"),
        ]
        try await store.putGrant(
            Grant(namespace: a, identity: try Identity("arn:aws:iam::123456789012:role/ci"), permissions: Permissions(download: true)),
            mode: .upsert
        )
        for e in written { try await store.recordAudit(e) }

        let all = try await store.auditEvents(in: a, since: 0, after: nil, limit: 100)
        try expect(
            all.map(\.id) == ["00000000000000a1", "00000000000000b1", "00000000000000b2", "00000000000000c3"],
            "oldest first: \(all.map(\.id))"
        )
        try expect(all[0] == written[1], "an event reads back as written: \(all[0]) vs \(written[1])")
        try await expect(store.auditEvents(in: b, since: 0, after: nil, limit: 100).map(\.id) == ["00000000000000f1"], "by namespace")
        try await expect(store.auditEvents(in: nil, since: 0, after: nil, limit: 100).map(\.id) == ["00000000000000f2"], "no namespace apart")
        try await expect(
            store.auditEvents(in: a, since: 1_700_000_200, after: nil, limit: 100).map(\.id) == [
                "00000000000000b1", "00000000000000b2", "00000000000000c3",
            ],
            "since is inclusive"
        )
        // Pages of two, each after the previous page's last event.
        let first = try await store.auditEvents(in: a, since: 0, after: nil, limit: 2)
        try expect(first.map(\.id) == ["00000000000000a1", "00000000000000b1"], "first page: \(first.map(\.id))")
        let second = try await store.auditEvents(in: a, since: 0, after: AuditCursor(first[1]), limit: 2)
        try expect(second.map(\.id) == ["00000000000000b2", "00000000000000c3"], "second page: \(second.map(\.id))")
        try await expect(store.auditEvents(in: a, since: 0, after: AuditCursor(second[1]), limit: 2).isEmpty, "nothing after the last")
        try await expect(store.grants(in: a).count == 1, "events are not grants")
    }
}
