import NIOCore
import NIOHTTP1

/// NIO's decoder takes `GET /` + CRLF (an HTTP/0.9 request line) as the start of a request and waits
/// for headers that an HTTP/0.9 client never sends, until the header timeout. This handler looks at
/// the connection's first request line only and, when it does not end in `HTTP/d.d`, reports
/// `HTTPParserError.invalidVersion` so `RequestGuardHandler` answers with a JSON 400 at once. It
/// removes itself after that first line.
final class RequestLineCheckHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private var line: [UInt8] = []
    private var failed = false

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !failed else { return }
        let buffer = unwrapInboundIn(data)
        for byte in buffer.readableBytesView {
            if byte != UInt8(ascii: "\n") {
                line.append(byte)
                if line.count > 8192 { return done(context, data) }
                continue
            }
            if line.last == UInt8(ascii: "\r") { line.removeLast() }
            if line.isEmpty { continue }  // RFC 9112 §2.2: an empty line before the request line is ignored
            if Self.endsWithVersion(line) { return done(context, data) }
            failed = true
            context.fireErrorCaught(HTTPParserError.invalidVersion)
            return
        }
        context.fireChannelRead(data)
    }

    private func done(_ context: ChannelHandlerContext, _ data: NIOAny) {
        context.fireChannelRead(data)
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    /// `… HTTP/1.1`: a space, `HTTP/`, digit, `.`, digit.
    static func endsWithVersion(_ l: [UInt8]) -> Bool {
        guard l.count >= 9 else { return false }
        let tail = Array(l.suffix(9))
        return tail[0] == UInt8(ascii: " ") && Array(tail[1..<6]) == Array("HTTP/".utf8) && (48...57).contains(tail[6])
            && tail[7] == UInt8(ascii: ".") && (48...57).contains(tail[8])
    }
}
