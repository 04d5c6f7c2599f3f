import Synchronization

/// A progress line on standard error for long work (publish, backup): bytes done, rate and ETA,
/// redrawn in place with `\r` at most ten times a second. Draws nothing unless `enabled` (standard
/// error is a terminal and there is no `--quiet`), so pipes and logs never see it.
/// Updates may come from any thread (libcurl's read callback).
final class ProgressLine: Sendable {
    private struct State {
        var done: Int64 = 0
        var lastDraw: ContinuousClock.Instant?
        var width = 0
        var finished = false
        var drawn = false
        var total: Int64?
        /// When counting began (reset when a total is first given, so a packing phase before it
        /// does not lower the rate).
        var started = ContinuousClock.now
    }

    let label: String
    private let fixedTotal: Int64?
    let enabled: Bool
    private let state = Mutex(State())
    private let minimumInterval: Duration = .milliseconds(100)

    init(label: String, total: Int64?, enabled: Bool) {
        self.label = label
        self.fixedTotal = total
        self.enabled = enabled
    }

    /// Records that `count` more bytes are done.
    func advance(_ count: Int64) {
        guard count > 0 else { return }
        update { $0.done += count }
    }

    /// Records the bytes done so far and the total, when the work reports absolute figures.
    func advance(done: Int64, total: Int64) {
        update {
            if $0.total == nil, $0.done == 0 { $0.started = .now }
            $0.done = done
            $0.total = total
        }
    }

    private func update(_ change: (inout State) -> Void) {
        guard enabled else { return }
        let now = ContinuousClock.now
        let line: String? = state.withLock { s in
            change(&s)
            if s.finished { return nil }
            if let last = s.lastDraw, now - last < minimumInterval { return nil }
            s.lastDraw = now
            return draw(&s, now: now)
        }
        if let line { writeStandardError(Array(line.utf8)) }
    }

    /// Shows `text` in the line's place until the next update (a phase without a byte count).
    func status(_ text: String) {
        guard enabled else { return }
        let line: String = state.withLock { s in
            let pad = max(0, s.width - text.count)
            s.width = text.count
            s.drawn = true
            return "\r" + text + String(repeating: " ", count: pad)
        }
        writeStandardError(Array(line.utf8))
    }

    /// Erases what the line drew (before output that is not progress, or when the work ends early).
    func clear() {
        guard enabled else { return }
        let line: String? = state.withLock { s in
            guard s.drawn, !s.finished else { return nil }
            s.finished = true
            return "\r" + String(repeating: " ", count: s.width) + "\r"
        }
        if let line { writeStandardError(Array(line.utf8)) }
    }

    /// Draws the final state and ends the line.
    func finish() {
        guard enabled else { return }
        let line: String? = state.withLock { s in
            guard !s.finished, s.drawn || s.done > 0 else { return nil }
            s.finished = true
            return draw(&s, now: .now) + "\n"
        }
        if let line { writeStandardError(Array(line.utf8)) }
    }

    private func draw(_ s: inout State, now: ContinuousClock.Instant) -> String {
        let text = Self.render(label: label, done: s.done, total: s.total ?? fixedTotal, elapsed: now - s.started)
        // Spaces over what a longer previous line left behind.
        let pad = max(0, s.width - text.count)
        s.width = text.count
        s.drawn = true
        return "\r" + text + String(repeating: " ", count: pad)
    }

    /// The line's text: `LABEL  12.3 MiB / 30.0 MiB  41%  5.1 MiB/s  ETA 3s` (without a known total:
    /// `LABEL  12.3 MiB  5.1 MiB/s`).
    static func render(label: String, done: Int64, total: Int64?, elapsed: Duration) -> String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let rate = seconds > 0 ? Double(done) / seconds : 0
        var parts = [label]
        if let total, total > 0 {
            let percent = min(100, Int(Double(done) * 100 / Double(total)))
            parts.append("\(bytes(done)) / \(bytes(total))")
            parts.append("\(percent)%")
            parts.append("\(bytes(Int64(rate)))/s")
            if rate > 0, done < total {
                parts.append("ETA \(duration(Double(total - done) / rate))")
            } else if done >= total {
                parts.append("done")
            }
        } else {
            parts.append(bytes(done))
            parts.append("\(bytes(Int64(rate)))/s")
        }
        return parts.joined(separator: "  ")
    }

    /// Binary units with one decimal: `512 B`, `1.5 KiB`, `30.0 MiB`.
    static func bytes(_ n: Int64) -> String {
        if n < 1024 { return "\(n) B" }
        let units = ["KiB", "MiB", "GiB", "TiB"]
        var value = Double(n) / 1024
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        let tenths = Int((value * 10).rounded())
        return "\(tenths / 10).\(tenths % 10) \(units[unit])"
    }

    /// `42s`, `3m05s`, `1h02m`.
    static func duration(_ seconds: Double) -> String {
        let s = Int(seconds.rounded(.up))
        if s < 60 { return "\(s)s" }
        if s < 3600 { return "\(s / 60)m" + (s % 60 < 10 ? "0" : "") + "\(s % 60)s" }
        return "\(s / 3600)h" + ((s % 3600) / 60 < 10 ? "0" : "") + "\((s % 3600) / 60)m"
    }
}
