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

/// Closes connections whose client is too slow, on the bytes below the HTTP decoder (after TLS):
/// the TLS handshake, a request head, and a request body that stops arriving. It sits first in the
/// pipeline after `NIOSSLServerHandler`. The idle keep-alive timeout is Hummingbird's
/// (`HTTP1Channel.Configuration.idleTimeout`).
///
/// The body timeout runs only while a `read()` is outstanding, i.e. while the server wants bytes and
/// the client sends none; time the application spends not reading (back-pressure) does not count.
final class ConnectionDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    typealias OutboundIn = IOData
    typealias OutboundOut = IOData

    private enum Phase { case handshake, awaitingHead, inHead, inBody, inRequest }

    private let limits: ConnectionLimits
    private let logger: Logger
    private let table: ConnectionTable?
    private var tableID: Int?
    private var phase: Phase
    private var started = false
    private var timer: Scheduled<Void>?
    /// When the current phase's time is up, and what it was for; nil while nothing is timed.
    private var deadline: (NIODeadline, String)?
    private var scheduledAt: NIODeadline?

    init(limits: ConnectionLimits, tls: Bool, table: ConnectionTable?, logger: Logger) {
        self.limits = limits
        self.table = table
        self.logger = logger
        self.phase = tls ? .handshake : .awaitingHead
    }

    func handlerAdded(context: ChannelHandlerContext) {
        tableID = table?.register(context.channel)
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
        if let tls = event as? TLSUserEvent, case .handshakeCompleted = tls, phase == .handshake {
            cancel()
            phase = .inHead
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
            cancel()
        case .handshake, .inHead, .inRequest:
            break
        }
        context.fireChannelRead(data)
    }

    func read(context: ChannelHandlerContext) {
        if phase == .inBody, deadline == nil { arm(context, limits.bodyTimeout, "request body") }
        context.read()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard let progress = event as? RequestProgressEvent else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        switch progress {
        case .headReceived(let expectsBody):
            cancel()
            phase = expectsBody ? .inBody : .inRequest
            if let id = tableID { table?.setIdle(id, false) }
        case .requestComplete:
            cancel()
            phase = .awaitingHead
        case .responsesComplete:
            if let id = tableID { table?.setIdle(id, true) }
        }
        promise?.succeed(())
    }

    /// Arms the current deadline. On the hot path (keep-alive requests back to back) this only sets
    /// a value: one scheduled check per connection is reused, and re-scheduled for the remaining time
    /// when it fires before the current deadline (scheduling and cancelling a task per request cost
    /// about a fifth of the throughput).
    private func arm(_ context: ChannelHandlerContext, _ timeout: Duration, _ what: String) {
        let due = NIODeadline.now() + TimeAmount(timeout)
        deadline = (due, what)
        // A check scheduled for later than the new deadline (a short header timeout after a longer
        // body timeout) is moved forward; one scheduled earlier re-schedules itself when it fires.
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
        guard let (due, what) = deadline else { return }
        if due > NIODeadline.now() {
            schedule(context, at: due)
            return
        }
        deadline = nil
        logger.debug(
            "closing a slow connection",
            metadata: ["timeout": "\(what)", "remote": "\(context.channel.remoteAddress.map { "\($0)" } ?? "?")"]
        )
        context.close(promise: nil)
    }

    /// Disarms the deadline (the scheduled check, if any, then finds nothing to do).
    private func cancel() {
        deadline = nil
    }

    /// Stops the scheduled check for good (the connection is gone).
    private func stop() {
        deadline = nil
        timer?.cancel()
        timer = nil
        scheduledAt = nil
    }
}
