import Logging
import TFRegCore
import TFRegJSON
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegAPI

/// `GET /v1/audit` and refused writes in process (SQLite store), and the metrics registry's text
/// format and Lambda line, without sockets.
@Suite struct AuditAndMetricsAPITests {
    @Test func theAuditRouteNeedsCreateGrantAndPages() async throws {
        let h = try APIHarness()
        let admin = try await h.token("admin", Permissions(download: true, upload: true, createGrant: true, deleteGrant: true))
        let reader = try await h.token("reader", Permissions(download: true))
        let body = Array(#"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": true}}"#.utf8)
        // Two refusals (401, 403), then three changes.
        #expect(await h.send("PUT", "/v1/grants/acme", body: body).status == 401)
        #expect(await h.send("PUT", "/v1/grants/acme", token: reader, body: body).status == 403)
        #expect(await h.send("GET", "/v1/grants/acme", token: reader).status == 403)  // a read: not audited
        #expect(await h.send("PUT", "/v1/grants/acme", token: admin, body: body).status == 200)
        #expect(await h.send("DELETE", "/v1/grants/acme/arn:aws:iam::123456789012:role/ci", token: admin).status == 204)
        #expect(await h.send("PUT", "/v1/modules/acme/vpc/aws/1.0.0/upload", token: admin, body: try APIHarness.moduleArchive()).status == 201)

        #expect(await h.send("GET", "/v1/audit?namespace=acme").status == 401)
        #expect(await h.send("GET", "/v1/audit?namespace=acme", token: reader).status == 403)
        for bad in [
            "", "namespace=ac%2Fme", "namespace=acme&namespace=b", "namespace=acme&since=tomorrow", "namespace=acme&since=0226-01-01T00:00:00Z",
            "namespace=acme&limit=0",
            "namespace=acme&after=x", "namespace=acme&x=1",
        ] {
            #expect(await h.send("GET", "/v1/audit?" + bad, token: admin).status == 400, "\(bad)")
        }
        let first = await h.send("GET", "/v1/audit?namespace=acme&limit=2", token: admin)
        #expect(first.status == 200)
        let doc = try JSONValue(parsing: first.bodyBytes)
        guard case .array(let events)? = doc["events"] else { throw AuditTestFailure("no events") }
        #expect(events.compactMap { $0["action"]?.stringValue } == ["PUT /v1/grants/{namespace}", "PUT /v1/grants/{namespace}"])
        #expect(events.compactMap { $0["result"]?.stringValue } == ["unauthenticated", "denied"])
        #expect(events[0]["principal"]?.stringValue == "anonymous" && (events[1]["principal"]?.stringValue ?? "").hasPrefix("token:reader#"))
        let next = try #require(doc["meta"]?["next_url"]?.stringValue)
        #expect(next.hasPrefix("/v1/audit?namespace=acme&since=0&limit=2&after="))
        let second = try JSONValue(parsing: await h.send("GET", next, token: admin).bodyBytes)
        guard case .array(let more)? = second["events"] else { throw AuditTestFailure("no events") }
        #expect(more.compactMap { $0["action"]?.stringValue } == ["put_grant", "delete_grant"])
        let third = try JSONValue(parsing: await h.send("GET", try #require(second["meta"]?["next_url"]?.stringValue), token: admin).bodyBytes)
        guard case .array(let last)? = third["events"] else { throw AuditTestFailure("no events") }
        #expect(last.compactMap { $0["action"]?.stringValue } == ["publish"] && third["meta"]?["next_url"] == nil)
        #expect(last.first?["request_id"]?.stringValue == "t")
        // `since` after every event: nothing.
        let none = try JSONValue(parsing: await h.send("GET", "/v1/audit?namespace=acme&since=2100-01-01T00:00:00Z", token: admin).bodyBytes)
        #expect(none["events"] == .array([]))
    }

    @Test func prometheusTextHasOneSeriesPerRouteTemplate() throws {
        let registry = MetricsRegistry()
        let observer = MetricsObserver(registry: registry)
        let logger = Logger(label: "test")
        func observe(_ route: String, _ method: String, _ path: String, _ status: Int, ms: Int64) {
            observer.requestFinished(
                RequestObservation(
                    route: route,
                    method: method,
                    path: path,
                    status: status,
                    duration: .milliseconds(ms),
                    principal: nil,
                    requestID: "r"
                ),
                logger: logger
            )
        }
        let download = "/v1/modules/{namespace}/{name}/{system}/{version}/download"
        observe(download, "GET", "/v1/modules/acme/vpc/aws/1.0.0/download", 204, ms: 3)
        observe(download, "GET", "/v1/modules/acme/vpc/aws/1.1.0/download", 204, ms: 30)
        observe(download, "GET", "/v1/modules/acme/nope/aws/1.0.0/download", 404, ms: 1)  // no module label for a 404 (same route)
        observe("unmatched", "BREW", "/coffee\"\n", 404, ms: 1)
        observe("/token", "POST", "/token", 200, ms: 100)
        observe("/v1/grants/{namespace}", "PUT", "/v1/grants/acme", 403, ms: 1)
        let text = registry.prometheusText()
        #expect(text.contains(#"tfreg_http_requests_total{method="GET",route="\#(download)",status="204"} 2"#), "\(text)")
        #expect(text.contains(#"tfreg_http_requests_total{method="other",route="unmatched",status="404"} 1"#))
        #expect(text.contains(#"tfreg_module_downloads_total{module="acme/vpc/aws"} 2"#) && !text.contains("acme/nope"))
        #expect(text.contains(#"tfreg_token_issues_total{method="POST"} 1"#) && text.contains("tfreg_audit_refusals_total 1"))
        #expect(text.contains(#"tfreg_http_request_duration_seconds_bucket{route="\#(download)",le="0.005"} 2"#))
        #expect(text.contains(#"tfreg_http_request_duration_seconds_bucket{route="\#(download)",le="0.05"} 3"#))
        #expect(text.contains(#"tfreg_http_request_duration_seconds_bucket{route="\#(download)",le="+Inf"} 3"#))
        #expect(text.contains(#"tfreg_http_request_duration_seconds_count{route="\#(download)"} 3"#))
        #expect(text.contains("# TYPE tfreg_http_request_duration_seconds histogram") && text.contains("# TYPE tfreg_http_requests_total counter"))
        #expect(!text.contains("coffee") && !text.contains("1.0.0"), "never a raw path")
        #expect(MetricsRegistry.labelText(["k", "a\"b\\c\nd"]) == #"{k="a\"b\\c\nd"}"#)
    }

    /// Names are case-insensitive, so every spelling of a module downloads it: the label is the folded
    /// address, and a client cannot grow the label set (or, on Lambda, the CloudWatch metrics) by spelling.
    @Test func aDownloadIsLabelledByTheFoldedModule() {
        for path in ["/v1/modules/acme/net/aws/1.0.0/download", "/v1/modules/aCmE/NeT/aws/1.0.0/download", "/v1/modules/ACME/NET/aws/download"] {
            let o = RequestObservation(
                route: path.hasSuffix("/1.0.0/download")
                    ? "/v1/modules/{namespace}/{name}/{system}/{version}/download" : "/v1/modules/{namespace}/{name}/{system}/download",
                method: "GET",
                path: path,
                status: 204,
                duration: .milliseconds(1),
                principal: nil,
                requestID: "r"
            )
            #expect(MetricsObserver.downloadedModule(o) == "acme/net/aws", "\(path)")
        }
    }

    @Test func theSeriesAreBounded() {
        let registry = MetricsRegistry()
        for i in 0..<(MetricsRegistry.maximumSeries + 50) { registry.increment("x_total", ["i", String(i)]) }
        #expect(registry.counter("x_total", ["overflow", "true"]) == 50)
        #expect(registry.prometheusText().split(separator: "\n").count == MetricsRegistry.maximumSeries + 1 + 2)
    }

    @Test func theEmbeddedMetricFormatLineOfAnInvocation() throws {
        let o = RequestObservation(
            route: "/v1/modules/{namespace}/{name}/{system}/{version}/download",
            method: "GET",
            path: "/v1/modules/acme/vpc/aws/1.0.0/download",
            status: 204,
            duration: .milliseconds(12),
            principal: nil,
            requestID: "req-1"
        )
        let line = EmbeddedMetricFormat.line(o, awsCalls: 2, timestampMilliseconds: 1_700_000_000_000)
        #expect(line.last == 10)
        let json = try JSONValue(parsing: Array(line.dropLast()), options: .answers)
        #expect(json["_aws"]?["Timestamp"] == .int(1_700_000_000_000))
        guard case .array(let directives)? = json["_aws"]?["CloudWatchMetrics"] else { throw AuditTestFailure("no directives") }
        #expect(directives.count == 2 && directives.allSatisfy { $0["Namespace"] == .string("tfreg") })
        #expect(directives[0]["Dimensions"] == .array([.array([.string("route"), .string("status")])]))
        #expect(directives[1]["Dimensions"] == .array([.array([.string("module")])]))
        #expect(json["route"] == .string(o.route) && json["status"] == .string("204") && json["module"] == .string("acme/vpc/aws"))
        #expect(json["requests"] == .int(1) && json["downloads"] == .int(1) && json["aws_calls"] == .int(2) && json["latency"] == .number("12.0"))
        // Every metric a directive names is a member of the line.
        for d in directives {
            guard case .array(let metrics)? = d["Metrics"] else { throw AuditTestFailure("no metrics") }
            for m in metrics { #expect(json[m["Name"]?.stringValue ?? ""] != nil, "\(m)") }
        }
    }
}

extension AuditAndMetricsAPITests {
    /// Lambda (issue 21): what the backends report during an invocation becomes one EMF line per AWS
    /// operation and outcome, per duration series and per cache whose lookups moved; a drain empties
    /// what it reported, and a cache that did not move since is not repeated.
    @Test func theInvocationsBackendMetricsAreLinesByOperation() throws {
        let sink = InvocationMetrics()
        let hits = CacheCounters(cache: "static_tokens")
        hits.report(to: sink)
        hits.hit()
        hits.hit()
        sink.increment("tfreg_aws_calls_total", ["service", "dynamodb", "operation", "GetItem", "outcome", "ok"], by: 1)
        sink.increment("tfreg_aws_calls_total", ["service", "dynamodb", "operation", "GetItem", "outcome", "ok"], by: 1)
        sink.increment("tfreg_aws_calls_total", ["service", "s3", "operation", "HeadObject", "outcome", "throttled"], by: 1)
        sink.observe("tfreg_aws_call_duration_seconds", ["service", "dynamodb", "operation", "GetItem"], seconds: 0.5)
        sink.observe("tfreg_aws_call_duration_seconds", ["service", "dynamodb", "operation", "GetItem"], seconds: 0.25)
        let text = sink.drain(timestampMilliseconds: 1_700_000_000_000)
        #expect(text.last == 10)
        let lines = try text.split(separator: 10).map { try JSONValue(parsing: Array($0), options: .answers) }
        #expect(lines.count == 4, "\(String(decoding: text, as: UTF8.self))")
        for line in lines {
            #expect(line["_aws"]?["Timestamp"] == .int(1_700_000_000_000))
            guard case .array(let directives)? = line["_aws"]?["CloudWatchMetrics"], directives.count == 1 else {
                throw AuditTestFailure("one directive per line")
            }
            #expect(directives[0]["Namespace"] == .string("tfreg"))
            // Every dimension and metric a directive names is a member of the line.
            guard case .array(let sets)? = directives[0]["Dimensions"], case .array(let names)? = sets.first,
                case .array(let metrics)? = directives[0]["Metrics"]
            else { throw AuditTestFailure("directive shape") }
            for n in names { #expect(line[n.stringValue ?? ""]?.stringValue != nil, "\(n)") }
            for m in metrics { #expect(line[m["Name"]?.stringValue ?? ""] != nil, "\(m)") }
        }
        let getItem = lines.first { $0["operation"] == .string("GetItem") && $0["aws_calls"] != nil }
        #expect(getItem?["service"] == .string("dynamodb") && getItem?["outcome"] == .string("ok") && getItem?["aws_calls"] == .int(2))
        let throttled = lines.first { $0["operation"] == .string("HeadObject") }
        #expect(throttled?["outcome"] == .string("throttled") && throttled?["aws_calls"] == .int(1))
        let durations = lines.first { $0["aws_call_duration"] != nil }
        #expect(durations?["aws_call_duration"] == .array([.int(500), .int(250)]) && durations?["outcome"] == nil)
        let cache = lines.first { $0["cache"] != nil }
        #expect(cache?["cache"] == .string("static_tokens") && cache?["result"] == .string("hit") && cache?["cache_lookups"] == .int(2))
        // Drained: nothing is reported twice; only what moves afterwards.
        #expect(sink.drain(timestampMilliseconds: 1).isEmpty)
        hits.miss()
        let next = String(decoding: sink.drain(timestampMilliseconds: 2), as: UTF8.self)
        #expect(next.split(separator: "\n").count == 1 && next.contains(#""result":"miss""#) && next.contains(#""cache_lookups":1"#), "\(next)")
    }
}

struct AuditTestFailure: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
