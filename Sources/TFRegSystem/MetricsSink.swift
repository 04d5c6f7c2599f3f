import Synchronization

/// Where the libraries below the API report what they measure — AWS calls, cache lookups,
/// canonicalization time — when the process exports metrics (`serve --metrics-listen`); nil
/// otherwise, and then nothing is measured. `MetricsRegistry` (TFRegAPI) is the implementation; this
/// protocol lets TFRegAWS, TFRegCore and the stores report without depending on it. Names and label
/// values come from tfreg's code (service, operation, cache names), never from a client.
public protocol MetricsSink: Sendable {
    func increment(_ name: String, _ labels: [String], by amount: Double)
    func observe(_ name: String, _ labels: [String], seconds: Double)
    /// A counter whose owner keeps the value (`CacheCounters`: atomics on a hot path, no lock or
    /// allocation per lookup) and the exposition reads when it renders.
    func addCounter(_ name: String, _ labels: [String], read: @escaping @Sendable () -> Double)
}

/// Hits and misses of one in-process cache, counted with relaxed atomics (a lookup on the request
/// path pays one atomic add, whether or not metrics are exported); `report(to:)` exposes them as
/// `tfreg_cache_lookups_total{cache, result}`, so the hit ratio is hit / (hit + miss).
public final class CacheCounters: Sendable {
    public let cache: String
    private let hitCount = Atomic<UInt64>(0)
    private let missCount = Atomic<UInt64>(0)

    public init(cache: String) { self.cache = cache }

    public func hit() { hitCount.wrappingAdd(1, ordering: .relaxed) }
    public func miss() { missCount.wrappingAdd(1, ordering: .relaxed) }
    public var hits: UInt64 { hitCount.load(ordering: .relaxed) }
    public var misses: UInt64 { missCount.load(ordering: .relaxed) }

    public static let metricName = "tfreg_cache_lookups_total"

    public func report(to sink: any MetricsSink) {
        sink.addCounter(Self.metricName, ["cache", cache, "result", "hit"]) { [self] in Double(hits) }
        sink.addCounter(Self.metricName, ["cache", cache, "result", "miss"]) { [self] in Double(misses) }
    }
}

/// A component that keeps in-process caches (the SQLite store's read cache, the static-token lookup
/// cache): the composition root reports their counters when metrics are exported.
public protocol CacheReporting {
    var cacheCounters: [CacheCounters] { get }
}
