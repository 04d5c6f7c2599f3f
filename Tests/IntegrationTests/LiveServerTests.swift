import Foundation
import TFRegHTTPClient
import Testing

/// The registry over a real socket and TLS: `tfreg serve` as a child process, `tfreg grant` and
/// `tfreg publish` as CLI calls, libcurl as the client.
@Suite(.serialized) struct LiveServerTests {
    @Test func publishDownloadAndArchiveOverHTTPS() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let moduleDir = server.dir + "/mod"
        try writeModule(at: moduleDir, version: "1.0.0")
        let published = try server.tfreg([
            "publish", moduleDir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0", "--token", rw,
        ])
        #expect(published.status == 0, "\(published.stderr)")
        #expect(published.stdout.contains("published acme/net/aws 1.0.0"))

        // The same archive packed locally has the digest the server recorded and serves.
        let dry = try server.tfreg([
            "publish", moduleDir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0", "--dry-run",
            "--archive-file", server.dir + "/local.tar.gz",
        ])
        let localDigest = try #require(dry.stdout.split(separator: ":").last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) })

        let client = server.client
        let auth = [(name: "Authorization", value: "Bearer \(rw)")]
        let disco = try await client.send(HTTPRequest(url: server.baseURL + "/.well-known/terraform.json"))
        #expect(disco.status == 200 && disco.bodyText.contains(#""modules.v1":"/v1/modules/""#))
        let versions = try await client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/versions", headers: auth))
        #expect(versions.status == 200)
        #expect(versions.bodyText.contains(#"{"version":"1.0.0"}"#))
        let download = try await client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/1.0.0/download", headers: auth))
        #expect(download.status == 204)
        let archiveURL = try #require(download.header("x-terraform-get"))
        #expect(archiveURL.hasPrefix(server.baseURL + "/v1/archives/acme/net/aws/1.0.0/" + localDigest + ".tar.gz?"), "\(archiveURL)")

        // HEAD then GET without a token, as go-getter does.
        let head = try await client.send(HTTPRequest(method: "HEAD", url: archiveURL))
        #expect(head.status == 200)
        let get = try await client.send(HTTPRequest(url: archiveURL))
        #expect(get.status == 200)
        #expect(head.header("content-length") == String(get.body.count))
        let served = try Data(contentsOf: URL(fileURLWithPath: server.dir + "/local.tar.gz"))
        #expect(Array(served) == get.body)
        #expect(get.header("etag") == "\"\(localDigest)\"")

        // Errors over the wire are JSON with the right status.
        let noToken = try await client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/versions"))
        #expect(noToken.status == 401 && noToken.bodyText.hasPrefix(#"{"errors":["#))
        let tampered = try await client.send(HTTPRequest(url: archiveURL.replacingOccurrences(of: "signature=", with: "signature=A")))
        #expect(tampered.status == 403)
        let dup = try server.tfreg([
            "publish", moduleDir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0", "--token", rw,
        ])
        #expect(dup.status != 0 && dup.stderr.contains("HTTP 409"))
        // Names are case-insensitive: another spelling is refused with the stored one named.
        let spelled = try server.tfreg([
            "publish", moduleDir, "--registry", server.host, "-n", "ACME", "--name", "Net", "--system", "aws", "--version", "2.0.0", "--token", rw,
        ])
        #expect(spelled.status != 0, "\(spelled.stderr)")
        #expect(spelled.stderr.contains("HTTP 409: ACME/Net/aws is another spelling of module acme/net/aws"), "\(spelled.stderr)")

        #expect(server.stop() == 0)
        #expect(server.logText.contains(#""message":"stopped""#))
        // The one download link issued above was counted and written when serve stopped.
        let query = "import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute(\"SELECT downloads FROM module_summaries\").fetchone()[0])"
        let counted = try runCommand("/usr/bin/env", ["python3", "-c", query, server.dataDir + "/registry.db"])
        #expect(counted.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "1", "\(counted.stdout) \(counted.stderr)")
        #expect(!server.logText.contains(rw), "the token must never appear in logs")
        #expect(!server.logText.contains("signature="), "signed links must not be logged")
    }

    @Test func garbageOnTheSocketDoesNotHurtTheServer() async throws {
        let server = try ServerProcess()
        // Plain-text HTTP and random bytes at a TLS port, then raw malformed requests over TLS.
        for payload in ["GET / HTTP/1.1\r\nHost: x\r\n\r\n", String(repeating: "\u{16}\u{03}\u{01}garbage", count: 100)] {
            _ = try runCommand(
                "/bin/bash",
                ["-c", "exec 3<>/dev/tcp/127.0.0.1/\(server.port) && printf '%s' \"$P\" >&3 && timeout 3 cat <&3 >/dev/null; true"],
                env: ["P": payload]
            )
        }
        let curl = which("curl") ?? "/usr/bin/curl"
        for path in ["/v1/modules/../../etc/passwd", "/v1/modules/%2e%2e/x/aws/versions", "/v1/modules/a/b/c/%ff%fe/download", "/%00"] {
            let r = try runCommand(
                curl,
                ["-s", "--path-as-is", "--cacert", server.cert, "-o", "/dev/null", "-w", "%{http_code}", server.baseURL + path]
            )
            let code = Int(r.stdout) ?? 0
            #expect((400..<500).contains(code), "\(path) gave \(r.stdout)")
        }
        let header = try runCommand(
            curl,
            [
                "-s", "--cacert", server.cert, "-o", "/dev/null", "-w", "%{http_code}", "-H", "Authorization: Bearer \u{7f}\u{1}",
                server.baseURL + "/v1/modules/a/b/c/versions",
            ]
        )
        #expect(header.stdout == "401" || header.stdout == "400", "control characters in Authorization gave \(header.stdout)")
        let health = try await server.client.send(HTTPRequest(url: server.baseURL + "/health"))
        #expect(health.status == 200)
        #expect(server.stop() == 0)
    }

    @Test func sigtermLetsAnInFlightUploadFinish() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        // A large module (40 MiB of incompressible-ish content) takes a moment to upload and inspect.
        let moduleDir = server.dir + "/big"
        try writeModule(at: moduleDir, version: "1.0.0")
        var blob = [UInt8](repeating: 0, count: 30 << 20)
        var x: UInt64 = 0x9E37_79B9_7F4A_7C15
        for i in blob.indices {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            blob[i] = UInt8(truncatingIfNeeded: x)
        }
        try Data(blob).write(to: URL(fileURLWithPath: moduleDir + "/blob.bin"))
        let pid = server.process.processIdentifier
        let upload = Task.detached {
            try server.tfreg([
                "publish", moduleDir, "--registry", server.host, "-n", "acme", "--name", "big", "--system", "aws", "--version", "1.0.0", "--token",
                rw,
            ])
        }
        // Wait until the server has seen the upload begin (its body is being staged), then SIGTERM.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            let staging = (try? FileManager.default.contentsOfDirectory(atPath: server.dataDir + "/tmp")) ?? []
            if staging.contains(where: { $0.hasSuffix(".partial") }) { break }
            try await Task.sleep(for: .milliseconds(2))  // not usleep: the upload task needs a cooperative thread
        }
        kill(pid, SIGTERM)
        let result = try await upload.value
        #expect(result.status == 0, "in-flight upload after SIGTERM: \(result.stderr)")
        #expect(server.stop() == 0)
        #expect(server.logText.contains(#""message":"stopped""#))
    }
}
