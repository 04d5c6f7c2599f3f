import Foundation
import TFRegHTTPClient
import Testing

/// Issue 21 on a running `tfreg serve`: audit events for changes over the API and by the CLI on the
/// store, refused writes, `GET /v1/audit` and `tfreg audit`; `/metrics` on its own listener, scraped
/// and parsed, and absent from the registry's port.
@Suite(.serialized) struct AuditAndMetricsTests {
    /// One sample of the Prometheus text format: `name{labels} value`.
    struct Sample {
        let name: String
        let labels: [String: String]
        let value: Double
    }

    /// Parses the text exposition format strictly enough to catch a malformed line: every line is a
    /// `# HELP`/`# TYPE` comment or a sample; label values are quoted with `\\`, `\"`, `\n` escapes.
    static func parse(_ text: String) throws -> [Sample] {
        var samples: [Sample] = []
        for line in text.split(separator: "\n") {
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") { continue }
            var rest = Substring(line)
            let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
            guard !name.isEmpty else { throw TestFailure("bad metric line: \(line)") }
            rest = rest.dropFirst(name.count)
            var labels: [String: String] = [:]
            if rest.first == "{" {
                rest = rest.dropFirst()
                while rest.first != "}" {
                    let key = rest.prefix { $0 != "=" }
                    rest = rest.dropFirst(key.count)
                    guard rest.hasPrefix("=\"") else { throw TestFailure("bad label in: \(line)") }
                    rest = rest.dropFirst(2)
                    var value = ""
                    while let c = rest.first, c != "\"" {
                        rest = rest.dropFirst()
                        if c == "\\" {
                            guard let e = rest.first else { throw TestFailure("bad escape in: \(line)") }
                            rest = rest.dropFirst()
                            value.append(e == "n" ? "\n" : e)
                        } else {
                            value.append(c)
                        }
                    }
                    guard rest.first == "\"" else { throw TestFailure("unterminated label in: \(line)") }
                    rest = rest.dropFirst()
                    labels[String(key)] = value
                    if rest.first == "," { rest = rest.dropFirst() }
                }
                rest = rest.dropFirst()
            }
            guard rest.first == " ", let value = Double(rest.dropFirst()) else { throw TestFailure("bad value in: \(line)") }
            samples.append(Sample(name: String(name), labels: labels, value: value))
        }
        return samples
    }

    @Test func auditTrailAndMetricsOnARunningServer() async throws {
        let server = try ServerProcess(extraArgs: ["--metrics-listen", "127.0.0.1:0"])
        let metricsPort = try #require(server.metricsPort)
        #expect(metricsPort > 0 && metricsPort != server.port)

        // The CLI on the store: a token and grants, named `local:USER@HOST`.
        let admin = try server.token("admin", namespace: "acme", flags: ["-d", "-u", "-c", "--delete-grant"])
        let reader = try server.token("reader", namespace: "acme", flags: ["-d"])
        let moduleDir = server.dir + "/mod"
        try writeModule(at: moduleDir, version: "1.0.0")
        let published = try server.tfreg([
            "publish", moduleDir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0", "--token", admin,
        ])
        #expect(published.status == 0, "\(published.stderr)")

        let client = server.client
        func send(_ method: String, _ path: String, token: String?, body: String = "") async throws -> HTTPResponse {
            var headers: [(name: String, value: String)] = [("User-Agent", "audit-test/1.0")]
            if let token { headers.append(("Authorization", "Bearer \(token)")) }
            return try await client.send(HTTPRequest(method: method, url: server.baseURL + path, headers: headers, body: Array(body.utf8)))
        }
        let download = try await send("GET", "/v1/modules/acme/net/aws/1.0.0/download", token: reader)
        #expect(download.status == 204)
        // Refused writes: without a token (401) and with a reader's (403).
        let grantBody = #"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": true}}"#
        #expect(try await send("PUT", "/v1/grants/acme", token: nil, body: grantBody).status == 401)
        #expect(try await send("PUT", "/v1/grants/acme", token: reader, body: grantBody).status == 403)
        // Changes over the API.
        #expect(try await send("PUT", "/v1/grants/acme", token: admin, body: grantBody).status == 200)
        #expect(try await send("DELETE", "/v1/grants/acme/arn:aws:iam::123456789012:role/ci", token: admin).status == 204)
        #expect(try await send("POST", "/v1/modules/acme/net/aws/1.0.0/deprecate", token: admin, body: #"{"reason": "old"}"#).status == 200)
        #expect(try await send("DELETE", "/v1/modules/acme/net/aws/1.0.0", token: admin).status == 204)

        // GET /v1/audit: create_grant needed; paged with next_url.
        #expect(try await send("GET", "/v1/audit?namespace=acme", token: reader).status == 403)
        #expect(try await send("GET", "/v1/audit?namespace=acme&since=yesterday", token: admin).status == 400)
        let page = try await send("GET", "/v1/audit?namespace=acme&limit=3", token: admin)
        #expect(page.status == 200, "\(page.bodyText)")
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(page.body)) as? [String: Any])
        let first = try #require(doc["events"] as? [[String: Any]])
        #expect(first.count == 3)
        let next = try #require((doc["meta"] as? [String: Any])?["next_url"] as? String)
        var events = first
        var url: String? = next
        while let u = url {
            let r = try await send("GET", u, token: admin)
            let d = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
            events += d["events"] as? [[String: Any]] ?? []
            url = (d["meta"] as? [String: Any])?["next_url"] as? String
        }
        let actions = events.map { $0["action"] as? String ?? "" }
        #expect(
            actions == [
                "put_grant", "put_grant", "publish", "PUT /v1/grants/{namespace}", "PUT /v1/grants/{namespace}", "put_grant", "delete_grant",
                "deprecate", "delete_version",
            ],
            "\(actions)"
        )
        let byAction = Dictionary(events.map { ($0["action"] as? String ?? "", $0) }) { a, _ in a }
        let publish = try #require(byAction["publish"])
        #expect((publish["principal"] as? String ?? "").hasPrefix("token:admin#") && publish["target"] as? String == "acme/net/aws@1.0.0")
        #expect(publish["source_ip"] as? String == "127.0.0.1" && (publish["user_agent"] as? String ?? "").hasPrefix("tfreg/"))
        #expect((publish["request_id"] as? String ?? "").isEmpty == false)
        #expect((events[0]["principal"] as? String ?? "").hasPrefix("local:"))
        let refusals = events.filter { ($0["action"] as? String ?? "").hasPrefix("PUT ") }
        #expect(refusals.map { $0["result"] as? String } == ["unauthenticated", "denied"])
        #expect(refusals[0]["principal"] as? String == "anonymous" && (refusals[1]["principal"] as? String ?? "").hasPrefix("token:reader#"))
        #expect(refusals.allSatisfy { $0["user_agent"] as? String == "audit-test/1.0" })

        // `tfreg audit` on the store: the same events; without --namespace the token creations.
        let cli = try server.tfreg(["audit", "-n", "acme", "--since", "1h", "--output", "json"])
        #expect(cli.status == 0, "\(cli.stderr)")
        let cliEvents = (try JSONSerialization.jsonObject(with: Data(cli.stdout.utf8)) as? [String: Any])?["events"] as? [[String: Any]] ?? []
        #expect(cliEvents.map { $0["action"] as? String ?? "" } == actions)
        let tokens = try server.tfreg(["audit"])
        #expect(tokens.status == 0 && tokens.stdout.components(separatedBy: "create_token").count == 3, "\(tokens.stdout)")
        #expect(try server.tfreg(["audit", "--since", "soon"]).status == 64)

        // Every change as a JSON line marked "audit" on standard error; never a token.
        #expect(server.logShows(#""action":"delete_version""#))
        let auditLines = server.logText.split(separator: "\n").filter { $0.hasPrefix(#"{"audit":true"#) }
        #expect(auditLines.count == 7, "\(auditLines)")  // the API's changes and refusals; the CLI's go to the store only
        #expect(!server.logText.contains(admin) && !server.logText.contains(reader))

        // /metrics on its own listener, parsed; not on the registry's port.
        let scrape = try await client.send(HTTPRequest(url: "http://127.0.0.1:\(metricsPort)/metrics"))
        #expect(scrape.status == 200 && (scrape.header("content-type") ?? "").hasPrefix("text/plain; version=0.0.4"))
        let samples = try Self.parse(scrape.bodyText)
        func value(_ name: String, _ labels: [String: String]) -> Double? {
            samples.first { s in s.name == name && labels.allSatisfy { k, v in s.labels[k] == v } }?.value
        }
        #expect(value("tfreg_http_requests_total", ["route": "/v1/modules/{namespace}/{name}/{system}/{version}/download", "status": "204"]) == 1)
        #expect(value("tfreg_http_requests_total", ["route": "/v1/grants/{namespace}", "method": "PUT", "status": "403"]) == 1)
        #expect(value("tfreg_module_downloads_total", ["module": "acme/net/aws"]) == 1)
        #expect(value("tfreg_audit_refusals_total", [:]) == 2)
        #expect(value("tfreg_http_request_duration_seconds_bucket", ["route": "/v1/audit", "le": "+Inf"]) ?? 0 >= 5)
        #expect((value("tfreg_open_connections", [:]) ?? -1) >= 0)
        // The backends' measurements: the SQLite read cache (the admin's token is looked up by every
        // audit page: hits after the first miss) and the one canonicalization (the publish).
        #expect((value("tfreg_cache_lookups_total", ["cache": "sqlite_tokens", "result": "hit"]) ?? 0) >= 1)
        #expect((value("tfreg_cache_lookups_total", ["cache": "sqlite_tokens", "result": "miss"]) ?? 0) >= 1)
        #expect(value("tfreg_canonicalization_duration_seconds_count", ["result": "ok"]) == 1)
        #expect(!samples.contains { $0.labels.values.contains { $0.contains("acme/net") && $0.hasPrefix("/") } }, "no raw paths as labels")
        #expect(try await client.send(HTTPRequest(url: server.baseURL + "/metrics")).status == 404)
        #expect(try await client.send(HTTPRequest(url: "http://127.0.0.1:\(metricsPort)/v1/modules")).status == 404)
        #expect(server.stop() == 0)
    }

    @Test func metricsAreOffByDefaultAndTheFlagIsChecked() async throws {
        let server = try ServerProcess()
        #expect(!server.logText.contains("metrics_port"))
        #expect(try await server.client.send(HTTPRequest(url: server.baseURL + "/metrics")).status == 404)
        #expect(server.stop() == 0)
        let bad = try runCommand(TFRegBinary.path, ["serve", "--port", "8443", "--metrics-listen", "127.0.0.1:8443", "--check-config"])
        #expect(bad.status == 64 && bad.stderr.contains("--metrics-listen"), "\(bad.stderr)")
    }
}
