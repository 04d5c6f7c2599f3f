import Logging
import NIOCore
import NIOTLS

/// What `RequestGuardHandler` tells `ConnectionDeadlineHandler` (an outbound user event, so the two
/// share no state): a request head has been read, or the whole request has.
enum RequestProgressEvent: Sendable {
    case headReceived(expectsBody: Bool)
    case requestComplete
    /// Every request read so far is answered: the connection is idle.
    case responsesComplete
}

/// A complete response (status line, header fields, body) that `RequestGuardHandler` sends, as an
/// outbound user event, past NIO's response encoder, which would strip its `Content-Length` and body
/// when it answers a `CONNECT`. `ConnectionDeadlineHandler` writes it and closes the connection.
struct RawResponseEvent: Sendable {
    let bytes: ByteBuffer
}

/// Closes connections whose client is too slow, on the bytes below the HTTP decoder (after TLS):
/// the TLS handshake, a request head, a request body that stops arriving or trickles, and a response
/// the client does not read. It sits first in the pipeline after `NIOSSLServerHandler`. The idle
/// keep-alive timeout is Hummingbird's (`HTTP1Channel.Configuration.idleTimeout`).
///
/// The body timeout runs only while a `read()` is outstanding, i.e. while the server wants bytes and
/// the client sends none; time the application spends not reading (back-pressure) does not count.
/// In all, the server waits for a body at most the body timeout plus one second per
/// `ConnectionLimits.minimumBodyRate` bytes received. A response stalls while the channel is not
/// writable (NIO's outbound buffer above its high-water mark: the kernel's send buffer is full and
/// the client does not read); a stall of the body timeout closes the connection.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase { case handshake, awaitingHead, inHead, inBody, inRequest }

    private let limits: ConnectionLimits
    private let logger: Logger
    private let table: ConnectionTable?
    private var slot: ConnectionSlot?
    private var tableID: Int?
    private var phase: Phase
    private var started = false
    private var timer: Scheduled<Void>?
    /// When the current phase's time is up, and what it was for; nil while nothing is timed.
    private var deadline: (NIODeadline, String)?
    /// When a stalled response's time is up; nil while the channel is writable.
    private var writeDeadline: NIODeadline?
    private var scheduledAt: NIODeadline?
    /// The state the connection table sees when the channel is writable.
    private var tableState: ConnectionState
    /// The request body so far: bytes received and time spent waiting for them (nanoseconds), and
    /// since when the server has been waiting (a `read()` outstanding).
    private var bodyBytes = 0
    private var bodyWaited: Int64 = 0
    private var bodyWaitingSince: NIODeadline?
    /// Flushed bytes are being watched: every half body timeout a check reads how many the channel
    /// still buffers; the same non-zero count at two checks is a stall (Hummingbird waits for each
    /// write to complete, so a client that does not read stops it long before the channel becomes
    /// unwritable), and a stall of the body timeout closes the connection.
    private var writeWatching = false
    private var lastBuffered = -1
    private var lastCheck: NIODeadline?
    private var stallSince: NIODeadline?

    init(limits: ConnectionLimits, tls: Bool, table: ConnectionTable?, logger: Logger) {
        self.limits = limits
        self.table = table
        self.logger = logger
        self.phase = tls ? .handshake : .awaitingHead
        self.tableState = tls ? .handshake : .awaitingFirstRequest
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if let table {
            let slot = ConnectionSlot(channel: context.channel, state: tableState, since: context.eventLoop.now)
            self.slot = slot
            tableID = table.register(slot)
        }
        if context.channel.isActive { start(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        unregister()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
        unregister()
    }

    private func unregister() {
        if let id = tableID { table?.unregister(id) }
        tableID = nil
        slot = nil
    }

    private func setTableState(_ state: ConnectionState, _ now: @autoclosure () -> NIODeadline) {
        tableState = state
        if writeDeadline == nil { slot?.set(state, since: now()) }
    }

    /// The first request's head is timed from accept (plain) or the handshake's end (TLS), so a
    /// connection that never sends a byte is closed after the header timeout too.
    private func start(_ context: ChannelHandlerContext) {
        guard !started else { return }
        started = true
        switch phase {
        case .handshake: arm(context, limits.handshakeTimeout, "TLS handshake")
        default:
            phase = .inHead
            arm(context, limits.headerTimeout, "request head")
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if phase == .handshake, let tls = event as? TLSUserEvent, case .handshakeCompleted = tls {
            cancel()
            phase = .inHead
            setTableState(.awaitingFirstRequest, context.eventLoop.now)
            arm(context, limits.headerTimeout, "request head")
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch phase {
        case .awaitingHead:
            // The first byte of the next request on a keep-alive connection starts its header clock.
            phase = .inHead
            arm(context, limits.headerTimeout, "request head")
        case .inBody:
            if let since = bodyWaitingSince {
                bodyWaited += (context.eventLoop.now - since).nanoseconds
                bodyWaitingSince = nil
            }
            bodyBytes += unwrapInboundIn(data).readableBytes
            cancel()
        case .handshake, .inHead, .inRequest:
            break
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if phase == .inBody, deadline == nil {
            // Progress: the body timeout without a byte. Total: the body timeout plus a second per
            // `minimumBodyRate` bytes received, less the time already spent waiting.
            let now = context.eventLoop.now
            let earned = Int64(min(bodyBytes, 1 << 40)) * 1_000_000_000 / Int64(ConnectionLimits.minimumBodyRate)
            let left = TimeAmount(limits.bodyTimeout).nanoseconds + earned - bodyWaited
            let wait = min(TimeAmount(limits.bodyTimeout).nanoseconds, max(0, left))
            bodyWaitingSince = now
            arm(context, at: now + .nanoseconds(wait), "request body")
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let now = context.eventLoop.now
        if context.channel.isWritable {
            writeDeadline = nil
            slot?.set(tableState, since: now)
        } else if writeDeadline == nil {
            let due = now + TimeAmount(limits.bodyTimeout)
            writeDeadline = due
            slot?.set(.slowReader, since: now)
            ensureCheck(context, by: due)
            makeRoomIfWaiting(context)
        }
        context.fireChannelWritabilityChanged()
    }

    func flush(context: ChannelHandlerContext) {
        if !writeWatching {
            writeWatching = true
            ensureCheck(context, by: context.eventLoop.now + watchInterval)
        }
        context.flush()
    }

    private var watchInterval: TimeAmount { .nanoseconds(TimeAmount(limits.bodyTimeout).nanoseconds / 2) }

    /// Bytes written to the channel and not yet to the socket (0 where the channel cannot say).
    private func bufferedBytes(_ context: ChannelHandlerContext) -> Int {
        Int((try? context.channel.syncOptions?.getOption(ChannelOptions.bufferedWritableBytes)) ?? 0)
    }

    /// The write watch's part of a check: nil when the connection must close, else when to look again.
    private func watchWrites(_ context: ChannelHandlerContext, now: NIODeadline) -> NIODeadline?? {
        defer { lastCheck = now }
        guard writeWatching else { return .some(nil) }
        let bytes = bufferedBytes(context)
        if bytes == 0 {
            writeWatching = false
            lastBuffered = -1
            if stallSince != nil, writeDeadline == nil { slot?.set(tableState, since: now) }
            stallSince = nil
            return .some(nil)
        }
        if bytes != lastBuffered {
            lastBuffered = bytes
            if stallSince != nil, writeDeadline == nil { slot?.set(tableState, since: now) }
            stallSince = nil
        } else if stallSince == nil {
            stallSince = lastCheck ?? now
            slot?.set(.slowReader, since: now)
            makeRoomIfWaiting(context)
        }
        if let since = stallSince, now - since >= TimeAmount(limits.bodyTimeout) { return nil }
        return .some(now + watchInterval)
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let progress = event as? RequestProgressEvent {
            switch progress {
            case .headReceived(let expectsBody):
                cancel()
                phase = expectsBody ? .inBody : .inRequest
                bodyBytes = 0
                bodyWaited = 0
                bodyWaitingSince = nil
                if tableState != .busy { setTableState(.busy, .uptimeNanoseconds(0)) }
            case .requestComplete:
                cancel()
                phase = .awaitingHead
            case .responsesComplete:
                setTableState(.idle, context.eventLoop.now)
                makeRoomIfWaiting(context)
            }
            promise?.succeed(())
        } else if let raw = event as? RawResponseEvent {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            context.writeAndFlush(wrapOutboundOut(.byteBuffer(raw.bytes))).whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
            promise?.succeed(())
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }

    /// This connection became evictable: if the server waits at the connection cap, evict one, after
    /// the write under way has been flushed (an eviction now would drop the response's last bytes).
    private func makeRoomIfWaiting(_ context: ChannelHandlerContext) {
        guard let table, table.isWaiting else { return }
        context.eventLoop.execute { table.connectionBecameEvictable() }
    }

    /// Arms the current deadline. On the hot path (keep-alive requests back to back) this only sets
    /// a value: one scheduled check per connection is reused, and re-scheduled for the remaining time
    /// when it fires before the current deadline (scheduling and cancelling a task per request cost
    /// about a fifth of the throughput).
    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration, _ what: String) {
        arm(context, at: context.eventLoop.now + TimeAmount(timeout), what)
    }

    private func arm(_ context: ChannelHandlerContext, at due: NIODeadline, _ what: String) {
        deadline = (due, what)
        ensureCheck(context, by: due)
    }

    /// Makes sure a check runs no later than `due`. A check scheduled for later (a short header
    /// timeout after a longer body timeout) is moved forward; one scheduled earlier re-schedules
    /// itself when it fires.
    private func ensureCheck(_ context: ChannelHandlerContext, by due: NIODeadline) {
        if let at = scheduledAt, at <= due, timer != nil { return }
        timer?.cancel()
        schedule(context, at: due)
    }

    private func schedule(_ context: ChannelHandlerContext, at due: NIODeadline) {
        scheduledAt = due
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: due) {
            let (handler, context) = loopBound.value
            handler.check(context)
        }
    }

    private func check(_ context: ChannelHandlerContext) {
        timer = nil
        scheduledAt = nil
        let now = context.eventLoop.now
        let expired: String
        let watch = watchWrites(context, now: now)
        if watch == nil {
            expired = "response write (not read by the client)"
        } else if let due = writeDeadline, due <= now {
            expired = "response write"
        } else if let (due, what) = deadline, due <= now {
            expired = what
        } else {
            let next = [writeDeadline, deadline?.0, watch ?? nil].compactMap { $0 }.min()
            if let next { schedule(context, at: next) }
            return
        }
        deadline = nil
        writeDeadline = nil
        logger.debug(
            "closing a slow connection",
            metadata: ["timeout": "\(expired)", "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"]
        )
        context.close(promise: nil)
    }

    /// Disarms the phase deadline (the scheduled check, if any, then finds nothing to do).
    private func cancel() {
        deadline = nil
    }

    /// Stops the scheduled check for good (the connection is gone).
    private func stop() {
        deadline = nil
        writeDeadline = nil
        writeWatching = false
        timer?.cancel()
        timer = nil
        scheduledAt = nil
    }
}
