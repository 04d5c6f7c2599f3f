import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOEmbedded
import TFRegAPI
import Testing

@testable import TFRegServer

/// The peer address of a request (`APIRequest.sourceIP`, what audit events record). A read looks it up
/// only if asked (issue 17: the channel's lock and `inet_ntop` per request); a write reads it when the
/// request is made, because its audit event is recorded after the change, when a client that reset the
/// connection has already taken the channel's address with it (NIO clears it on close).
@Suite struct SourceAddressTests {
    func request(_ method: HTTPRequest.Method) -> Request {
        Request(
            head: HTTPRequest(method: method, scheme: "https", authority: "registry.example.com", path: "/v1/modules/acme/vpc/aws/1.0.0"),
            body: RequestBody(buffer: ByteBuffer())
        )
    }

    @Test(arguments: [HTTPRequest.Method.post, .put, .delete, .patch, .options])
    func aWriteKeepsTheAddressAfterTheConnectionIsGone(_ method: HTTPRequest.Method) throws {
        let channel = EmbeddedChannel()
        channel.remoteAddress = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        let api = RegistryServer.makeRequest(request(method), scheme: "https", requestID: "r", channel: channel)
        channel.remoteAddress = nil
        #expect(api.sourceIP == "192.0.2.7")
    }

    @Test(arguments: [HTTPRequest.Method.get, .head])
    func aReadLooksItUpOnlyWhenAsked(_ method: HTTPRequest.Method) throws {
        let channel = EmbeddedChannel()
        channel.remoteAddress = try SocketAddress(ipAddress: "192.0.2.7", port: 40_000)
        let api = RegistryServer.makeRequest(request(method), scheme: "https", requestID: "r", channel: channel)
        #expect(api.sourceIP == "192.0.2.7")
        // Looked up when read: after the channel dropped it, nothing (a read records no audit event).
        channel.remoteAddress = nil
        #expect(api.sourceIP == nil)
    }
}
