import TFRegJSON

/// The Lambda transport's metrics: one CloudWatch Embedded Metric Format line per invocation
/// (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
/// which CloudWatch Logs turns into metrics with no AWS call from the function: the counters
/// `MetricsObserver` keeps for `serve` (requests by route and status, latency, downloads by module,
/// token issues, refused writes), plus the invocation's AWS calls.
public enum EmbeddedMetricFormat {
    public static let namespace = "tfreg"

    /// The line (with its newline) for one request. `timestampMilliseconds` is the invocation's end.
    public static func line(_ o: RequestObservation, awsCalls: Int, timestampMilliseconds: Int64) -> [UInt8] {
        let method = MetricsObserver.method(o.method)
        let module = MetricsObserver.downloadedModule(o)
        let tokenIssue = o.route == "/token" && o.status == 200
        let refused = (o.status == 401 || o.status == 403) && method != "GET" && method != "HEAD"
        func metric(_ name: String, _ unit: String) -> JSONValue { .object([("Name", .string(name)), ("Unit", .string(unit))]) }
        var directives: [JSONValue] = [
            .object([
                ("Namespace", .string(namespace)), ("Dimensions", .array([.array([.string("route"), .string("status")])])),
                (
                    "Metrics",
                    .array([
                        metric("requests", "Count"), metric("latency", "Milliseconds"), metric("aws_calls", "Count"),
                        metric("token_issues", "Count"), metric("refused_writes", "Count"),
                    ])
                ),
            ])
        ]
        if module != nil {
            directives.append(
                .object([
                    ("Namespace", .string(namespace)), ("Dimensions", .array([.array([.string("module")])])),
                    ("Metrics", .array([metric("downloads", "Count")])),
                ])
            )
        }
        var fields: [(String, JSONValue)] = [
            ("_aws", .object([("Timestamp", .int(timestampMilliseconds)), ("CloudWatchMetrics", .array(directives))])),
            ("route", .string(o.route)), ("status", .string(String(o.status))), ("method", .string(method)),
            ("requests", .int(1)), ("latency", .number(String(o.milliseconds))), ("aws_calls", .int(Int64(awsCalls))),
            ("token_issues", .int(tokenIssue ? 1 : 0)), ("refused_writes", .int(refused ? 1 : 0)),
        ]
        if let module { fields += [("module", .string(module)), ("downloads", .int(1))] }
        if !o.requestID.isEmpty { fields.append(("request_id", .string(o.requestID))) }
        var bytes = JSONValue.object(fields).serialized()
        bytes.append(10)
        return bytes
    }
}
