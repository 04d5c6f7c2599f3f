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
/// - a request that does not keep the connection alive (`Connection: close`, HTTP/1.0 without
///   `keep-alive`; `KeepAliveHandler` marks it) is answered with `Connection: close`, then a close;
/// - an error behind pipelined requests is answered after them, in order, then the connection closes;
/// - a client that pipelines is not read from while `ConnectionLimits.maxPipelinedRequests` requests
///   wait for their answers.
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
    /// No more requests are read (an error or a last request was seen); what was read is answered.
    private var inputDone = false
    /// The answer to an error that arrived behind requests still being answered, written after them.
    private var pendingError: (HTTPResponse.Status, String)?
    /// A `read()` held back while `maxPipelinedRequests` requests wait for answers.
    private var readHeld = false
    private let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // After the last request (an error, `Connection: close`), only its own body is read.
        guard !closing, !(inputDone && bodyDone) else { return }
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard bodyDone else { return close(context) }  // cannot come from NIO's decoder
            if let (status, message) = Self.reject(head) {
                return respondAfterPending(context, status: status, message: message)
            }
            let expectsBody =
                head.headerFields[.transferEncoding] != nil
                || (head.headerFields[.contentLength].map { $0 != "0" } ?? false)
            inFlight += 1
            bodyDone = false
            // The last request on this connection: answer it (and those before it), then close.
            if head.headerFields[.connection] == "close" {
                inputDone = true
                closeAfterResponse = true
            }
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
        if error is IOError || error is ChannelError || error is NIOSSLError { return close(context) }
        guard !(inputDone && bodyDone) else { return }  // an error after the last request: dropped
        // An error in the body of the request being answered: it cannot be answered any more.
        if !bodyDone, responseStarted { return close(context) }
        let (status, message) = Self.describe(error)
        logger.debug("malformed request", metadata: ["error": "\(error)", "status": "\(status.code)"])
        respondAfterPending(context, status: status, message: message)
    }

    /// Answers an error that ends the connection: at once when nothing read is unanswered (or the
    /// error is in the body of the request being read, which is then answered with it), else after
    /// the requests before it (RFC 9112 §9.3.2: responses go in the order of the requests).
    private func respondAfterPending(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        inputDone = true
        if inFlight == 0 || !bodyDone { return respondAndClose(context, status: status, message: message) }
        pendingError = (status, message)
    }

    func read(context: ChannelHandlerContext) {
        if inputDone, bodyDone { return }
        if inFlight >= ConnectionLimits.maxPipelinedRequests {
            readHeld = true
            return
        }
        context.read()
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
            if inFlight == 1, !bodyDone { closeAfterResponse = true }
            if inFlight == 1, closeAfterResponse { response.headerFields[.connection] = "close" }
            context.write(wrapOutboundOut(.head(response)), promise: promise)
        case .end:
            inFlight -= 1
            responseStarted = false
            if inFlight == 0, closeAfterResponse {
                closing = true
                let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
                context.writeAndFlush(data).whenComplete { result in
                    promise?.completeWith(result)
                    loopBound.value.close(promise: nil)
                }
            } else if inFlight == 0, let (status, message) = pendingError {
                context.write(data, promise: promise)
                respondAndClose(context, status: status, message: message)
            } else {
                context.write(data, promise: promise)
                if inFlight == 0 {
                    context.triggerUserOutboundEvent(RequestProgressEvent.responsesComplete, promise: nil)
                }
                if readHeld, inFlight < ConnectionLimits.maxPipelinedRequests {
                    readHeld = false
                    context.read()
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

    /// Writes `{"errors": [message]}` with `Content-Length` and `Connection: close`, then closes. The
    /// bytes go past NIO's response encoder (`RawResponseEvent`), which would drop the body and its
    /// length in an answer to `CONNECT`.
    private func respondAndClose(_ context: ChannelHandlerContext, status: HTTPResponse.Status, message: String) {
        closing = true
        context.triggerUserOutboundEvent(RawResponseEvent(bytes: Self.errorResponse(status, message)), promise: nil)
    }

    /// An HTTP/1.1 response with a JSON error body, ready for the wire. `message` is fixed ASCII.
    static func errorResponse(_ status: HTTPResponse.Status, _ message: String) -> ByteBuffer {
        let body = #"{"errors":[""# + message + #""]}"#
        var buffer = ByteBuffer()
        buffer.writeString("HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\n")
        buffer.writeString("content-type: application/json\r\ncontent-length: \(body.utf8.count)\r\n")
        buffer.writeString("connection: close\r\n\r\n")
        buffer.writeString(body)
        return buffer
    }

    /// A head the API must not see: the `Host` rules of RFC 9112 §3.2 (exactly one, valid
    /// `host[:port]`, which is what download links may be built from) and RFC 9110 §10.1.1 `Expect`.
    /// Messages are fixed ASCII (they are written into JSON unescaped).
    static func reject(_ head: HTTPRequest) -> (HTTPResponse.Status, String)? {
        // The HTTP/1 conversion puts the first Host into `authority` and keeps any further ones as fields.
        // RFC 9110 §9.3.6: a registry is no proxy (its target is not a path either).
        if head.method == .connect { return (.badRequest, "CONNECT is not supported") }
        // RFC 9112 §6.1: tfreg decodes exactly `chunked`; NIO's decoder would take `gzip, chunked` as
        // chunked and pass gzip on. Several fields are joined with ", ", so `chunked` twice is refused
        // too. 400 rather than the RFC's SHOULD 501: every malformed request gets a 4xx, and a 5xx
        // means a server fault to whoever watches the logs.
        if let coding = head.headerFields[.transferEncoding], coding.lowercased() != "chunked" {
            return (.badRequest, "unsupported Transfer-Encoding: only chunked is accepted")
        }
        guard let host = head.authority else { return (.badRequest, "a Host header is required") }
        guard head.headerFields[Self.hostField] == nil else { return (.badRequest, "more than one Host header") }
        guard URLParsing.isValidHost(host) else { return (.badRequest, "invalid Host header: expected host[:port]") }
        if let expectation = head.headerFields[.expect], expectation.lowercased() != "100-continue" {
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
