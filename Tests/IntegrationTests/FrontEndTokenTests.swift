import Foundation
import Testing

/// `tfreg token` against an IAM-authorizing front end (API Gateway with AWS_IAM): a loopback HTTPS
/// server that checks the client's SigV4 signature for `execute-api` with botocore, as the gateway
/// would, before answering. The client learns from discovery that it must sign GET /token, and for
/// which region (a custom domain's host name does not say; the client's own region is another), and it
/// asks for JSON (`Accept: application/json`; without it tfreg answers the bare token as text).
@Suite struct FrontEndTokenTests {
    static let frontEnd = #"""
        import http.server, json, ssl, sys, urllib.parse
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials
        cert, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
        class H(http.server.BaseHTTPRequestHandler):
            def reply(self, status, obj):
                data = json.dumps(obj).encode()
                self.send_response(status); self.send_header("Content-Type", "application/json"); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
            def do_GET(self):
                if self.path == "/.well-known/terraform.json":
                    return self.reply(200, {"modules.v1": "/v1/modules/", "tfreg.v1": {"auth": ["static-token", "sts-presigned", "iam-front-end"], "token": "/token", "token_service": "execute-api", "token_region": "ap-southeast-2"}})
                if not self.path.startswith("/token?"):
                    return self.reply(404, {"errors": ["no"]})
                auth = self.headers.get("Authorization", "")
                try:
                    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
                    akid, date, region, service, _ = fields["Credential"].split("/")
                    signed = fields["SignedHeaders"].split(";")
                except Exception:
                    return self.reply(403, {"message": "Missing Authentication Token"})
                req = AWSRequest(method="GET", url="https://" + self.headers["Host"] + self.path, headers={h: self.headers[h] for h in signed})
                req.context["timestamp"] = self.headers["X-Amz-Date"]
                signer = SigV4Auth(Credentials(akid, secret, self.headers.get("X-Amz-Security-Token")), service, region)
                expected = signer.signature(signer.string_to_sign(req, signer.canonical_request(req)), req)
                if service != "execute-api" or region != "ap-southeast-2" or expected != fields["Signature"]:
                    return self.reply(403, {"message": "The request signature we calculated does not match the signature you provided."})
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
                if "application/json" not in self.headers.get("Accept", ""):
                    # As tfreg answers a client that does not ask for JSON: the bare token as text.
                    data = b"tfi_bare_text"
                    self.send_response(200); self.send_header("Content-Type", "text/plain; charset=utf-8"); self.send_header("Content-Length", str(len(data))); self.end_headers(); self.wfile.write(data)
                    return
                self.reply(200, {"token": "tfi_from_front_end_" + q["expiration_seconds"][0], "principal": "arn:aws:iam::123456789012:role/dev"})
            def log_message(self, *a): pass
        s = http.server.HTTPServer(("127.0.0.1", 0), H)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER); ctx.load_cert_chain(cert, key)
        s.socket = ctx.wrap_socket(s.socket, server_side=True)
        print(s.server_address[1], flush=True)
        s.serve_forever()
        """#

    @Test func tokenSignsGetTokenForTheFrontEndItDiscovers() throws {
        let dir = makeTemporaryDirectory("front-end")
        let (cert, key) = try makeDevCertificate(in: dir)
        let secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
        let p = Process()
        p.executableURL = URL(fileURLWithPath: which("python3")!)
        p.arguments = ["-c", Self.frontEnd, cert, key, secret]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        defer {
            kill(p.processIdentifier, SIGKILL)
            p.waitUntilExit()
        }
        let port = try #require(
            Int(String(decoding: out.fileHandleForReading.availableData, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
        )
        let env = [
            "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": "session-token", "AWS_REGION": "eu-west-1",
            "AWS_EC2_METADATA_DISABLED": "true", "SSL_CERT_FILE": cert, "HOME": dir,
        ]
        let ok = try runCommand(TFRegBinary.path, ["token", "-r", "127.0.0.1:\(port)", "-T", "450", "token"], env: env)
        #expect(ok.status == 0 && ok.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "tfi_from_front_end_450", "\(ok.stdout) \(ok.stderr)")
        // Signed with the wrong secret, the front end refuses and the client says so.
        let bad = try runCommand(
            TFRegBinary.path,
            ["token", "-r", "127.0.0.1:\(port)", "token"],
            env: env.merging(["AWS_SECRET_ACCESS_KEY": "wrong"]) { _, b in b }
        )
        #expect(bad.status != 0 && bad.stderr.contains("HTTP 403"), "\(bad.stderr)")
        // --service lambda signs for another service: refused here, which shows the flag is honoured.
        let lambda = try runCommand(TFRegBinary.path, ["token", "-r", "127.0.0.1:\(port)", "--service", "lambda", "token"], env: env)
        #expect(lambda.status != 0 && lambda.stderr.contains("403"), "\(lambda.stderr)")
    }
}
