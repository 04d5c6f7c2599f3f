import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg {
    /// `tfreg audit`: the audit trail, from the store directly or through `GET /v1/audit`.
    struct Audit: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show the audit trail: who changed what, and refused writes.",
            discussion: """
                Events are read oldest first from --since on. On the store, without --namespace: the
                events of no namespace (token creation, revocation and issue). With --registry, give
                --namespace (the caller needs create_grant there).

                Examples:
                  tfreg audit -n acme --since 24h
                  tfreg audit --since 2026-01-01T00:00:00Z --output json
                  tfreg audit --registry registry.example.com -n acme --since 7d
                """
        )
        @Option(name: [.customLong("namespace"), .customShort("n")], help: "The namespace whose events to show.")
        var namespace: String?
        @Option(help: "From this time on: RFC 3339, seconds since the epoch, or an age (30m, 24h, 7d). Default: everything kept.")
        var since: String?
        @Option(help: "At most this many events (default 1000).")
        var limit: Int = 1000
        @OptionGroup var out: OutputOptions
        @OptionGroup var store: StoreOptions
        @OptionGroup var remote: RemoteOptions

        func run() async throws {
            let format = try out.format()
            let ns = try namespace.map { text throws(CLIError) in try NamespaceOption.parse(text) }
            let from = try Self.parseSince(since, now: SystemClock().now())
            guard limit >= 1 else { throw CLIError.usage("--limit must be at least 1") }
            var events: [AuditEvent] = []
            if let registry = remote.registry {
                guard let ns else { throw CLIError.usage("with --registry, give --namespace: the audit API reads one namespace") }
                let host = try RegistryHost(registry)
                let token = try await remote.auth.token(for: host, seconds: 300)
                let http = RegistryClient.make(caBundle: try remote.auth.caBundle)
                var query = AuditQuery(namespace: ns, since: from, limit: min(limit, AuditRetention.maximumPageSize))
                while events.count < limit {
                    let r = try await http.send(
                        HTTPRequest(
                            method: "GET",
                            url: "https://\(host.name)\(AuditRoute.events.path)?\(query.queryString)",
                            headers: [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader],
                            timeout: 30
                        )
                    )
                    guard r.status == 200, let doc = try? JSONParser.parse(r.body), case .array(let items)? = doc["events"] else {
                        throw CLIError.registry(r, action: "read the audit trail of '\(ns)'")
                    }
                    let page = items.compactMap(AuditEvent.init(json:))
                    events += page
                    guard page.count == query.limit, let last = page.last else { break }
                    query.after = AuditCursor(last)
                }
            } else {
                let service = RegistryService(store: try store.openMetadata())
                var cursor: AuditCursor?
                while events.count < limit {
                    let want = min(limit - events.count, AuditRetention.maximumPageSize)
                    let page = try await service.auditEvents(in: ns, since: from, after: cursor, limit: want, by: .current())
                    events += page
                    guard page.count == want, let last = page.last else { break }
                    cursor = AuditCursor(last)
                }
            }
            events = Array(events.prefix(limit))
            switch format {
            case .json:
                printJSON(.object([("events", .array(events.map(\.jsonValue)))]))
            case .text:
                var text = ""
                for e in events {
                    let via = [e.sourceIP, e.requestID].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
                    text += "\(rfc3339(e.time))  \(e.principal)  \(e.action)  \(e.target)  \(e.result)\(via.isEmpty ? "" : "  (\(via))")\n"
                }
                writeStandardOutput(Array(text.utf8))
            }
        }

        /// RFC 3339, seconds since the epoch, or an age: digits and `s`, `m`, `h` or `d`.
        static func parseSince(_ text: String?, now: Int64) throws(CLIError) -> Int64 {
            guard let text else { return 0 }
            if let t = AuditQuery.parseTime(text) { return t }
            let unit = text.utf8.last ?? 0
            let digits = text.utf8.dropLast()
            let scale: Int64? =
                switch unit {
                case UInt8(ascii: "s"): 1
                case UInt8(ascii: "m"): 60
                case UInt8(ascii: "h"): 3600
                case UInt8(ascii: "d"): 86_400
                default: nil
                }
            guard let scale, (1...9).contains(digits.count), digits.allSatisfy(ASCII.isDigit), let n = Int64(String(text.dropLast())) else {
                throw .usage("--since: expected RFC 3339 (2026-01-01T00:00:00Z), seconds since the epoch, or an age such as 24h or 7d")
            }
            return now - n * scale
        }
    }
}
