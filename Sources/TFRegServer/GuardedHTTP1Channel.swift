import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's `HTTP1Channel` with tfreg's connection limits: `ConnectionDeadlineHandler` and
/// `RequestLineCheckHandler` in front of the HTTP decoder (after TLS, when `TLSChannel` wraps this),
/// `RequestGuardHandler` between the HTTP codec and Hummingbird, and Hummingbird's own idle timeout.
struct GuardedHTTP1Channel: ServerChildChannel, HTTPChannelHandler {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: ConnectionLimits
    let tls: Bool
    let table: ConnectionTable?

    init(
        responder: @escaping HTTPChannelHandler.Responder,
        limits: ConnectionLimits,
        tls: Bool,
        table: ConnectionTable?,
        logger: Logger
    ) {
        self.limits = limits
        self.tls = tls
        self.table = table
        self.base = HTTP1Channel(
            responder: responder,
            configuration: .init(
                additionalChannelHandlers: [RequestGuardHandler(logger: logger)],
                idleTimeout: TimeAmount(limits.idleTimeout)
            )
        )
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = self.limits
        let tls = self.tls
        let table = self.table
        return channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(
                ConnectionDeadlineHandler(limits: limits, tls: tls, table: table, logger: logger)
            )
            try channel.pipeline.syncOperations.addHandler(RequestLineCheckHandler())
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
