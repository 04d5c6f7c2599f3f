import Logging
import Synchronization

/// Real downloads, counted when a download URL is issued (`RegistryService.download`), kept in memory
/// per module and added to the store's module summaries by `flush`: one atomic add per module
/// (`ModuleStore.addDownloads`: SQLite `UPDATE … + n`, DynamoDB `UpdateItem ADD`). The download path
/// only takes a lock and bumps a number: it never waits on the store, so its call budget on Lambda
/// is unchanged. `serve` flushes every `interval` seconds and at shutdown; `lambda` after an
/// invocation (its answer already sent) once `interval` seconds have passed. Lost on a crash, or when
/// Lambda retires an instance (tfreg registers no extension, so it gets no SIGTERM): what it counted since its
/// last flush (at most `interval` seconds' worth, per process). A failed add is kept for the next flush.
public final class DownloadCounter: Sendable {
    public static let defaultInterval: Int64 = 30
    /// Seconds between flushes.
    public let interval: Int64
    private struct State {
        var counts: [ModuleAddress: Int64] = [:]
        var lastFlush: Int64
    }
    private let state: Mutex<State>

    public init(interval: Int64 = defaultInterval, now: Int64) {
        self.interval = interval
        state = Mutex(State(lastFlush: now))
    }

    /// One download URL issued for `module` (its stored spelling).
    public func record(_ module: ModuleAddress) {
        state.withLock { $0.counts[module, default: 0] += 1 }
    }

    /// What is counted and not yet flushed.
    public var pending: [ModuleAddress: Int64] { state.withLock { $0.counts } }

    /// Whether `interval` seconds have passed since the last flush and something is counted.
    public func isDue(now: Int64) -> Bool {
        state.withLock { !$0.counts.isEmpty && now - $0.lastFlush >= interval }
    }

    /// Adds what was counted to the store, one atomic add per module; a module whose add fails is
    /// kept for the next flush (logged, never thrown: counting never fails a request or a shutdown).
    public func flush(to store: any ModuleStore, now: Int64, logger: Logger) async {
        let taken = state.withLock { s in
            let counts = s.counts
            s.counts = [:]
            s.lastFlush = now
            return counts
        }
        var failed = 0
        for (module, count) in taken.sorted(by: { $0.key < $1.key }) {
            do {
                try await store.addDownloads(count, to: module)
            } catch {
                failed += 1
                state.withLock { $0.counts[module, default: 0] += count }
                if failed == 1 { logger.warning("download counts not written; kept for the next flush", metadata: ["error": "\(error.message)"]) }
            }
        }
    }

    /// `flush` when `isDue`.
    public func flushIfDue(to store: any ModuleStore, now: Int64, logger: Logger) async {
        guard isDue(now: now) else { return }
        await flush(to: store, now: now, logger: logger)
    }
}
