import Foundation
import Glibc
import TFRegHTTPClient
import Testing

/// A loopback HTTP/1.1 server in a Python child process (standard library only): echoes the request
/// as `METHOD PATH` + the body, and answers a few paths specially. No internet.
final class EchoServer: @unchecked Sendable {
    static let script = #"""
        import http.server, sys, time
        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            def log_message(self, *a): pass
            def answer(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                if self.path.startswith("/slow"):
                    time.sleep(3)
                status = 404 if self.path.startswith("/missing") else 200
                out = (self.command + " " + self.path + "\n").encode() + body
                self.send_response(status)
                self.send_header("Content-Length", str(len(out)))
                self.send_header("X-Mixed-Case", "  spaced value\t")
                self.send_header("X-Seen-Header", self.headers.get("X-Test") or "")
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(out)
            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer
        s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    let process = Process()
    let port: Int

    init() throws {
        let out = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", Self.script]
        process.standardOutput = out
        try process.run()
        var line = Data()
        while let byte = try out.fileHandleForReading.read(upToCount: 1), !byte.isEmpty, byte != Data("\n".utf8) { line += byte }
        guard let p = Int(String(decoding: line, as: UTF8.self)) else { throw CocoaError(.fileReadCorruptFile) }
        port = p
    }

    /// SIGKILL, then a bounded wait: Foundation's waitUntilExit can hang when called from a
    /// cooperative-pool thread on Linux (its run loop is never woken).
    deinit {
        kill(process.processIdentifier, SIGKILL)
        for _ in 0..<100 where process.isRunning { usleep(10_000) }
    }

    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }
}

@Suite(.serialized) struct CurlHTTPClientTests {
    let server: EchoServer
    let client = CurlHTTPClient()

    init() throws { server = try EchoServer() }

    @Test func getReturnsStatusLowercasedTrimmedHeadersAndBody() async throws {
        let r = try await client.send(HTTPRequest(url: server.url("/a?b=c"), headers: [("X-Test", "yes")], timeout: 10))
        #expect(r.status == 200)
        #expect(r.bodyText == "GET /a?b=c\n")
        #expect(r.headers.contains { $0.name == "x-mixed-case" && $0.value == "spaced value" })
        #expect(r.header("X-Seen-Header") == "yes")
    }

    @Test func postAndPutSendTheirBodies() async throws {
        let body = Array((0..<70_000).map { UInt8($0 % 251) })
        let post = try await client.send(HTTPRequest(method: "POST", url: server.url("/p"), body: body, timeout: 10))
        #expect(post.body == Array("POST /p\n".utf8) + body)
        let put = try await client.send(HTTPRequest(method: "PUT", url: server.url("/empty"), timeout: 10))
        #expect(put.bodyText == "PUT /empty\n")
        let delete = try await client.send(HTTPRequest(method: "DELETE", url: server.url("/d"), timeout: 10))
        #expect(delete.bodyText == "DELETE /d\n")
    }

    @Test func headHasNoBodyAndErrorStatusesAreAnswersNotErrors() async throws {
        let head = try await client.send(HTTPRequest(method: "HEAD", url: server.url("/h"), timeout: 10))
        #expect(head.status == 200 && head.body.isEmpty)
        let missing = try await client.send(HTTPRequest(url: server.url("/missing"), timeout: 10))
        #expect(missing.status == 404 && missing.bodyText == "GET /missing\n")
    }

    @Test func aSlowServerIsATimeoutAndTheURLQueryIsRedacted() async throws {
        let e = await #expect(throws: HTTPClientError.self) {
            try await client.send(HTTPRequest(url: server.url("/slow?X-Amz-Signature=secret"), timeout: 0.5))
        }
        #expect(e?.kind == .timeout)
        #expect(e.map { !$0.message.contains("secret") } ?? false)
    }

    @Test func aClosedPortIsAConnectError() async throws {
        let e = await #expect(throws: HTTPClientError.self) { try await client.send(HTTPRequest(url: "http://127.0.0.1:9/", timeout: 5)) }
        #expect(e?.kind == .connect)
    }

    @Test func handlesAreReusedAcrossManyConcurrentRequests() async throws {
        let client = self.client
        let url = server.url("/n")
        let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<20 { group.addTask { try await client.send(HTTPRequest(url: url, timeout: 10)).status } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(statuses == Array(repeating: 200, count: 20))
    }

    /// Found by review: `curl_easy_setopt` results were ignored. libcurl refuses strings longer than
    /// 8 000 000 bytes; the refusal is now reported with curl's message and the option's name, not
    /// discovered later as "No URL set" (or, for a timeout, not at all).
    @Test func aRefusedCurlOptionIsReportedWithCurlsMessage() async throws {
        let long = server.url("/" + String(repeating: "a", count: 8_000_001))
        let error = await #expect(throws: HTTPClientError.self) { try await client.send(HTTPRequest(url: long, timeout: 10)) }
        #expect(error?.message.contains("libcurl refused CURLOPT_URL") == true, "\(String(describing: error))")
        #expect(error?.message.contains(String(repeating: "a", count: 100)) == false, "the URL is not echoed whole")
        // The handle goes back to the pool and works for the next request.
        #expect(try await client.send(HTTPRequest(url: server.url("/ok"), timeout: 10)).status == 200)
    }
}
