import NIOCore

/// Joins the small writes of one flush into one buffer before they reach `NIOSSLHandler`, which turns
/// every write into its own TLS record: a response's head and body were two records (two AES-GCM
/// seals here, two record decryptions at the client), where nginx sends one. Writes are held only
/// until the next flush and only while they fit in one record (16 KiB); a larger write (a streamed
/// archive chunk) goes on at once, after what was held, so the order of bytes never changes.
/// Sits right behind the TLS handler (only on TLS connections: a plain socket writes many buffers
/// with one `writev`).
final class TLSWriteCoalescingHandler: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// The largest TLS record payload (RFC 8446 §5.1).
    static let recordPayload = 16 * 1024

    private var held: ByteBuffer?
    private var heldPromise: EventLoopPromise<Void>?

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let buffer = unwrapOutboundIn(data)
        if var joined = held {
            if joined.readableBytes + buffer.readableBytes <= Self.recordPayload {
                held = nil  // one owner while appending: no copy of what is held
                joined.writeImmutableBuffer(buffer)
                held = joined
                chain(promise)
                return
            }
            writeHeld(context)
        }
        if buffer.readableBytes < Self.recordPayload {
            held = buffer
            heldPromise = promise
        } else {
            context.write(data, promise: promise)
        }
    }

    func flush(context: ChannelHandlerContext) {
        writeHeld(context)
        context.flush()
    }

    /// A close goes down behind what was written before it, as it would without this handler.
    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        writeHeld(context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        writeHeld(context)
    }

    private func chain(_ promise: EventLoopPromise<Void>?) {
        guard let promise else { return }
        if let heldPromise {
            heldPromise.futureResult.cascade(to: promise)
        } else {
            heldPromise = promise
        }
    }

    private func writeHeld(_ context: ChannelHandlerContext) {
        guard let buffer = held else { return }
        let promise = heldPromise
        held = nil
        heldPromise = nil
        context.write(wrapOutboundOut(buffer), promise: promise)
    }
}
