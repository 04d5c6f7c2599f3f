import Foundation
import Testing

/// Issue "Trust II" item 4: malformed requests over a raw socket get a 4xx with a JSON body (never
/// Hummingbird's bare 400), links are not built from a client's Host, and mutated tokens are refused
/// with 401 + JSON without hurting the process.
@Suite(.serialized) struct MalformedRequestTests {
    static let cases: [(name: String, bytes: String)] = [
        ("bad request line", "GARBAGE\r\n\r\n"),
        ("request line without version", "GET /health\r\n\r\n"),
        ("HTTP/0.9", "GET /\r\n"),
        ("unsupported version", "GET /health HTTP/3.7\r\nHost: 127.0.0.1\r\n\r\n"),
        ("unknown method", "FROB /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("method with a bad character", "GE(T /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("space in target", "GET /hea lth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("NUL in header", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u{0}b\r\n\r\n"),
        ("header without colon", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nNoColonHere\r\n\r\n"),
        ("space before colon", "GET /health HTTP/1.1\r\nHost : 127.0.0.1\r\n\r\n"),
        ("obs-fold", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n  folded\r\n\r\n"),
        ("bare LF line ends", "GET /health HTTP/1.1\nHost: 127.0.0.1\n\n"),
        ("oversized header", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + String(repeating: "a", count: 100_000) + "\r\n\r\n"),
        (
            "two Content-Length",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"
        ),
        ("non-numeric Content-Length", "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3x\r\n\r\nabc"),
        ("negative Content-Length", "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n"),
        (
            "Content-Length with Transfer-Encoding",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        ),
        (
            "bad chunk size",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n"
        ),
        ("unknown transfer coding", "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip\r\n\r\nabc"),
        ("two Host headers", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n"),
        ("no Host header", "GET /health HTTP/1.1\r\n\r\n"),
        ("empty Host", "GET /health HTTP/1.1\r\nHost: \r\n\r\n"),
        ("Host with a path", "GET /health HTTP/1.1\r\nHost: evil.example/x\r\n\r\n"),
        ("Host with userinfo", "GET /health HTTP/1.1\r\nHost: user@evil.example\r\n\r\n"),
        ("Host with port 0", "GET /health HTTP/1.1\r\nHost: 127.0.0.1:0\r\n\r\n"),
        ("Host with port 65536", "GET /health HTTP/1.1\r\nHost: 127.0.0.1:65536\r\n\r\n"),
        ("Host with two ports", "GET /health HTTP/1.1\r\nHost: a.example:1:2\r\n\r\n"),
        ("Host with a bad IPv6 literal", "GET /health HTTP/1.1\r\nHost: [::g]\r\n\r\n"),
        ("Host label starting with a hyphen", "GET /health HTTP/1.1\r\nHost: -a.example\r\n\r\n"),
        ("Host with an empty label", "GET /health HTTP/1.1\r\nHost: a..example\r\n\r\n"),
        ("Host that is a bad IPv4 address", "GET /health HTTP/1.1\r\nHost: 999.1.1.1\r\n\r\n"),
        ("Expect other than 100-continue", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: teapot\r\n\r\n"),
        ("two Expect headers", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 100-continue\r\nExpect: 100-continue\r\n\r\n"),
        ("lower-case method", "get /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("lower-case protocol", "GET /health http/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("trailing garbage after the version", "GET /health HTTP/1.1 x\r\nHost: 127.0.0.1\r\n\r\n"),
        ("control character in the target", "GET /he\u{1}alth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("DEL in the target", "GET /he\u{7f}alth HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("request target too long", "GET /" + String(repeating: "a", count: 100_000) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
        ("too many headers (over 80 KiB)", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + String(repeating: "X-A: b\r\n", count: 21_000) + "\r\n"),
        ("space inside a header name", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX A: b\r\n\r\n"),
        ("bad character in a header name", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX(A): b\r\n\r\n"),
        ("empty header name", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n: b\r\n\r\n"),
        ("bare CR in a header value", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n"),
        ("whitespace before the first header", "GET /health HTTP/1.1\r\n Host: 127.0.0.1\r\n\r\n"),
        (
            "Content-Length overflowing 64 bits",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999999999999999999999\r\n\r\n"
        ),
        ("Content-Length list", "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 3, 3\r\n\r\nabc"),
        (
            "chunk size overflowing 64 bits",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFFF\r\nabc\r\n"
        ),
        (
            "chunk without CRLF after the data",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n"
        ),
        (
            "bad chunk extension",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n3;\u{1}\r\nabc\r\n0\r\n\r\n"
        ),
        (
            "chunked not last",
            "POST /v1/modules/a/b/c/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked, gzip\r\n\r\n3\r\nabc\r\n0\r\n\r\n"
        ),
        ("Host with a space", "GET /health HTTP/1.1\r\nHost: evil example\r\n\r\n"),
        ("Host with a quote", "GET /health HTTP/1.1\r\nHost: evil\"example\r\n\r\n"),
        ("Host with a zone id", "GET /health HTTP/1.1\r\nHost: [fe80::1%25eth0]\r\n\r\n"),
        ("Host with percent-encoding", "GET /health HTTP/1.1\r\nHost: evil%2eexample\r\n\r\n"),
        ("Host with a trailing dot", "GET /health HTTP/1.1\r\nHost: registry.example.com.\r\n\r\n"),
        ("Host with a very long label", "GET /health HTTP/1.1\r\nHost: " + String(repeating: "a", count: 64) + ".example\r\n\r\n"),
    ]

    /// (Two spaces between request-line parts are accepted, as RFC 9112 §3 allows; not listed.)
    @Test func everyMalformedRequestGetsA4xxWithAJSONBody() throws {
        let server = try ServerProcess(tls: false)
        #expect(server.logText.contains("neither --public-url/TFREG_PUBLIC_URL nor TFREG_AUDIENCE is set"))
        var failures: [String] = []
        for (name, bytes) in Self.cases {
            let c = try RawConnection(port: server.port)
            c.send(Array(bytes.utf8))
            let (data, closed) = c.readUntilClosed(timeout: 5)
            let text = String(decoding: data, as: UTF8.self)
            let statusLine = text.prefix(while: { $0 != "\r" })
            let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") ?? 0
            let parts = text.components(separatedBy: "\r\n\r\n")
            let head = parts[0].lowercased()
            let body = parts.count > 1 ? parts[1] : ""
            if !(400..<500).contains(status) || !head.contains("content-type: application/json") || !body.hasPrefix(#"{"errors":[""#) || !closed {
                failures.append("\(name): \(text.prefix(300).debugDescription) closed=\(closed)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        // Well-formed requests still work, Host with a port and an IPv6 literal included.
        for host in ["127.0.0.1", "127.0.0.1:\(server.port)", "registry.example.com", "[::1]:8443", "[2001:db8::1]"] {
            let c = try RawConnection(port: server.port)
            c.send("GET /health HTTP/1.1\r\nHost: \(host)\r\n\r\n")
            #expect(c.readResponse(timeout: 5)?.head.hasPrefix("HTTP/1.1 200") == true, "Host: \(host)")
        }
        // A bad chunk in the middle of an upload the API is reading (authorized): still a JSON 400.
        let rw = try server.token("rw", namespace: "acme", flags: ["-u"])
        let upload = try RawConnection(port: server.port)
        upload.send(
            "POST /v1/modules/acme/net/aws/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer \(rw)\r\nContent-Type: application/gzip\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n"
        )
        usleep(300_000)
        upload.send("zz\r\n")
        let (data, closed) = upload.readUntilClosed(timeout: 5)
        let text = String(decoding: data, as: UTF8.self)
        #expect(
            text.hasPrefix("HTTP/1.1 400") && text.contains(#"{"errors":["malformed HTTP request: invalid chunked encoding"]}"#) && closed,
            "\(text)"
        )
        #expect(try SlowClientTests.health(server, tls: false))
        #expect(server.stop() == 0)
    }

    /// Issue "Trust III" finding 9: the HTTP residuals a second review found.
    @Test func httpResidualsAreAnsweredAndClosed() throws {
        let server = try ServerProcess(tls: false)
        func exchange(_ request: String) throws -> (text: String, closed: Bool, seconds: Double) {
            let c = try RawConnection(port: server.port)
            c.send(request)
            var result: (data: [UInt8], closed: Bool) = ([], false)
            let t = seconds { result = c.readUntilClosed(timeout: 5) }
            return (String(decoding: result.data, as: UTF8.self), result.closed, t)
        }
        // CONNECT: a 400 with its Content-Length and body (NIO's encoder drops both from an answer
        // to CONNECT), then a close.
        let connect = try exchange("CONNECT evil.example:443 HTTP/1.1\r\nHost: evil.example:443\r\n\r\n")
        #expect(connect.text.hasPrefix("HTTP/1.1 400"), "\(connect.text)")
        #expect(connect.text.lowercased().contains("content-length: "), "\(connect.text)")
        #expect(connect.text.hasSuffix(#"{"errors":["CONNECT is not supported"]}"#) && connect.closed, "\(connect)")
        // HTTP/1.0 without keep-alive, and HTTP/1.1 with `Connection: Close`: closed after the answer.
        for request in [
            "GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n", "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Close\r\n\r\n",
        ] {
            let r = try exchange(request)
            #expect(r.text.hasPrefix("HTTP/1.1 200") && r.closed && r.seconds < 2, "\(request.debugDescription): \(r)")
            #expect(r.text.lowercased().contains("connection: close"), "\(r.text)")
        }
        // HTTP/1.0 with keep-alive stays open for the next request.
        let keep = try RawConnection(port: server.port)
        keep.send("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        #expect(keep.readResponse(timeout: 5)?.head.hasPrefix("HTTP/1.1 200") == true)
        keep.send("GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n")
        #expect(keep.readResponse(timeout: 5)?.head.hasPrefix("HTTP/1.1 200") == true)
        // A transfer coding other than exactly chunked: 400, not decoded as chunked.
        let te = try exchange(
            "POST /v1/modules/acme/net/aws/1.0.0/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"
        )
        #expect(te.text.hasPrefix("HTTP/1.1 400") && te.text.contains("Transfer-Encoding") && te.closed, "\(te)")
        // A decoder error behind a pipelined request: the request's own answer (401: no token) first,
        // then the 400, then the close.
        let piped = try exchange(
            "GET /v1/modules/acme/net/aws/versions HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\nGET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX A: b\r\n\r\n"
        )
        let statuses = piped.text.components(separatedBy: "HTTP/1.1 ").dropFirst().map { $0.prefix(3) }
        #expect(statuses == ["401", "400"] && piped.closed, "\(piped.text)")
        // The head limit is 80 KiB, not a count of fields: 2 000 fields in 60 KiB are served.
        let many = try RawConnection(port: server.port)
        many.send(
            "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + (0..<2000).map { "X-F\($0): \(String(repeating: "v", count: 20))\r\n" }.joined() + "\r\n"
        )
        let manyAnswer = many.readResponse(timeout: 5)
        #expect(manyAnswer?.head.hasPrefix("HTTP/1.1 200") == true, "\(String(describing: manyAnswer))")
        #expect(try SlowClientTests.health(server, tls: false))
        #expect(server.stop() == 0)
    }

    @Test func downloadLinksComeFromTheConfiguredURLNotTheHostHeader() throws {
        let port = try MotoServer.freePort()
        let server = try ServerProcess(extraEnv: ["TFREG_AUDIENCE": "127.0.0.1:\(port)"], port: port, tls: false)
        #expect(!server.logText.contains("neither --public-url"))
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let c = try RawConnection(port: server.port)
        c.send("GET /v1/modules/acme/net/aws/1.0.0/download HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer \(rw)\r\n\r\n")
        // No such module yet: 404, but the point is the process did not build anything from evil.example.
        let answer = c.readResponse(timeout: 5)
        #expect(answer?.head.hasPrefix("HTTP/1.1 404") == true, "\(String(describing: answer))")
        try writeModule(at: server.dir + "/m", version: "1.0.0")
        let curl = which("curl") ?? "/usr/bin/curl"
        let archive = server.dir + "/m.tar.gz"
        _ = try server.tfreg([
            "publish", server.dir + "/m", "--registry", "127.0.0.1:\(port)", "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0",
            "--dry-run", "--archive-file", archive,
        ])
        let up = try runCommand(
            curl,
            [
                "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \(rw)", "-H", "Content-Type: application/gzip",
                "--data-binary", "@" + archive, "http://127.0.0.1:\(port)/v1/modules/acme/net/aws/1.0.0/upload",
            ]
        )
        #expect(up.stdout.hasPrefix("20"), "upload gave \(up.stdout)")
        let d = try RawConnection(port: server.port)
        d.send("GET /v1/modules/acme/net/aws/1.0.0/download HTTP/1.1\r\nHost: evil.example\r\nAuthorization: Bearer \(rw)\r\n\r\n")
        let download = try #require(d.readResponse(timeout: 5))
        #expect(download.head.hasPrefix("HTTP/1.1 204"))
        #expect(download.head.lowercased().contains("x-terraform-get: https://127.0.0.1:\(port)/v1/archives/acme/net/aws/1.0.0/"), "\(download.head)")
        #expect(!download.head.contains("evil.example"))
        #expect(server.stop() == 0)
    }

    @Test func mutatedTokensAreRefusedWithJSONAndTheServerSurvives() throws {
        let port = try MotoServer.freePort()
        let server = try ServerProcess(
            extraEnv: ["TFREG_AUDIENCE": "127.0.0.1:\(port)", "AWS_EC2_METADATA_DISABLED": "true"],
            port: port,
            tls: false
        )
        #expect(server.logText.contains("IAM authentication on"))
        let rw = try server.token("rw", namespace: "acme", flags: ["-d"])
        // A sealed token has the shape tfi_ + base64url; the seeds are a real static token and a
        // plausible sealed one, mutated with a fixed xorshift seed into visible ASCII only.
        var x: UInt64 = 0x5_DEEC_E66D
        func next() -> Int {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            return Int(truncatingIfNeeded: x & 0x7fff_ffff)
        }
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/.~!$%&*".utf8)
        let sealedShape = "tfi_" + String(decoding: (0..<180).map { _ in alphabet[next() % 64] }, as: UTF8.self)
        var c = try RawConnection(port: server.port)
        var failures: [String] = []
        for i in 0..<1000 {
            var token = Array((i % 2 == 0 ? rw : sealedShape).utf8)
            for _ in 0..<(1 + next() % 4) where token.count > 5 {
                let at = next() % token.count
                switch next() % 5 {
                case 0: token[at] = alphabet[next() % alphabet.count]
                case 1: token.remove(at: at)
                case 2: token.insert(alphabet[next() % alphabet.count], at: at)
                case 3: token = Array(token[..<max(at, 5)])
                default: token += token[at...].prefix(50)
                }
            }
            if token == Array(rw.utf8) { token.append(UInt8(ascii: "x")) }
            let path = i % 3 == 0 ? "/v1/modules/acme/net/aws/1.0.0/download" : "/v1/modules/acme/net/aws/versions"
            if !c.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(String(decoding: token, as: UTF8.self))\r\n\r\n") {
                c = try RawConnection(port: server.port)
                c.send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1:\(port)\r\nAuthorization: Bearer \(String(decoding: token, as: UTF8.self))\r\n\r\n")
            }
            guard let r = c.readResponse(timeout: 5) else {
                failures.append("#\(i): no answer")
                c = try RawConnection(port: server.port)
                continue
            }
            if !r.head.hasPrefix("HTTP/1.1 401") || !r.body.hasPrefix(#"{"errors":[""#) {
                failures.append("#\(i) \(String(decoding: token, as: UTF8.self).prefix(40)): \(r.head.prefix(40)) \(r.body.prefix(80))")
            }
            if r.head.lowercased().contains("connection: close") { c = try RawConnection(port: server.port) }
        }
        #expect(failures.isEmpty, "\(failures.count) of 1000: \(failures.prefix(10).joined(separator: "\n"))")
        #expect(server.process.isRunning)
        #expect(try SlowClientTests.health(server, tls: false))
        #expect(server.stop() == 0)
    }
}
