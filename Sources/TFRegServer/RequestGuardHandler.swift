import HTTPTypes
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTPTypes
import NIOSSL
import TFRegAPI

/// Sits between the HTTP/1 codec and Hummingbird (one per connection, added through
/// `HTTP1Channel.Configuration.additionalChannelHandlers`) and does what Hummingbird leaves to us:
/// - a request NIO's decoder rejects (bad request line, header, chunk size, Content-Length, oversized
///   head, …) gets a status with `{"errors": [...]}` instead of Hummingbird's bare 400, then a close;
/// - a request head without exactly one valid `Host` (RFC 9112 §3.2), or with an `Expect` other
///   than `100-continue`, is answered here (400 / 417) and never reaches the API;
/// - a response written while the request body is still arriving (a 401, 403 or 413 before the
///   upload is read) carries `Connection: close` and the connection is closed after it, instead of
///   reading the rest of the body.
/// It also tells `ConnectionDeadlineHandler` where the request is (head read, request complete).
final class RequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// Requests read whose response has not ended (more than one only when a client pipelines).
    private var inFlight = 0
    /// The newest request's end has been read.
    private var bodyDone = true
    /// The oldest in-flight request's response head has been written.
    private var responseStarted = false
    private var closeAfterResponse = false
    /// We answered (or are closing); everything else on this connection is dropped.
    private var closing = false
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !closing else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard bodyDone else { return close(context) }  // cannot come from NIO's decoder
            if let (status, message) = Self.reject(head) {
                // Behind a pipelined request still being answered, a close is all we can do.
                if inFlight > 0 { return close(context) }
                return respondAndClose(context, status: status, message: message)
            }
            let expectsBody =
                head.headerFields[.transferEncoding] != nil
                || (head.headerFields[.contentLength].map { $0 != "0" } ?? false)
            inFlight += 1
            bodyDone = false
            context.triggerUserOutboundEvent(RequestProgressEvent.headReceived(expectsBody: expectsBody), promise: nil)
        case .body:
            guard !bodyDone else { return close(context) }
        case .end:
            guard !bodyDone else { return close(context) }
            bodyDone = true
            context.triggerUserOutboundEvent(RequestProgressEvent.requestComplete, promise: nil)
        }
        context.fireChannelRead(data)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard !closing else { return }
        // Transport failures (reset, TLS alert) have no one to answer.
        if responseStarted || error is IOError || error is ChannelError || error is NIOSSLError {
            return close(context)
        }
        let (status, message) = Self.describe(error)
        logger.debug("malformed request", metadata: ["error": "\(error)", "status": "\(status.code)"])
        respondAndClose(context, status: status, message: message)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard !closing else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        switch unwrapOutboundIn(data) {
        case .head(var response) where response.status.kind != .informational:
            responseStarted = true
            // The body is still coming: answer, then close rather than read (or drain) the rest.
            if inFlight == 1, !bodyDone {
                response.headerFields[.connection] = "close"
                closeAfterResponse = true
            }
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end:
            inFlight -= 1
            responseStarted = false
            if closeAfterResponse {
                closing = true
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(data).whenComplete { result in
                    promise?.completeWith(result)
                    loopBound.value.close(promise: nil)
                }
            } else {
                context.write(data, promise: promise)
                if inFlight == 0 {
                    context.triggerUserOutboundEvent(RequestProgressEvent.responsesComplete, promise: nil)
                }
            }
        default:
            context.write(data, promise: promise)
        }
    }

    private func close(_ context: ChannelHandlerContext) {
        closing = true
        context.close(promise: nil)
    }

    /// Writes `{"errors": [message]}` with `Connection: close`, then closes.
    private func respondAndClose(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        closing = true
        let body = ByteBuffer(string: #"{"errors":[""# + message + #""]}"#)
        var fields = HTTPFields()
        fields[.contentType] = "application/json"
        fields[.contentLength] = String(body.readableBytes)
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(body)), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    /// A head the API must not see: the `Host` rules of RFC 9112 §3.2 (exactly one, valid
    /// `host[:port]`, which is what download links may be built from) and RFC 9110 §10.1.1 `Expect`.
    /// Messages are fixed ASCII (they are written into JSON unescaped).
    static func reject(_ head: HTTPRequest) -> (HTTPResponse.Status, String)? {
        // The HTTP/1 conversion puts the first Host into `authority` and keeps any further ones as fields.
        guard let host = head.authority else { return (.badRequest, "a Host header is required") }
        guard head.headerFields[Self.hostField] == nil else { return (.badRequest, "more than one Host header") }
        guard URLParsing.isValidHost(host) else { return (.badRequest, "invalid Host header: expected host[:port]") }
        let expectations = head.headerFields[values: .expect]
        if !expectations.isEmpty, expectations.count > 1 || expectations[0].lowercased() != "100-continue" {
            return (.expectationFailed, "only Expect: 100-continue is supported")
        }
        return nil
    }

    private static let hostField = HTTPField.Name("Host")!

    /// The status and message for an error from the HTTP/1 decoder or the HTTP types conversion.
    static func describe(_ error: any Error) -> (HTTPResponse.Status, String) {
        guard let parser = error as? HTTPParserError else { return (.badRequest, "malformed HTTP request") }
        switch parser {
        case .headerOverflow: return (.init(code: 431), "request head too large")
        case .invalidVersion: return (.badRequest, "malformed HTTP request: unsupported HTTP version")
        case .invalidMethod: return (.badRequest, "malformed HTTP request: invalid method")
        case .invalidURL: return (.badRequest, "malformed HTTP request: invalid request target")
        case .invalidHeaderToken, .invalidCharactersUsed, .lfExpected, .invalidConstant:
            return (.badRequest, "malformed HTTP request: invalid header")
        case .invalidContentLength, .unexpectedContentLength:
            return (.badRequest, "malformed HTTP request: invalid Content-Length or Transfer-Encoding")
        case .invalidChunkSize: return (.badRequest, "malformed HTTP request: invalid chunked encoding")
        default: return (.badRequest, "malformed HTTP request")
        }
    }
}
