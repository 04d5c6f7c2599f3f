import Logging
import TFRegAPI
import TFRegCore
import TFRegTesting
import Testing

@testable import TFRegLambda

/// Issue 18, item 6: the Lambda transport's access line is `RegistryAPI`'s observation of the request
/// (route template, status, principal) in the invocation's own line (handler time, AWS calls).
@Suite struct InvocationLogTests {
    @Test func theInvocationLineCarriesTheRouteAndThePrincipalButNoToken() async throws {
        let (handler, secret, dir) = try await LinkBaseTests.handler(format: .httpV2, publicURL: "https://registry.example.com")
        defer { dir.remove() }
        let lines = LogCapture()
        var logger = lines.logger()
        logger.logLevel = .debug
        let event = LinkBaseTests.event(.httpV2, token: secret, host: "registry.example.com", domain: "registry.example.com")
        let runtime = FakeRuntime([Invocation(requestID: "inv-1", event: Array(event.utf8))])
        try await runUntilDrained(runtime, logger) { invocation, log in try await handler.handle(invocation, logger: log) }
        let line = try #require(lines.all.first { $0.message == "invocation" })
        #expect(line.metadata["route"] == "/v1/modules/{namespace}/{name}/{system}/{version}/download", "\(line.metadata)")
        #expect(line.metadata["status"] == "204" && line.metadata["method"] == "GET")
        #expect(line.metadata["principal"]?.hasPrefix("token:ci#") == true, "\(line.metadata)")
        // The invocation's id stays the line's request id; the front end's id for the request is kept too.
        #expect(line.metadata["request_id"] == "inv-1" && line.metadata["api_request_id"] == "r")
        #expect(line.metadata["aws_calls"] == "0" && line.metadata["handler_us"] != nil)
        #expect(!lines.all.contains { entry in entry.metadata.values.contains { $0.contains(secret) } })
    }

    @Test func theHandlerOutsideTheLoopObservesNothing() async throws {
        let (handler, secret, dir) = try await LinkBaseTests.handler(format: .httpV2, publicURL: "https://registry.example.com")
        defer { dir.remove() }
        #expect(handler.api.observers.count == 1)
        let event = LinkBaseTests.event(.httpV2, token: secret, host: "registry.example.com", domain: "registry.example.com")
        _ = try await handler.handle(Invocation(requestID: "inv-2", event: Array(event.utf8)), logger: Logger(label: "test"))
        #expect(InvocationObservation.current == nil)
    }
}
