import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's `HTTP1Channel` with tfreg's connection limits: on TLS, `TLSWriteCoalescingHandler`
/// first (one TLS record per response); `ConnectionDeadlineHandler` and
/// `RequestLineCheckHandler` in front of the HTTP decoder (after TLS, when `TLSChannel` wraps this),
/// `KeepAliveHandler` behind the decoder, `RequestGuardHandler` between the HTTP codec and
/// Hummingbird, and Hummingbird's own idle timeout.
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
                idleTimeout: TimeAmount(limits.idleTimeout),
                httpDecoderConfiguration: Self.decoderLimits
            )
        )
    }

    var responder: HTTPChannelHandler.Responder { base.responder }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let limits = self.limits
        let tls = self.tls
        let table = self.table
        return channel.eventLoop.makeCompletedFuture {
            // Right behind TLS (which `TLSChannel` added before this runs): one record per flush.
            if tls { try channel.pipeline.syncOperations.addHandler(TLSWriteCoalescingHandler()) }
            try channel.pipeline.syncOperations.addHandler(
                ConnectionDeadlineHandler(limits: limits, tls: tls, table: table, logger: logger)
            )
            try channel.pipeline.syncOperations.addHandler(RequestLineCheckHandler())
        }.flatMap {
            self.base.setup(channel: channel, logger: logger)
        }.flatMapThrowing { value in
            let decoder = try channel.pipeline.syncOperations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try channel.pipeline.syncOperations.addHandler(KeepAliveHandler(), position: .after(decoder))
            return value
        }
    }

    /// The request head limit: 80 KiB of request target, header names and values (NIO's decoder
    /// counts those; a larger head gets 431). A field takes at least 4 bytes (`a:` CRLF), so the
    /// field count, which Hummingbird caps at 1000, is set where it cannot bind first.
    static let maxHeadBytes = 80 * 1024
    static let decoderLimits = HTTP1Channel.Configuration.DecoderConfiguration(
        maxHeaderFieldSize: maxHeadBytes,
        maxHeaderListSize: maxHeadBytes,
        maxHeaderFieldCount: maxHeadBytes / 4
    )

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
