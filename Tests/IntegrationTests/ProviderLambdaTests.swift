import Foundation
import TFRegAWS
import TFRegArchive
import TFRegCrypto
import Testing

extension MotoBackedTests {
    /// `tfreg lambda` (started as `bootstrap`) on DynamoDB + S3 (moto) answers the provider registry
    /// protocol for HTTP API v2 events (issue 20): a key added and a gpg-signed release uploaded through
    /// the function, then versions and download, whose links are S3 presigned URLs.
    @Suite(.serialized, .enabled(if: MotoServer.available && which("gpg") != nil, "moto_server or gpg is not installed (make test-deps)"))
    struct ProviderLambdaTests {
        @Test func versionsAndDownloadOverHTTPAPIv2() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            // The function reaches AWS through the gateway, which also answers presigned URLs like S3.
            let gateway = try S3Gateway(moto: moto)
            defer { gateway.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("provider-registry")
            try await S3Client(client: aws).createBucket("provider-blobs")
            let awsEnv = [
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": gateway.endpoint, "AWS_EC2_METADATA_DISABLED": "true",
            ]
            let admin = makeTemporaryDirectory("provider-lambda")
            let grant = try runCommand(
                TFRegBinary.path,
                ["grant", "create", "--table", "provider-registry", "-n", "acme", "--new-token", "ci", "-d", "-u", "-c"],
                env: awsEnv.merging(["HOME": admin]) { a, _ in a }
            )
            #expect(grant.status == 0, "\(grant.stderr)")
            let ci = grant.stdout.trimmingCharacters(in: .whitespacesAndNewlines)

            // A signed release made by gpg, as the terraform end-to-end test makes it.
            let gnupg = admin + "/gnupg"
            try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
            let gen = try runCommand(
                "/usr/bin/env",
                ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", "Release <release@example.com>", "ed25519", "sign", "never"],
                env: ["GNUPGHOME": gnupg]
            )
            #expect(gen.status == 0, "\(gen.stderr)")
            let armor = try runCommand("/usr/bin/env", ["gpg", "--armor", "--export", "release@example.com"], env: ["GNUPGHOME": gnupg]).stdout
            let release = try ProviderEndToEndTests().release("1.0.0", in: admin, gnupg: gnupg, key: "release@example.com")
            let names = try FileManager.default.contentsOfDirectory(atPath: release.dir).sorted()
            let tar = try TarWriter.archive(
                try names.map { TarEntry(path: $0, kind: .file([UInt8](try Data(contentsOf: URL(fileURLWithPath: release.dir + "/" + $0))))) }
            )

            let lambda = try LambdaHarness(
                env: awsEnv.merging([
                    "TABLE_NAME": "provider-registry", "RESOLVER_TYPE": "API_GATEWAY_HTTP", "TFREG_STORAGE": "s3://provider-blobs/registry",
                    "TFREG_AUDIENCE": "registry.example.com",
                ]) { a, _ in a }
            )
            defer { lambda.stop() }
            func event(_ method: String, _ path: String, query: String = "", body: Data? = nil, type: String? = nil, token: String? = ci) -> String {
                let ctx =
                    #""requestContext": {"accountId": "123456789012", "apiId": "abc", "domainName": "registry.example.com", "http": {"method": "\#(method)", "path": "\#(path)", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1"}, "requestId": "r1", "routeKey": "$default", "stage": "$default"}"#
                let auth = token.map { #", "authorization": "Bearer \#($0)""# } ?? ""
                let contentType = type.map { #", "content-type": "\#($0)""# } ?? ""
                let payload = body.map { #", "body": "\#($0.base64EncodedString())", "isBase64Encoded": true"# } ?? #", "isBase64Encoded": false"#
                return
                    #"{"version": "2.0", "routeKey": "$default", "rawPath": "\#(path)", "rawQueryString": "\#(query)", "headers": {"host": "registry.example.com"\#(auth)\#(contentType)}, \#(ctx)\#(payload)}"#
            }
            func answer(_ e: String) throws -> (status: Int, body: [String: Any], headers: [String: String]) {
                let r = try lambda.invoke(e)
                let d = json(r.body)
                return (d["statusCode"] as? Int ?? 0, json(d["body"] as? String ?? ""), d["headers"] as? [String: String] ?? [:])
            }

            let key = try answer(event("POST", "/v1/providers/acme/keys", body: Data(armor.utf8), type: "application/pgp-keys"))
            #expect(key.status == 201, "\(key.body)")
            let published = try answer(event("POST", "/v1/providers/acme/demo/1.0.0/upload", body: Data(tar), type: "application/x-tar"))
            #expect(published.status == 201, "\(published.body)\n\(lambda.log.text)")

            let versions = try answer(event("GET", "/v1/providers/acme/demo/versions"))
            #expect(versions.status == 200)
            let listed = (versions.body["versions"] as? [[String: Any]])?.first
            #expect(listed?["version"] as? String == "1.0.0")
            #expect((listed?["platforms"] as? [[String: String]])?.count == 2, "\(versions.body)")

            let download = try answer(event("GET", "/v1/providers/acme/demo/1.0.0/download/linux/amd64"))
            #expect(download.status == 200, "\(download.body)")
            #expect(download.body["shasum"] as? String == release.sha256["terraform-provider-demo_1.0.0_linux_amd64.zip"])
            // The link is the registry's: HEAD answers from the record (Terraform 1.11 sends it first, and
            // a URL presigned for GET refuses it); GET, without credentials, redirects to a presigned URL.
            let link = download.body["download_url"] as? String ?? ""
            #expect(link.hasPrefix("https://registry.example.com/v1/archives/providers/acme/demo/1.0.0/"), "\(link)")
            let (path, query) = (
                String(link.dropFirst("https://registry.example.com".count).prefix { $0 != "?" }), String(link.split(separator: "?")[1])
            )
            let zip = try Data(contentsOf: URL(fileURLWithPath: release.dir + "/terraform-provider-demo_1.0.0_linux_amd64.zip"))
            let head = try answer(event("HEAD", path, query: query, token: nil))
            #expect(head.status == 200 && head.headers["Content-Length"] == String(zip.count), "\(head)")
            let get = try answer(event("GET", path, query: query, token: nil))
            #expect(get.status == 302)
            let url = get.headers["Location"] ?? ""
            #expect(url.hasPrefix(gateway.endpoint) && url.contains("X-Amz-Signature="), "\(url)")
            let fetched = try runCommand(which("curl")!, ["-s", "-f", "-o", admin + "/fetched.zip", url])
            #expect(fetched.status == 0)
            #expect((try? Data(contentsOf: URL(fileURLWithPath: admin + "/fetched.zip"))) == zip)
            #expect(try answer(event("GET", path, query: query + "0", token: nil)).status == 403)
            let missing = try answer(event("GET", "/v1/providers/acme/demo/1.0.0/download/windows/amd64"))
            #expect(missing.status == 404 && missing.body["errors"] != nil)

            // A release too large for a Lambda request goes to the caller's bucket first, then `create`:
            // the function copies it (checksum checked), verifies it as an upload and publishes it.
            let next = try ProviderEndToEndTests().release("1.1.0", in: admin, gnupg: gnupg, key: "release@example.com")
            let nextNames = try FileManager.default.contentsOfDirectory(atPath: next.dir).sorted()
            let nextTar = try TarWriter.archive(
                try nextNames.map { TarEntry(path: $0, kind: .file([UInt8](try Data(contentsOf: URL(fileURLWithPath: next.dir + "/" + $0))))) }
            )
            try await S3Client(client: aws).createBucket("ci-uploads")
            try await S3Client(client: aws).putObject(bucket: "ci-uploads", key: "demo-1.1.0.tar", body: nextTar, contentType: "application/x-tar")
            func create(_ version: String, key: String, checksum: String, token: String? = ci) throws -> (status: Int, body: [String: Any]) {
                let body = Data(#"{"bucket": "ci-uploads", "key": "\#(key)", "expected_checksum": "\#(checksum)"}"#.utf8)
                let r = try answer(event("POST", "/v1/providers/acme/demo/\(version)/create", body: body, type: "application/json", token: token))
                return (r.status, r.body)
            }
            let digest = Hex.encode(SHA256.hash(nextTar))
            let wrongDigest = Hex.encode(SHA256.hash(nextTar + [0]))
            #expect(try create("1.1.0", key: "demo-1.1.0.tar", checksum: digest, token: nil).status == 401)
            #expect(try create("1.1.0", key: "demo-1.1.0.tar", checksum: wrongDigest).status == 400)
            #expect(try create("1.1.0", key: "absent.tar", checksum: digest).status == 400)
            let beforeCreate = try answer(event("GET", "/v1/providers/acme/demo/versions"))
            #expect((beforeCreate.body["versions"] as? [[String: Any]])?.count == 1, "nothing published by a refused create")
            let created = try create("1.1.0", key: "demo-1.1.0.tar", checksum: Base64.encode(SHA256.hash(nextTar)))
            #expect(created.status == 201, "\(created.body)\n\(lambda.log.text.suffix(2000))")
            let after = try answer(event("GET", "/v1/providers/acme/demo/versions"))
            #expect(Set(((after.body["versions"] as? [[String: Any]]) ?? []).compactMap { $0["version"] as? String }) == ["1.0.0", "1.1.0"])
            let nextDownload = try answer(event("GET", "/v1/providers/acme/demo/1.1.0/download/darwin/arm64"))
            #expect(nextDownload.body["shasum"] as? String == next.sha256["terraform-provider-demo_1.1.0_darwin_arm64.zip"], "\(nextDownload.body)")
            // Versions are immutable: the same object again is a 409.
            #expect(try create("1.1.0", key: "demo-1.1.0.tar", checksum: digest).status == 409)
        }
    }
}
