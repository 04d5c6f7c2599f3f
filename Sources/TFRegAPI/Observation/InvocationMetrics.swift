import Synchronization
import TFRegJSON
import TFRegSystem

/// What the backends measure during one Lambda invocation — AWS calls by service, operation and
/// outcome with their durations, canonicalization time, cache lookups — as Embedded Metric Format
/// lines after the invocation's own (`EmbeddedMetricFormat.line`): the `MetricsSink` the Lambda
/// assembly gives its `AWSClient` and `RegistryAssembly`, where `serve` gives its `MetricsRegistry`.
/// A function instance runs one invocation at a time, so what accumulated since the last drain is the
/// invocation's (calls made after its answer, such as a due download-count flush, included).
/// Names and labels come from tfreg's code, never from a client; the keys are bounded by the
/// services, operations and caches tfreg has.
public final class InvocationMetrics: MetricsSink {
    struct Key: Hashable {
        var name: String
        var labels: [String]
    }

    struct State {
        var counts: [Key: Double] = [:]
        var seconds: [Key: [Double]] = [:]
        var readers: [(key: Key, read: @Sendable () -> Double, last: Double)] = []
    }

    /// EMF takes at most 100 values per metric in one line; more observations of one key in one
    /// invocation are summed into the last value.
    public static let maximumValues = 100
    private let state = Mutex(State())

    public init() {}

    public func increment(_ name: String, _ labels: [String], by amount: Double) {
        state.withLock { $0.counts[Key(name: name, labels: labels), default: 0] += amount }
    }

    public func observe(_ name: String, _ labels: [String], seconds: Double) {
        state.withLock {
            let key = Key(name: name, labels: labels)
            var values = $0.seconds[key] ?? []
            if values.count < Self.maximumValues { values.append(seconds) } else { values[values.count - 1] += seconds }
            $0.seconds[key] = values
        }
    }

    public func addCounter(_ name: String, _ labels: [String], read: @escaping @Sendable () -> Double) {
        state.withLock { $0.readers.append((Key(name: name, labels: labels), read, read())) }
    }

    /// The lines for what happened since the last call (each with its newline), in a stable order:
    /// counters (`tfreg_aws_calls_total` → `aws_calls`, Count), then durations
    /// (`tfreg_aws_call_duration_seconds` → `aws_call_duration`, Milliseconds, one value per call),
    /// then counters read from their owners (cache lookups) that moved. Dimensions are the labels.
    public func drain(timestampMilliseconds: Int64) -> [UInt8] {
        let (counts, seconds, moved) = state.withLock { s -> ([Key: Double], [Key: [Double]], [Key: Double]) in
            var moved: [Key: Double] = [:]
            for i in s.readers.indices {
                let now = s.readers[i].read()
                if now != s.readers[i].last { moved[s.readers[i].key, default: 0] += now - s.readers[i].last }
                s.readers[i].last = now
            }
            defer { (s.counts, s.seconds) = ([:], [:]) }
            return (s.counts, s.seconds, moved)
        }
        var out: [UInt8] = []
        let order: (Key, Key) -> Bool = { ($0.name, $0.labels.joined(separator: "\u{0}")) < ($1.name, $1.labels.joined(separator: "\u{0}")) }
        for key in counts.keys.sorted(by: order) {
            out += Self.line(key, metric: Self.metricName(key.name), unit: "Count", value: .number(Self.number(counts[key]!)), timestampMilliseconds)
        }
        for key in seconds.keys.sorted(by: order) {
            let milliseconds = seconds[key]!.map { JSONValue.number(Self.number($0 * 1000)) }
            out += Self.line(key, metric: Self.metricName(key.name), unit: "Milliseconds", value: .array(milliseconds), timestampMilliseconds)
        }
        for key in moved.keys.sorted(by: order) {
            out += Self.line(key, metric: Self.metricName(key.name), unit: "Count", value: .number(Self.number(moved[key]!)), timestampMilliseconds)
        }
        return out
    }

    /// `tfreg_aws_calls_total` → `aws_calls`; `tfreg_aws_call_duration_seconds` → `aws_call_duration`.
    static func metricName(_ name: String) -> String {
        var n = Substring(name)
        if n.hasPrefix("tfreg_") { n = n.dropFirst(6) }
        for suffix in ["_total", "_seconds"] where n.hasSuffix(suffix) { n = n.dropLast(suffix.utf8.count) }
        return String(n)
    }

    static func number(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int64(v)) : String(v)
    }

    static func line(_ key: Key, metric: String, unit: String, value: JSONValue, _ timestamp: Int64) -> [UInt8] {
        var dimensions: [JSONValue] = []
        var fields: [(String, JSONValue)] = []
        var i = key.labels.startIndex
        while i + 1 < key.labels.endIndex {
            dimensions.append(.string(key.labels[i]))
            fields.append((key.labels[i], .string(key.labels[i + 1])))
            i += 2
        }
        let directive = JSONValue.object([
            ("Namespace", .string(EmbeddedMetricFormat.namespace)), ("Dimensions", .array([.array(dimensions)])),
            ("Metrics", .array([.object([("Name", .string(metric)), ("Unit", .string(unit))])])),
        ])
        var bytes = JSONValue.object(
            [("_aws", .object([("Timestamp", .int(timestamp)), ("CloudWatchMetrics", .array([directive]))]))] + fields + [(metric, value)]
        ).serialized()
        bytes.append(10)
        return bytes
    }
}
