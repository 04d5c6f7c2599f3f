import NIOCore
import NIOHTTP1

/// Marks a request that does not keep its connection alive (RFC 9112 §9.3: HTTP/1.0 without
/// `Connection: keep-alive`, or any `close` among the `Connection` options) with exactly
/// `Connection: close`, the one form Hummingbird and `RequestGuardHandler` look for; the conversion
/// to HTTP types that follows drops the version, so this has to be decided here, on NIO's head.
/// It sits between NIO's HTTP/1 decoder and `HTTP1ToHTTPServerCodec`.
final class KeepAliveHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data), !head.isKeepAlive else {
            return context.fireChannelRead(data)
        }
        head.headers.replaceOrAdd(name: "connection", value: "close")
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
