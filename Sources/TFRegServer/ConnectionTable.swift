import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// The open connections and which of them are idle (no request being read or answered: waiting for
/// the TLS handshake, a first request head, or the next request), so that at the connection cap the
/// oldest idle one can make room. Without this, 1024 clients that connect and send nothing hold every
/// slot until their header timeout and everyone else waits in the backlog.
final class ConnectionTable: Sendable {
    private struct Entry {
        let channel: any Channel
        var idleSince: ContinuousClock.Instant?
    }

    private let entries = Mutex<(next: Int, byID: [Int: Entry])>((0, [:]))

    func register(_ channel: any Channel) -> Int {
        entries.withLock { state in
            state.next += 1
            state.byID[state.next] = Entry(channel: channel, idleSince: .now)
            return state.next
        }
    }

    func unregister(_ id: Int) { _ = entries.withLock { $0.byID.removeValue(forKey: id) } }

    func setIdle(_ id: Int, _ idle: Bool) {
        entries.withLock { $0.byID[id]?.idleSince = idle ? .now : nil }
    }

    /// Closes the connection idle for longest; false when none is idle.
    func closeOldestIdle() -> Bool {
        let victim: (any Channel)? = entries.withLock { state in
            guard
                let (id, entry) = state.byID.filter({ $0.value.idleSince != nil }).min(by: {
                    $0.value.idleSince! < $1.value.idleSince!
                })
            else { return nil }
            // Marked busy so that the next accept picks another one while this one closes.
            state.byID[id]?.idleSince = nil
            return entry.channel
        }
        victim?.close(promise: nil)
        return victim != nil
    }
}

/// Hummingbird's connection cap (`MaximumAvailableConnections`) plus eviction: when the cap is
/// reached, the oldest idle connection is closed, so that accepting resumes.
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
    mutating func connectionClosed() { count -= 1 }

    func isAcceptingNewConnections() -> Bool {
        if count < maxConnections { return true }
        if table.closeOldestIdle() {
            logger.debug(
                "connection cap reached: closed the oldest idle connection",
                metadata: ["max_connections": "\(maxConnections)"]
            )
        }
        return false
    }
}
