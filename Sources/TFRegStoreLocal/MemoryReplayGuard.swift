import Synchronization
import TFRegCore
import TFRegSystem

/// `ReplayGuard` in this process's memory (`tfreg serve`): key → (expiry, owner), bounded twice. Each
/// owner (the AWS account STS verified) holds at most `perOwnerCapacity` live entries: beyond that its
/// exchanges are refused (429) and nobody else's. The whole guard holds at most `capacity`, so that
/// many accounts (`capacity / perOwnerCapacity` of them, 20 by default (5 000 entries each), each verified by STS) are
/// needed to fill it. When either bound is reached, a request is refused, never admitted by
/// forgetting an older entry, which would reopen the replay for that one. Expired entries are swept
/// when a bound is reached (at most once a second) and at most once a minute otherwise.
public final class MemoryReplayGuard: ReplayGuard {
    public static let defaultCapacity = 100_000
    /// The share of the capacity one owner may hold by default: a twentieth.
    public static let defaultOwnerShare = 20
    let capacity: Int
    let perOwnerCapacity: Int
    let clock: any WallClock

    struct State {
        var entries: [String: (expiresAt: Int64, owner: String)] = [:]
        var perOwner: [String: Int] = [:]
        var lastSweep: Int64 = 0

        mutating func sweep(now: Int64) {
            entries = entries.filter { $0.value.expiresAt > now }
            perOwner = [:]
            for (_, e) in entries { perOwner[e.owner, default: 0] += 1 }
            lastSweep = now
        }

        mutating func remove(_ key: String) {
            guard let old = entries.removeValue(forKey: key) else { return }
            let left = (perOwner[old.owner] ?? 1) - 1
            perOwner[old.owner] = left > 0 ? left : nil
        }
    }

    enum Outcome { case claimed, replay, ownerFull, full }

    private let state = Mutex(State())

    public init(
        capacity: Int = MemoryReplayGuard.defaultCapacity,
        perOwnerCapacity: Int? = nil,
        clock: any WallClock = SystemClock()
    ) {
        precondition(capacity > 0 && (perOwnerCapacity ?? 1) > 0)
        self.capacity = capacity
        self.perOwnerCapacity = perOwnerCapacity ?? max(1, capacity / Self.defaultOwnerShare)
        self.clock = clock
    }

    public var count: Int { state.withLock { $0.entries.count } }

    /// Live entries held for `owner` (as of the last sweep).
    public func count(of owner: String) -> Int { state.withLock { $0.perOwner[owner] ?? 0 } }

    public func claim(_ key: String, owner: String, until expiresAt: Int64) async throws(RegistryError) -> Bool {
        let now = clock.now()
        let outcome: Outcome = state.withLock { s in
            if let e = s.entries[key] {
                if e.expiresAt > now { return .replay }
                s.remove(key)
            }
            let atBound = s.entries.count >= capacity || s.perOwner[owner, default: 0] >= perOwnerCapacity
            if (atBound && now != s.lastSweep) || now - s.lastSweep >= 60 { s.sweep(now: now) }
            guard s.perOwner[owner, default: 0] < perOwnerCapacity else { return .ownerFull }
            guard s.entries.count < capacity else { return .full }
            s.entries[key] = (expiresAt, owner)
            s.perOwner[owner, default: 0] += 1
            return .claimed
        }
        switch outcome {
        case .claimed: return true
        case .replay: return false
        case .ownerFull: throw .tooManyExchanges
        case .full: throw .unavailable("token exchange", detail: "replay guard full: \(capacity) signed requests in the last 15 minutes")
        }
    }
}
