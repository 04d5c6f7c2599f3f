import CSQLite
import Glibc
import Synchronization
import TFRegCore
import TFRegSystem

/// A read-through cache for the hot lookups (token digest → identity, grant, a module's versions)
/// that follows the database file, including writes by other processes (`tfreg grant` while
/// `tfreg serve` runs).
///
/// Validity comes from SQLite's `PRAGMA data_version`, read on a dedicated connection: it changes
/// whenever any other connection commits. The probe reads only the shared-memory WAL index and runs
/// with `busy_timeout = 0` (it never waits for a lock; a busy answer counts as "changed"). One probe
/// result serves every lookup for `probeInterval` (1 ms), so under load the three lookups of a request
/// share one probe. Writes through this store invalidate at once; a commit by another process is seen
/// by every request that starts more than 1 ms after it.
final class ReadCache: Sendable {
    private struct State {
        var version: Int64 = -1
        var tokens: [String: Identity] = [:]
        var grants: [GrantKey: Grant?] = [:]
        var versions: [ModuleAddress: [ModuleVersionRecord]] = [:]
        var count: Int { tokens.count + grants.count + versions.count }
        mutating func clear() {
            tokens.removeAll(keepingCapacity: true)
            grants.removeAll(keepingCapacity: true)
            versions.removeAll(keepingCapacity: true)
        }
    }

    private struct ProbeState {
        let probe: Probe
        var last: Int64?
        var checkedAt: UInt64 = 0
    }

    private let probe: Mutex<ProbeState>
    private let state = Mutex(State())
    /// Entries held before the cache starts over (bounds memory whatever the traffic).
    let capacity: Int
    /// How long one probe result is trusted, nanoseconds.
    let probeInterval: UInt64
    /// Hits and misses per part (`tfreg_cache_lookups_total{cache="sqlite_tokens|sqlite_grants|sqlite_versions"}`).
    let tokenCounters = CacheCounters(cache: "sqlite_tokens")
    let grantCounters = CacheCounters(cache: "sqlite_grants")
    let versionCounters = CacheCounters(cache: "sqlite_versions")

    init(path: String, capacity: Int = 20_000, probeInterval: UInt64 = 1_000_000) throws(SQLiteError) {
        probe = Mutex(ProbeState(probe: try Probe(path: path)))
        self.capacity = capacity
        self.probeInterval = probeInterval
    }

    /// The current data version, or nil when it cannot be read without waiting.
    private func currentVersion() -> Int64? {
        let now = monotonicNanoseconds()
        return probe.withLock { p in
            if let last = p.last, now &- p.checkedAt < probeInterval { return last }
            p.last = p.probe.dataVersion()
            p.checkedAt = now
            return p.last
        }
    }

    /// Called after every write through this store: forget everything and probe on the next lookup.
    func invalidate() {
        probe.withLock { $0.last = nil }
        state.withLock { $0.clear() }
    }

    /// Looks up `key` in the part of the cache `part` selects; on a miss returns nil together with
    /// the version the caller must pass to `store` (so data read before a change is never kept).
    private func lookup<T>(_ part: (State) -> T?) -> (T?, Int64?) {
        guard let v = currentVersion() else { return (nil, nil) }
        return state.withLock { s in
            if s.version != v {
                s.clear()
                s.version = v
                return (nil, v)
            }
            return (part(s), v)
        }
    }

    private func store(version: Int64?, _ update: (inout State) -> Void) {
        guard let version else { return }
        state.withLock { s in
            guard s.version == version else { return }
            if s.count >= capacity { s.clear() }
            update(&s)
        }
    }

    func token(_ digest: String, load: () async throws(RegistryError) -> Identity?) async throws(RegistryError) -> Identity? {
        let (hit, v) = lookup { $0.tokens[digest] }
        if let hit {
            tokenCounters.hit()
            return hit
        }
        tokenCounters.miss()
        let loaded = try await load()
        // Only found tokens are kept: unknown digests (guessing attacks) must not fill the cache.
        if let loaded { store(version: v) { $0.tokens[digest] = loaded } }
        return loaded
    }

    /// A grant's key: the pair itself (hashing it costs less than building a joined string per lookup).
    struct GrantKey: Hashable {
        let namespace: Namespace
        let identity: Identity
    }

    func grant(_ key: GrantKey, load: () async throws(RegistryError) -> Grant?) async throws(RegistryError) -> Grant? {
        let (hit, v) = lookup { $0.grants[key] }
        if let hit {
            grantCounters.hit()
            return hit
        }
        grantCounters.miss()
        let loaded = try await load()
        store(version: v) { $0.grants[key] = .some(loaded) }
        return loaded
    }

    func versions(
        _ key: ModuleAddress,
        load: () async throws(RegistryError) -> [ModuleVersionRecord]
    ) async throws(RegistryError) -> [ModuleVersionRecord] {
        let (hit, v) = lookup { $0.versions[key] }
        if let hit {
            versionCounters.hit()
            return hit
        }
        versionCounters.miss()
        let loaded = try await load()
        store(version: v) { $0.versions[key] = loaded }
        return loaded
    }
}

private func monotonicNanoseconds() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}

/// The connection that answers `PRAGMA data_version`; used under a mutex, never waits for locks.
private final class Probe: @unchecked Sendable {
    private var db: OpaquePointer?
    private var stmt: OpaquePointer?

    init(path: String) throws(SQLiteError) {
        var handle: OpaquePointer?
        let rc = sqlite3_open_v2(path, &handle, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        guard rc == SQLITE_OK, let handle else {
            sqlite3_close_v2(handle)
            throw SQLiteError(code: rc, message: "cannot open the database for the read cache")
        }
        db = handle
        let timeout = sqlite3_busy_timeout(handle, 0)
        guard timeout == SQLITE_OK else {
            throw SQLiteError(code: timeout, message: "cannot set the busy timeout: \(String(cString: sqlite3_errmsg(handle)))")
        }
        guard sqlite3_prepare_v3(handle, "PRAGMA data_version", -1, UInt32(SQLITE_PREPARE_PERSISTENT), &stmt, nil) == SQLITE_OK else {
            throw SQLiteError(code: sqlite3_errcode(handle), message: String(cString: sqlite3_errmsg(handle)))
        }
    }

    deinit {
        sqlite3_finalize(stmt)
        sqlite3_close_v2(db)
    }

    func dataVersion() -> Int64? {
        defer { sqlite3_reset(stmt) }
        guard sqlite3_step(stmt) == SQLITE_ROW else { return nil }
        return sqlite3_column_int64(stmt, 0)
    }
}
