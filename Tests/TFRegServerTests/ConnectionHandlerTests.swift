import HTTPTypes
import Logging
import NIOCore
import NIOEmbedded
import NIOHTTP1
import NIOHTTPTypes
import Testing

@testable import TFRegServer

/// Sits at the front of a test pipeline and keeps what would reach the socket: raw responses sent
/// past the encoder, and how many `read()`s got through.
final class FrontCapture: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny
    var raw: [String] = []
    var reads = 0

    func read(context: ChannelHandlerContext) {
        reads += 1
        context.read()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        if let r = event as? RawResponseEvent {
            raw.append(String(buffer: r.bytes))
            context.flush()
            context.close(promise: nil)
            promise?.succeed(())
        } else {
            context.triggerUserOutboundEvent(event, promise: promise)
        }
    }
}

private let logger = Logger(label: "test")

private func get(_ path: String = "/health", _ fields: HTTPFields = [:]) -> HTTPRequestPart {
    .head(HTTPRequest(method: .get, scheme: nil, authority: "127.0.0.1", path: path, headerFields: fields))
}

private func ok(_ fields: HTTPFields = [.contentLength: "0"]) -> HTTPResponsePart {
    .head(HTTPResponse(status: .ok, headerFields: fields))
}

/// Issue "Trust III" finding 9: the HTTP residuals, on `RequestGuardHandler` alone.
@Suite struct RequestGuardHandlerTests {
    func makeChannel() throws -> (EmbeddedChannel, FrontCapture) {
        let front = FrontCapture()
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(front)
        try channel.pipeline.syncOperations.addHandler(RequestGuardHandler(logger: logger))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return (channel, front)
    }

    @Test func aDecoderErrorBehindAPipelinedRequestIsAnsweredAfterIt() throws {
        let (channel, front) = try makeChannel()
        try channel.writeInbound(get())
        try channel.writeInbound(HTTPRequestPart.end(nil))
        channel.pipeline.fireErrorCaught(HTTPParserError.invalidHeaderToken)
        // The first request is still being answered: its answer comes first, then the 400.
        #expect(front.raw.isEmpty, "the error answer overtook the earlier request's: \(front.raw)")
        #expect(channel.isActive)
        try channel.writeOutbound(ok())
        _ = try? channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response head for the first request")
            return
        }
        #expect(head.status == .ok)
        #expect(front.raw.count == 1 && front.raw[0].hasPrefix("HTTP/1.1 400 "), "\(front.raw)")
        #expect(!channel.isActive)
    }

    @Test func aRejectedHeadBehindAPipelinedRequestIsAnsweredAfterIt() throws {
        let (channel, front) = try makeChannel()
        try channel.writeInbound(get())
        try channel.writeInbound(HTTPRequestPart.end(nil))
        try channel.writeInbound(get("/health", [.transferEncoding: "gzip, chunked"]))
        #expect(channel.isActive, "closed without answering the first request")
        try channel.writeOutbound(ok())
        _ = try? channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(front.raw.count == 1 && front.raw[0].hasPrefix("HTTP/1.1 400 "), "\(front.raw)")
        #expect(front.raw.first?.contains("only chunked") == true)
    }

    @Test func connectGetsALengthAndACloseNotATunnel() throws {
        let (channel, front) = try makeChannel()
        try channel.writeInbound(
            HTTPRequestPart.head(HTTPRequest(method: .connect, scheme: nil, authority: "evil.example:443", path: nil))
        )
        let answer = try #require(front.raw.first)
        #expect(answer.hasPrefix("HTTP/1.1 400 "))
        #expect(answer.contains("content-length: \(#"{"errors":["CONNECT is not supported"]}"#.utf8.count)\r\n"))
        #expect(answer.contains("connection: close"))
        #expect(!channel.isActive)
    }

    @Test func onlyChunkedIsAcceptedAsTransferCoding() throws {
        for coding in ["gzip, chunked", "chunked, chunked", "identity"] {
            let (channel, front) = try makeChannel()
            try channel.writeInbound(get("/health", [.transferEncoding: coding]))
            #expect(front.raw.first?.hasPrefix("HTTP/1.1 400 ") == true, "\(coding)")
            #expect(!channel.isActive)
        }
        let (channel, front) = try makeChannel()
        try channel.writeInbound(get("/health", [.transferEncoding: "Chunked"]))
        #expect(front.raw.isEmpty && channel.isActive)
    }

    @Test func aLastRequestIsAnsweredWithConnectionCloseAndTheConnectionCloses() throws {
        let (channel, _) = try makeChannel()
        try channel.writeInbound(get("/health", [.connection: "close"]))
        try channel.writeInbound(HTTPRequestPart.end(nil))
        // A request pipelined behind the last one is not read.
        try channel.writeInbound(get())
        #expect(try channel.readInbound(as: HTTPRequestPart.self) != nil)
        #expect(try channel.readInbound(as: HTTPRequestPart.self) != nil)
        #expect(try channel.readInbound(as: HTTPRequestPart.self) == nil, "a request after Connection: close was read")
        try channel.writeOutbound(ok())
        _ = try? channel.writeOutbound(HTTPResponsePart.end(nil))
        guard case .head(let head) = try channel.readOutbound(as: HTTPResponsePart.self) else {
            Issue.record("no response head")
            return
        }
        #expect(head.headerFields[.connection] == "close")
        #expect(!channel.isActive)
    }

    @Test func aPipelinerIsNotReadFromWhileTooManyRequestsWaitForAnswers() throws {
        let (channel, front) = try makeChannel()
        for _ in 0..<ConnectionLimits.maxPipelinedRequests {
            try channel.writeInbound(get())
            try channel.writeInbound(HTTPRequestPart.end(nil))
        }
        let before = front.reads
        channel.read()
        #expect(front.reads == before, "read with \(ConnectionLimits.maxPipelinedRequests) requests unanswered")
        try channel.writeOutbound(ok())
        try channel.writeOutbound(HTTPResponsePart.end(nil))
        #expect(front.reads == before + 1, "the held read was not released by an answer")
    }
}

/// Issue "Trust III" finding 2: deadlines on `ConnectionDeadlineHandler` with a fake clock.
@Suite struct ConnectionDeadlineHandlerTests {
    static let limits = ConnectionLimits(
        maxConnections: 8,
        handshakeTimeout: .seconds(2),
        headerTimeout: .seconds(2),
        bodyTimeout: .seconds(2),
        idleTimeout: .seconds(2)
    )

    func makeChannel(table: ConnectionTable? = nil) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(
            ConnectionDeadlineHandler(limits: Self.limits, tls: false, table: table, logger: logger)
        )
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        return channel
    }

    /// A request head is read and is being answered; no timeout of the request phases runs.
    func startRequest(_ channel: EmbeddedChannel, expectsBody: Bool) throws {
        try channel.writeInbound(ByteBuffer(string: "GET / HTTP/1.1\r\n\r\n"))
        channel.pipeline.triggerUserOutboundEvent(RequestProgressEvent.headReceived(expectsBody: expectsBody), promise: nil)
    }

    @Test func aResponseTheClientDoesNotReadIsClosedAfterTheBodyTimeout() throws {
        let channel = try makeChannel()
        try startRequest(channel, expectsBody: false)
        channel.pipeline.triggerUserOutboundEvent(RequestProgressEvent.requestComplete, promise: nil)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(1900))
        #expect(channel.isActive)
        channel.embeddedEventLoop.advanceTime(by: .milliseconds(200))
        #expect(!channel.isActive, "a response stalled for longer than the body timeout")
    }

    @Test func aResponseThatDrainsIsNotClosed() throws {
        let channel = try makeChannel()
        try startRequest(channel, expectsBody: false)
        for _ in 0..<5 {
            channel.isWritable = false
            channel.pipeline.fireChannelWritabilityChanged()
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(1500))
            channel.isWritable = true
            channel.pipeline.fireChannelWritabilityChanged()
        }
        #expect(channel.isActive)
    }

    @Test func aTrickledBodyEndsAtTheBodyDeadline() throws {
        let channel = try makeChannel()
        try startRequest(channel, expectsBody: true)
        // One byte every 1.5 s: never 2 s without a byte, but far below the minimum rate.
        var waited = 0
        while channel.isActive, waited < 60_000 {
            channel.read()
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(1500))
            waited += 1500
            if channel.isActive { try channel.writeInbound(ByteBuffer(string: "a")) }
        }
        #expect(!channel.isActive)
        #expect(waited <= 3000, "a trickled body was closed after \(waited) ms of waiting")
    }

    @Test func aBodyAtTheMinimumRateIsNotClosed() throws {
        let channel = try makeChannel()
        try startRequest(channel, expectsBody: true)
        // 2 KiB/s for 20 s.
        for _ in 0..<40 {
            channel.read()
            channel.embeddedEventLoop.advanceTime(by: .milliseconds(500))
            try channel.writeInbound(ByteBuffer(repeating: 0x61, count: 1024))
        }
        #expect(channel.isActive)
    }

    @Test func aSlowReaderIsEvictableAndABusyConnectionIsNot() throws {
        let table = ConnectionTable(handshakeGrace: .seconds(1))
        let channel = try makeChannel(table: table)
        try startRequest(channel, expectsBody: false)
        #expect(table.victim(now: channel.embeddedEventLoop.now) == nil)
        channel.isWritable = false
        channel.pipeline.fireChannelWritabilityChanged()
        #expect(table.victim(now: channel.embeddedEventLoop.now)?.state == .slowReader)
    }
}

/// Issue "Trust III" finding 2: who makes room at the connection cap.
@Suite struct ConnectionTableTests {
    @Test func evictionOrderIsIdleThenSlowReadersThenFirstRequestsThenOldHandshakesAndArrivalsWait() throws {
        let table = ConnectionTable(handshakeGrace: .seconds(5), firstRequestGrace: .seconds(1))
        let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000_000)
        func add(_ state: ConnectionState, _ ageSeconds: Int64) -> ConnectionSlot {
            let slot = ConnectionSlot(channel: EmbeddedChannel(), state: state, since: t0 - .seconds(ageSeconds))
            _ = table.register(slot)
            return slot
        }
        let youngHandshake = add(.handshake, 1)
        let oldHandshake = add(.handshake, 6)
        let first = add(.awaitingFirstRequest, 2)
        let arriving = add(.awaitingFirstRequest, 0)
        let slow = add(.slowReader, 2)
        let idleNew = add(.idle, 1)
        let idleOld = add(.idle, 3)
        _ = add(.busy, 30)
        var order: [ObjectIdentifier] = []
        while let v = table.victim(now: t0) { order.append(ObjectIdentifier(v.slot)) }
        #expect(
            order == [idleOld, idleNew, slow, first, oldHandshake].map(ObjectIdentifier.init),
            "a busy connection or a young handshake was evicted, or the order is wrong"
        )
        #expect(youngHandshake.value.state == .handshake)
        #expect(arriving.value.state == .awaitingFirstRequest)
    }
}
