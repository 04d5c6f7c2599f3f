import Synchronization
import TFRegCore
import TFRegSystem

/// `ReplayGuard` in this process's memory (`tfreg serve`): key → expiry, bounded. Expired entries are
/// swept when the guard is full and at most once a minute otherwise; when it is full of live entries
/// a new request is refused (503), never admitted by forgetting an older one, which would reopen the
/// replay for that one.
public final class MemoryReplayGuard: ReplayGuard {
    public static let defaultCapacity = 100_000
    let capacity: Int
    let clock: any WallClock
    private let state = Mutex<(entries: [String: Int64], lastSweep: Int64)>(([:], 0))

    public init(capacity: Int = MemoryReplayGuard.defaultCapacity, clock: any WallClock = SystemClock()) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.clock = clock
    }

    public var count: Int { state.withLock { $0.entries.count } }

    public func claim(_ key: String, until expiresAt: Int64) async throws(RegistryError) -> Bool {
        let now = clock.now()
        let outcome: Bool? = state.withLock { s in
            if let expiry = s.entries[key], expiry > now { return false }
            if s.entries.count >= capacity || now - s.lastSweep >= 60 {
                if now != s.lastSweep { s.entries = s.entries.filter { $0.value > now } }
                s.lastSweep = now
            }
            guard s.entries.count < capacity || s.entries[key] != nil else { return nil }
            s.entries[key] = expiresAt
            return true
        }
        guard let outcome else {
            throw .unavailable("token exchange", detail: "replay guard full: \(capacity) signed requests in the last 15 minutes")
        }
        return outcome
    }
}
