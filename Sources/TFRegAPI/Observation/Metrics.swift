import Logging
import Synchronization
import TFRegCore
import TFRegSystem

/// The registry's metrics in memory: counters and latency histograms keyed by name and labels,
/// written by `MetricsObserver` (one per request) and read as Prometheus text (`serve
/// --metrics-listen`, `GET /metrics`) or as a CloudWatch Embedded Metric Format line (Lambda).
///
/// Written here rather than with swift-metrics + swift-prometheus (which pull in no Foundation):
/// one small registry feeds both outputs, Lambda's EMF line needs the values of one invocation (a
/// swift-metrics backend would be a second registry), and nothing is bootstrapped process-wide, so
/// tests run several registries in one process. Labels are route templates, methods, statuses and
/// module addresses that passed their grammar and answered 2xx: never a raw path, so a client
/// cannot grow the label set.
public final class MetricsRegistry: MetricsSink {
    /// Latency buckets in seconds (Prometheus' default set, which covers 5 ms to 10 s).
    public static let latencyBuckets: [Double] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10]
    /// Distinct label sets per metric: past it, new ones are counted under `overflow="true"`.
    public static let maximumSeries = 10_000

    struct Key: Hashable {
        let name: String
        let labels: [String]  // name, value, name, value…
    }

    struct Histogram {
        var buckets: [UInt64]
        var count: UInt64 = 0
        var sum: Double = 0
    }

    struct State {
        var counters: [Key: Double] = [:]
        var histograms: [Key: Histogram] = [:]
    }

    private let state = Mutex(State())
    private let help: [String: (type: String, text: String)]
    /// Values read when the metrics are rendered (open connections).
    private let gauges: Mutex<[(name: String, help: String, read: @Sendable () -> Double)]> = Mutex([])
    /// Counters whose owners keep the value (`CacheCounters`), read at each render.
    private let readCounters: Mutex<[(key: Key, read: @Sendable () -> Double)]> = Mutex([])

    public init() {
        help = [
            "tfreg_http_requests_total": ("counter", "Requests answered, by route template, method and status."),
            "tfreg_http_request_duration_seconds": ("histogram", "Time to answer a request (a streamed file is sent after), by route template."),
            "tfreg_module_downloads_total": ("counter", "Download requests answered with a link, by module."),
            "tfreg_token_issues_total": ("counter", "Tokens issued at /token, by method (POST: IAM exchange, GET: front end)."),
            "tfreg_audit_refusals_total": ("counter", "Writes refused with 401 or 403."),
            "tfreg_aws_calls_total": (
                "counter", "AWS calls (retries included in one call), by service, operation and outcome (ok or the error kind)."
            ),
            "tfreg_aws_call_duration_seconds": ("histogram", "Time of an AWS call including its retries, by service and operation."),
            CacheCounters.metricName: ("counter", "Lookups in an in-process cache, by cache and result (hit or miss)."),
            "tfreg_canonicalization_duration_seconds": (
                "histogram", "Time to read an uploaded module archive strictly and write its canonical archive, by result (ok or refused)."
            ),
        ]
    }

    /// A gauge read at each render (`serve`: open connections).
    public func addGauge(_ name: String, help: String, read: @escaping @Sendable () -> Double) {
        gauges.withLock { $0.append((name, help, read)) }
    }

    public func addCounter(_ name: String, _ labels: [String], read: @escaping @Sendable () -> Double) {
        readCounters.withLock { $0.append((Key(name: name, labels: labels), read)) }
    }

    public func increment(_ name: String, _ labels: [String] = [], by amount: Double = 1) {
        state.withLock { s in
            let key = Self.bounded(Key(name: name, labels: labels), existing: s.counters.count)
            s.counters[key, default: 0] += amount
        }
    }

    public func observe(_ name: String, _ labels: [String] = [], seconds value: Double) {
        state.withLock { s in
            let key = Self.bounded(Key(name: name, labels: labels), existing: s.histograms.count)
            var h = s.histograms[key] ?? Histogram(buckets: Array(repeating: 0, count: Self.latencyBuckets.count))
            for (i, bound) in Self.latencyBuckets.enumerated() where value <= bound { h.buckets[i] += 1 }
            h.count += 1
            h.sum += value
            s.histograms[key] = h
        }
    }

    private static func bounded(_ key: Key, existing: Int) -> Key {
        existing < maximumSeries ? key : Key(name: key.name, labels: ["overflow", "true"])
    }

    /// The value of one counter (tests, the EMF line), kept here or read from its owner.
    public func counter(_ name: String, _ labels: [String] = []) -> Double {
        let key = Key(name: name, labels: labels)
        if let read = readCounters.withLock({ $0.first { $0.key == key }?.read }) { return read() }
        return state.withLock { $0.counters[key] ?? 0 }
    }

    // MARK: Prometheus text format 0.0.4

    /// Every metric in the Prometheus text exposition format
    /// (https://prometheus.io/docs/instrumenting/exposition_formats/), names and label sets sorted.
    public func prometheusText() -> String {
        let snapshot = state.withLock { $0 }
        var out = ""
        var byName: [String: [(Key, Double)]] = [:]
        for (k, v) in snapshot.counters { byName[k.name, default: []].append((k, v)) }
        for (k, read) in readCounters.withLock({ $0 }) { byName[k.name, default: []].append((k, read())) }
        for name in byName.keys.sorted() {
            header(&out, name, type: "counter")
            for (k, v) in byName[name]!.sorted(by: { $0.0.labels.lexicographicallyPrecedes($1.0.labels) }) {
                out += "\(name)\(Self.labelText(k.labels)) \(Self.number(v))\n"
            }
        }
        var histograms: [String: [(Key, Histogram)]] = [:]
        for (k, h) in snapshot.histograms { histograms[k.name, default: []].append((k, h)) }
        for name in histograms.keys.sorted() {
            header(&out, name, type: "histogram")
            for (k, h) in histograms[name]!.sorted(by: { $0.0.labels.lexicographicallyPrecedes($1.0.labels) }) {
                for (i, bound) in Self.latencyBuckets.enumerated() {
                    out += "\(name)_bucket\(Self.labelText(k.labels + ["le", Self.number(bound)])) \(h.buckets[i])\n"
                }
                out += "\(name)_bucket\(Self.labelText(k.labels + ["le", "+Inf"])) \(h.count)\n"
                out += "\(name)_sum\(Self.labelText(k.labels)) \(Self.number(h.sum))\n"
                out += "\(name)_count\(Self.labelText(k.labels)) \(h.count)\n"
            }
        }
        for g in gauges.withLock({ $0 }) {
            out += "# HELP \(g.name) \(g.help)\n# TYPE \(g.name) gauge\n\(g.name) \(Self.number(g.read()))\n"
        }
        return out
    }

    private func header(_ out: inout String, _ name: String, type: String) {
        let h = help[name]
        out += "# HELP \(name) \(h?.text ?? name)\n# TYPE \(name) \(h?.type ?? type)\n"
    }

    static func labelText(_ labels: [String]) -> String {
        guard !labels.isEmpty else { return "" }
        var parts: [String] = []
        var i = 0
        while i + 1 < labels.count {
            parts.append("\(labels[i])=\"\(escape(labels[i + 1]))\"")
            i += 2
        }
        return "{" + parts.joined(separator: ",") + "}"
    }

    /// Label values escape `\`, `"` and newline (the format's only escapes).
    static func escape(_ s: String) -> String {
        var out = ""
        for c in s.unicodeScalars {
            switch c {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(c)
            }
        }
        return out
    }

    static func number(_ v: Double) -> String {
        if v == v.rounded(), abs(v) < 1e15 { return String(Int64(v)) }
        return "\(v)"
    }
}

/// Counts every request into a `MetricsRegistry`: requests by route template, method and status;
/// latency by route template; downloads by module (the download routes answered 2xx, so only
/// modules that exist are labels); token issues; refused writes.
public struct MetricsObserver: RequestObserver {
    public let registry: MetricsRegistry

    public init(registry: MetricsRegistry) { self.registry = registry }

    public func requestFinished(_ o: RequestObservation, logger: Logger) {
        let method = Self.method(o.method)
        registry.increment("tfreg_http_requests_total", ["method", method, "route", o.route, "status", String(o.status)])
        registry.observe("tfreg_http_request_duration_seconds", ["route", o.route], seconds: Double(o.milliseconds) / 1000)
        if let module = Self.downloadedModule(o) { registry.increment("tfreg_module_downloads_total", ["module", module]) }
        if o.route == "/token", o.status == 200 { registry.increment("tfreg_token_issues_total", ["method", method]) }
        if o.status == 401 || o.status == 403, method != "GET", method != "HEAD" { registry.increment("tfreg_audit_refusals_total") }
    }

    /// A known method, else `other` (the method is the client's text).
    static func method(_ m: String) -> String {
        let upper = m.uppercased()
        return ["GET", "HEAD", "POST", "PUT", "DELETE"].contains(upper) ? upper : "other"
    }

    static let downloadRoutes: Set<String> = [
        "/v1/modules/{namespace}/{name}/{system}/{version}/download", "/v1/modules/{namespace}/{name}/{system}/download",
    ]

    /// `NS/NAME/SYSTEM` of a download answered 2xx or 3xx, its parts checked against their grammar.
    static func downloadedModule(_ o: RequestObservation) -> String? {
        guard (200..<400).contains(o.status), downloadRoutes.contains(o.route), let seg = URLParsing.segments(of: o.path), seg.count >= 5,
            let m = try? ModuleAddress(namespace: seg[2], name: seg[3], system: seg[4])
        else { return nil }
        // Folded: every spelling of a module reads it (names are case-insensitive), and a client must
        // not grow the label set by spelling one module many ways.
        return m.folded
    }
}
