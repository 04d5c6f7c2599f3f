import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Where a connection is, as far as eviction at the connection cap cares.
enum ConnectionState: UInt64, Sendable {
    /// In the TLS handshake: a client that has just arrived. Evicted only as a last resort, once it has
    /// taken half the handshake timeout (a live client's handshake takes a few round trips).
    case handshake = 0
    /// Waiting for its first request head (no complete request yet): evictable.
    case awaitingFirstRequest = 1
    /// Reading or answering a request, and the client takes its answer: never evicted.
    case busy = 2
    /// Every request answered, waiting for the next one (keep-alive): evicted first.
    case idle = 3
    /// Answering, but the client does not read (the channel has not been writable since `since`):
    /// evicted after the idle ones.
    case slowReader = 4
    /// Chosen for eviction and closing.
    case closing = 5
}

/// One connection's entry: the channel and its state, kept in an atomic word that only its own event
/// loop writes (per request, without a lock) and the accepting loop reads at the cap.
final class ConnectionSlot: Sendable {
    let channel: any Channel
    private let word: Atomic<UInt64>

    init(channel: any Channel, state: ConnectionState, since: NIODeadline) {
        self.channel = channel
        self.word = Atomic(Self.pack(state, since))
    }

    private static let stateShift: UInt64 = 60
    private static let timeMask: UInt64 = (1 << 60) - 1

    private static func pack(_ state: ConnectionState, _ since: NIODeadline) -> UInt64 {
        (state.rawValue << stateShift) | (since.uptimeNanoseconds & timeMask)
    }

    func set(_ state: ConnectionState, since: NIODeadline) {
        word.store(Self.pack(state, since), ordering: .relaxed)
    }

    /// The state and since when (uptime nanoseconds).
    var value: (state: ConnectionState, since: UInt64) {
        let w = word.load(ordering: .relaxed)
        return (ConnectionState(rawValue: w >> Self.stateShift) ?? .busy, w & Self.timeMask)
    }

    /// Marks the slot closing if it still holds `expected` (the connection may have moved on).
    func claim(_ expected: (state: ConnectionState, since: UInt64)) -> Bool {
        let old = (expected.state.rawValue << Self.stateShift) | expected.since
        let new = ConnectionState.closing.rawValue << Self.stateShift
        return word.compareExchange(expected: old, desired: new, ordering: .relaxed).exchanged
    }
}

/// The open connections, so that at the connection cap one can make room. Without this, 1024
/// clients that connect and send nothing (or pipeline requests and never read the answers) hold
/// every slot and everyone else waits in the backlog.
///
/// Eviction order (the first class with a member loses its oldest):
/// 1. idle keep-alive connections (every request answered), idle for longest;
/// 2. slow readers (an answer waiting for the client to read it), stalled for longest;
/// 3. connections without a complete first request head after `firstRequestGrace`, oldest first;
/// 4. TLS handshakes older than `handshakeGrace` (half the handshake timeout), oldest first.
/// A connection reading or answering a request for a client that reads is never evicted, nor is one
/// that has just arrived: a legitimate client waits for a slot (or is served) rather than being reset
/// while older, idler connections exist. When only arrivals within their grace could make room, one
/// is evicted when its grace ends (Hummingbird asks again only when a connection closes).
final class ConnectionTable: Sendable {
    private let slots = Mutex<(next: Int, byID: [Int: ConnectionSlot])>((0, [:]))
    private let retryScheduled = Atomic<Bool>(false)
    /// At the cap with no connection to evict: Hummingbird waits for a close before it accepts.
    private let waiting = Atomic<Bool>(false)
    let handshakeGrace: TimeAmount
    let firstRequestGrace: TimeAmount

    init(handshakeGrace: TimeAmount = .seconds(5), firstRequestGrace: TimeAmount = .seconds(1)) {
        self.handshakeGrace = handshakeGrace
        self.firstRequestGrace = firstRequestGrace
    }

    func register(_ slot: ConnectionSlot) -> Int {
        slots.withLock { state in
            state.next += 1
            state.byID[state.next] = slot
            return state.next
        }
    }

    func unregister(_ id: Int) { _ = slots.withLock { $0.byID.removeValue(forKey: id) } }

    /// How many connections are registered now (the metrics' open connections).
    var openConnections: Int { slots.withLock { $0.byID.count } }

    /// The slot to evict now, by the order above (claimed: marked closing), or, when none may be
    /// yet, the earliest time one of the arrivals will be; nil for both when none ever may be.
    func victim(
        now: NIODeadline = .now()
    ) -> (slot: ConnectionSlot, state: ConnectionState)? {
        pick(now: now).victim
    }

    private func pick(
        now: NIODeadline
    ) -> (victim: (slot: ConnectionSlot, state: ConnectionState)?, later: (NIODeadline, any EventLoop)?) {
        let all = slots.withLock { Array($0.byID.values) }
        let nowNanos = now.uptimeNanoseconds
        var best: (rank: Int, since: UInt64, slot: ConnectionSlot, value: (state: ConnectionState, since: UInt64))?
        var later: (NIODeadline, any EventLoop)?
        for slot in all {
            let value = slot.value
            let rank: Int
            var grace: TimeAmount?
            switch value.state {
            case .idle: rank = 0
            case .slowReader: rank = 1
            case .awaitingFirstRequest:
                rank = 2
                grace = firstRequestGrace
            case .handshake:
                rank = 3
                grace = handshakeGrace
            case .busy, .closing: continue
            }
            if let grace {
                let eligible = value.since &+ UInt64(max(0, grace.nanoseconds))
                if eligible > nowNanos {
                    let at = NIODeadline.uptimeNanoseconds(eligible)
                    if later.map({ at < $0.0 }) ?? true { later = (at, slot.channel.eventLoop) }
                    continue
                }
            }
            if let b = best, (b.rank, b.since) <= (rank, value.since) { continue }
            best = (rank, value.since, slot, value)
        }
        // Marked closing so that the next accept picks another one while this one closes.
        guard let best, best.slot.claim(best.value) else { return (nil, later) }
        return ((best.slot, best.value.state), nil)
    }

    /// Closes the connection the order above picks and returns its state; nil when none may be
    /// closed now (then, if an arrival's grace will end, one is evicted at that time).
    func evictOne() -> ConnectionState? {
        let (victim, later) = pick(now: .now())
        if let (slot, state) = victim {
            slot.channel.close(promise: nil)
            return state
        }
        waiting.store(true, ordering: .relaxed)
        if let (at, loop) = later, retryScheduled.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged {
            loop.scheduleTask(deadline: at + .milliseconds(1)) { [self] in
                retryScheduled.store(false, ordering: .relaxed)
                _ = evictOne()
            }
        }
        return nil
    }

    /// The server is at the cap with nothing it could evict when it last looked.
    var isWaiting: Bool { waiting.load(ordering: .relaxed) }

    /// A connection became idle or a slow reader: if the server is waiting at the cap, make room now.
    func connectionBecameEvictable() {
        guard waiting.load(ordering: .relaxed),
            waiting.compareExchange(expected: true, desired: false, ordering: .relaxed).exchanged
        else { return }
        _ = evictOne()
    }

    /// Hummingbird has a free slot again (it will accept, and ask again at the cap).
    func slotFreed() { waiting.store(false, ordering: .relaxed) }
}

/// Hummingbird's connection cap (`MaximumAvailableConnections`) plus eviction: when the cap is
/// reached, one connection is closed by `ConnectionTable`'s order, so that accepting resumes.
struct EvictingConnectionLimit: AvailableConnectionsDelegate {
    let maxConnections: Int
    let table: ConnectionTable
    let logger: Logger
    var count = 0

    init(_ maxConnections: Int, table: ConnectionTable, logger: Logger) {
        self.maxConnections = maxConnections
        self.table = table
        self.logger = logger
    }

    mutating func connectionOpened() { count += 1 }
    mutating func connectionClosed() {
        count -= 1
        table.slotFreed()
    }

    func isAcceptingNewConnections() -> Bool {
        if count < maxConnections { return true }
        if let state = table.evictOne() {
            logger.debug(
                "connection cap reached: closed a connection to make room",
                metadata: ["max_connections": "\(maxConnections)", "evicted": "\(state)"]
            )
        }
        return false
    }
}
