import NIOCore
import NIOEmbedded
import Testing

@testable import TFRegServer

/// `TLSWriteCoalescingHandler`: what reaches the TLS handler is one buffer per flush while it fits in a
/// record, in the order written, with every write's promise completed.
@Suite struct TLSWriteCoalescingTests {
    private func channel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(TLSWriteCoalescingHandler())
        return channel
    }

    /// A promise's outcome on the embedded loop (nil while pending); never waits.
    private func outcome(_ promise: EventLoopPromise<Void>) -> Bool? {
        var result: Bool?
        promise.futureResult.whenComplete { result = (try? $0.get()) != nil }
        return result
    }

    private func outbound(_ channel: EmbeddedChannel) throws -> [String] {
        var out: [String] = []
        while let b = try channel.readOutbound(as: ByteBuffer.self) { out.append(String(buffer: b)) }
        return out
    }

    @Test func aHeadAndBodyAreOneWrite() throws {
        let channel = try channel()
        let head = channel.eventLoop.makePromise(of: Void.self)
        let body = channel.eventLoop.makePromise(of: Void.self)
        channel.write(ByteBuffer(string: "HTTP/1.1 200 OK\r\n\r\n"), promise: head)
        channel.write(ByteBuffer(string: "{}"), promise: body)
        channel.write(ByteBuffer(), promise: nil)
        #expect(try outbound(channel).isEmpty, "nothing goes on before the flush")
        channel.flush()
        #expect(try outbound(channel) == ["HTTP/1.1 200 OK\r\n\r\n{}"])
        #expect(outcome(head) == true && outcome(body) == true)
        _ = try channel.finish()
    }

    @Test func largeWritesPassInOrder() throws {
        let channel = try channel()
        let big = String(repeating: "x", count: TLSWriteCoalescingHandler.recordPayload)
        channel.write(ByteBuffer(string: "head"), promise: nil)
        channel.write(ByteBuffer(string: big), promise: nil)
        channel.write(ByteBuffer(string: "a"), promise: nil)
        channel.write(ByteBuffer(string: String(repeating: "y", count: TLSWriteCoalescingHandler.recordPayload - 1)), promise: nil)
        channel.write(ByteBuffer(string: "z"), promise: nil)
        channel.flush()
        let out = try outbound(channel)
        #expect(out.joined() == "head" + big + "a" + String(repeating: "y", count: TLSWriteCoalescingHandler.recordPayload - 1) + "z")
        #expect(out.count == 4, "head | big | a+y… (one record) | z: \(out.map(\.count))")
        #expect(out.allSatisfy { $0.utf8.count <= TLSWriteCoalescingHandler.recordPayload })
        _ = try channel.finish()
    }

    /// A close finds the held write where it would be without this handler: written, not flushed. The
    /// bytes and the promise's outcome are the same as on a channel without it.
    @Test func aCloseReleasesWhatIsHeld() throws {
        func run(_ channel: EmbeddedChannel) throws -> ([String], Bool?) {
            channel.write(ByteBuffer(string: "last words"), promise: nil)
            channel.flush()
            let unflushed = channel.eventLoop.makePromise(of: Void.self)
            channel.write(ByteBuffer(string: "unflushed"), promise: unflushed)
            _ = channel.close(mode: .all)
            let result = outcome(unflushed)
            if result == nil { unflushed.fail(ChannelError.ioOnClosedChannel) }  // never leak a promise
            return (try outbound(channel), result)
        }
        let with = try run(try channel())
        let without = try run(EmbeddedChannel())
        #expect(with.0 == without.0 && with.1 == without.1, "with: \(with), without: \(without)")
        #expect(with.0.first == "last words")
    }
}
