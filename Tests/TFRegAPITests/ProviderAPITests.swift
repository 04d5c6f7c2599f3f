import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem
import TFRegTesting
import Testing

/// The provider registry protocol and tfreg's provider routes through the real API (issue 20):
/// discovery, keys, upload (one tar), versions with deprecation warnings, download with `packages`,
/// the signed links for zip, SHA256SUMS and signature (GET and HEAD, without credentials), and the
/// hostile requests around each.
@Suite struct ProviderAPITests {
    typealias F = ProviderFixture

    /// A harness with a key admin (`create_grant`), a publisher (`upload`), a reader (`download`) and an
    /// outsider (a grant elsewhere) in namespace `acme`.
    struct Setup {
        let h: APIHarness
        let admin: String
        let writer: String
        let reader: String
        let outsider: String
    }

    func setup(publish: Bool = true) async throws -> Setup {
        let h = try APIHarness()
        let s = Setup(
            h: h,
            admin: try await h.token("admin", Permissions(download: true, createGrant: true)),
            writer: try await h.token("writer", Permissions(download: true, upload: true)),
            reader: try await h.token("reader", Permissions(download: true)),
            outsider: try await h.token("outsider", Permissions(download: true, upload: true, createGrant: true), in: ["other"])
        )
        if publish {
            #expect(await h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 201)
            let r = await upload(h, token: s.writer)
            #expect(r.status == 201, "\(r.text)")
        }
        return s
    }

    static func tar(_ files: [(String, [UInt8])]) throws -> [UInt8] {
        try TarWriter.archive(files.map { TarEntry(path: $0.0, kind: .file($0.1)) })
    }

    static var release: [(String, [UInt8])] {
        [
            ("\(F.base)_linux_amd64.zip", F.linuxZip), ("\(F.base)_darwin_arm64.zip", F.darwinZip),
            ("\(F.base)_SHA256SUMS", F.shasums), ("\(F.base)_SHA256SUMS.sig", F.signature),
        ]
    }

    func upload(
        _ h: APIHarness,
        token: String?,
        version: String = "1.0.0",
        files: [(String, [UInt8])] = release,
        raw: [UInt8]? = nil
    ) async -> APIResponse {
        let body = raw ?? (try! Self.tar(files))
        return await h.send(
            "POST",
            "/v1/providers/acme/demo/\(version)/upload",
            token: token,
            headers: [("Content-Type", "application/x-tar")],
            body: body
        )
    }

    static func json(_ r: APIResponse) throws -> JSONValue { try JSONValue(parsing: r.bodyBytes) }

    /// The path and query of an absolute link this API wrote.
    static func target(_ url: String) -> String { String(url.dropFirst("https://registry.test:8443".count)) }

    static func served(_ r: APIResponse) -> [UInt8]? {
        guard case .file(let path, _) = r.body else { return nil }
        return FileSystem.read(path)
    }

    @Test("Discovery names providers.v1")
    func discovery() async throws {
        let h = try APIHarness()
        let doc = try Self.json(await h.send("GET", "/.well-known/terraform.json"))
        #expect(doc["providers.v1"]?.stringValue == "/v1/providers/")
    }

    @Test("A published release: versions, download with packages and keys, links for GET and HEAD without credentials")
    func publishAndServe() async throws {
        let s = try await setup()
        let versions = await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader)
        #expect(versions.status == 200)
        #expect(
            versions.text
                == #"{"versions":[{"version":"1.0.0","protocols":["5.0"],"platforms":[{"os":"darwin","arch":"arm64"},{"os":"linux","arch":"amd64"}]}]}"#
        )

        let dl = await s.h.send("GET", "/v1/providers/acme/demo/1.0.0/download/linux/amd64", token: s.reader)
        #expect(dl.status == 200, "\(dl.text)")
        let doc = try Self.json(dl)
        let linuxSHA = Hex.encode(SHA256.hash(F.linuxZip))
        let darwinSHA = Hex.encode(SHA256.hash(F.darwinZip))
        #expect(doc["os"]?.stringValue == "linux" && doc["arch"]?.stringValue == "amd64")
        #expect(doc["filename"]?.stringValue == "\(F.base)_linux_amd64.zip")
        #expect(doc["shasum"]?.stringValue == linuxSHA)
        #expect(doc["protocols"] == .array([.string("5.0")]))
        let key = try #require(doc["signing_keys"]?["gpg_public_keys"]?.items?.first)
        #expect(key["key_id"]?.stringValue == String(F.fingerprint.suffix(16)))
        #expect(key["ascii_armor"]?.stringValue?.hasPrefix("-----BEGIN PGP PUBLIC KEY BLOCK-----") == true)
        #expect(key["trust_signature"]?.stringValue == "")
        let linux = try #require(doc["packages"]?["linux_amd64"])
        let darwin = try #require(doc["packages"]?["darwin_arm64"])
        #expect(linux["hashes"]?.items?.first?.stringValue == "zh:" + linuxSHA)
        #expect(darwin["hashes"]?.items?.first?.stringValue == "zh:" + darwinSHA)
        #expect(linux["hashes"]?.items?.last?.stringValue?.hasPrefix("h1:") == true)
        #expect(linux["package_size"]?.intValue == Int64(F.linuxZip.count))
        #expect(doc["packages"]?.keys.count == 2)

        // Each link serves its bytes to a client without a token, and answers HEAD.
        for (field, bytes, type) in [
            ("download_url", F.linuxZip, "application/zip"), ("shasums_url", F.shasums, "text/plain; charset=utf-8"),
            ("shasums_signature_url", F.signature, "application/pgp-signature"),
        ] {
            let url = try #require(doc[field]?.stringValue)
            #expect(url.hasPrefix("https://registry.test:8443/v1/archives/providers/acme/demo/1.0.0/"), "\(url)")
            let head = await s.h.send("HEAD", Self.target(url))
            #expect(head.status == 200, "HEAD \(field)")
            #expect(head.header("content-length") == String(bytes.count))
            #expect(head.header("content-type") == type)
            let get = await s.h.send("GET", Self.target(url))
            #expect(get.status == 200, "GET \(field)")
            #expect(Self.served(get) == bytes, "\(field) serves other bytes")
        }
        // The darwin download names the darwin zip.
        let darwinDL = try Self.json(await s.h.send("GET", "/v1/providers/acme/demo/1.0.0/download/darwin/arm64", token: s.reader))
        #expect(darwinDL["shasum"]?.stringValue == darwinSHA)
    }

    @Test("Unknown platform, version or provider: 404 with errors; bad names: 400; path tricks never reach a file")
    func hostileParameters() async throws {
        let s = try await setup()
        let unknown = await s.h.send("GET", "/v1/providers/acme/demo/1.0.0/download/windows/amd64", token: s.reader)
        #expect(unknown.status == 404)
        #expect(try Self.json(unknown)["errors"]?.items?.isEmpty == false)
        #expect(await s.h.send("GET", "/v1/providers/acme/demo/9.9.9/download/linux/amd64", token: s.reader).status == 404)
        #expect(await s.h.send("GET", "/v1/providers/acme/nope/versions", token: s.reader).status == 404)
        for path in [
            "/v1/providers/acme/Demo/versions", "/v1/providers/acme/-demo/versions", "/v1/providers/ac%20me/demo/versions",
            "/v1/providers/acme/demo/1.0/download/linux/amd64", "/v1/providers/acme/demo/v1.0.0/download/linux/amd64",
            "/v1/providers/acme/demo/1.0.0/download/Linux/amd64", "/v1/providers/acme/demo/1.0.0/download/linux/amd_64",
            "/v1/providers/acme/demo/1.0.0/download/%2e%2e/amd64", "/v1/providers/acme/demo/1.0.0/download/linux/..%2F..%2Fetc",
            "/v1/providers/acme/demo/1.0.0/download/linux%2Famd64/x", "/v1/providers/acme/demo/1.0.0/download/linux/amd64%00",
        ] {
            let r = await s.h.send("GET", path, token: s.reader)
            #expect(r.status == 400, "\(path) gave \(r.status): \(r.text)")
        }
        // Dot segments are not a route: the path is judged as sent.
        for path in ["/v1/providers/acme/demo/1.0.0/download/../amd64", "/v1/providers/acme/demo/1.0.0/download/linux/amd64/extra"] {
            let r = await s.h.send("GET", path, token: s.reader)
            #expect(r.status == 404 || r.status == 400, "\(path) gave \(r.status)")
        }
    }

    @Test("No token: 401; a grant in another namespace: 403; upload alone may not add keys; download alone may not upload")
    func authorization() async throws {
        let s = try await setup()
        for (method, path) in [
            ("GET", "/v1/providers/acme/demo/versions"), ("GET", "/v1/providers/acme/demo/1.0.0/download/linux/amd64"),
            ("GET", "/v1/providers/acme/keys"), ("POST", "/v1/providers/acme/keys"), ("POST", "/v1/providers/acme/demo/2.0.0/upload"),
            ("DELETE", "/v1/providers/acme/keys/\(F.fingerprint)"),
        ] {
            #expect(await s.h.send(method, path).status == 401, "\(method) \(path)")
            #expect(await s.h.send(method, path, token: s.outsider).status == 403, "\(method) \(path)")
        }
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.writer, body: Array(F.keyArmor.utf8)).status == 403)
        #expect(await upload(s.h, token: s.reader, version: "2.0.0").status == 403)
        #expect(await s.h.send("PUT", "/v1/providers/acme/keys", token: s.admin).status == 405)
    }

    @Test("Signed links: tampered, moved to another file, another digest, extended or expired → 403")
    func links() async throws {
        let s = try await setup()
        let doc = try Self.json(await s.h.send("GET", "/v1/providers/acme/demo/1.0.0/download/linux/amd64", token: s.reader))
        let zip = Self.target(try #require(doc["download_url"]?.stringValue))
        let sums = Self.target(try #require(doc["shasums_url"]?.stringValue))
        let (zipPath, query) = (String(zip.split(separator: "?")[0]), String(zip.split(separator: "?")[1]))
        let sumsPath = String(sums.split(separator: "?")[0])
        #expect(await s.h.send("GET", zip).status == 200)
        // The zip's signature on the SHA256SUMS path, and on the other platform's file name.
        #expect(await s.h.send("GET", sumsPath + "?" + query).status == 403)
        let moved = zipPath.replacing("linux_amd64", with: "darwin_arm64")
        #expect(moved != zipPath)
        #expect(await s.h.send("GET", moved + "?" + query).status == 403)
        // One character of the signature changed; no query; an extended expiry.
        let sig = String(query.split(separator: "&")[1].dropFirst("signature=".count))
        let expires = Int(query.split(separator: "&")[0].dropFirst("expires=".count))!
        let flipped = String(sig.first == "A" ? "B" : "A") + sig.dropFirst()
        #expect(await s.h.send("GET", "\(zipPath)?expires=\(expires)&signature=\(flipped)").status == 403)
        #expect(await s.h.send("HEAD", zipPath).status == 403)
        #expect(await s.h.send("GET", "\(zipPath)?expires=\(expires + 600)&signature=\(sig)").status == 403)
        // Not a digest, or a digest the version does not have.
        let other = zipPath.replacing(Hex.encode(SHA256.hash(F.linuxZip)), with: String(repeating: "0", count: 64))
        #expect(await s.h.send("GET", other + "?" + query).status == 403)
        s.h.clock.advance(301)
        #expect(await s.h.send("GET", zip).status == 403)
        #expect(await s.h.send("HEAD", zip).status == 403)
    }

    @Test("A deprecated version is named in warnings; none is left out")
    func deprecationWarnings() async throws {
        let s = try await setup()
        let provider = try ProviderAddress(namespace: "acme", type: "demo")
        let before = try Self.json(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader))
        #expect(before["warnings"] == nil)
        _ = try await s.h.store.setProviderDeprecation(
            Deprecation(reason: "CVE-2026-1 in the client", replacement: "1.0.1", at: 1, by: nil),
            version: try Version("1.0.0"),
            of: provider
        )
        let after = try Self.json(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader))
        let warnings = try #require(after["warnings"]?.items)
        #expect(warnings.count == 1)
        #expect(warnings.first?.stringValue == "acme/demo 1.0.0 is deprecated: CVE-2026-1 in the client (use 1.0.1 instead)")
        #expect(after["versions"]?.items?.count == 1)
    }

    @Test("Upload refusals are 400 naming the file: tampered zip, unregistered key, unknown file, missing sums")
    func uploadRefusals() async throws {
        let s = try await setup(publish: false)
        // No key registered yet.
        var r = await upload(s.h, token: s.writer)
        #expect(r.status == 400 && r.text.contains("\(F.base)_SHA256SUMS.sig"), "\(r.text)")
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 201)
        var tampered = Self.release
        tampered[0].1[tampered[0].1.count - 3] ^= 1
        r = await upload(s.h, token: s.writer, files: tampered)
        #expect(r.status == 400 && r.text.contains("\(F.base)_linux_amd64.zip"), "\(r.text)")
        var stranger = Self.release
        stranger[3].1 = F.strangerSignature
        r = await upload(s.h, token: s.writer, files: stranger)
        #expect(r.status == 400 && r.text.contains("\(F.base)_SHA256SUMS.sig"), "\(r.text)")
        r = await upload(s.h, token: s.writer, files: Self.release + [("README.md", Array("hi".utf8))])
        #expect(r.status == 400 && r.text.contains("README.md"), "\(r.text)")
        r = await upload(s.h, token: s.writer, files: Array(Self.release.dropLast(2)) + [("\(F.base)_SHA256SUMS.sig", F.signature)])
        #expect(r.status == 400 && r.text.contains("\(F.base)_SHA256SUMS"), "\(r.text)")
        r = await upload(s.h, token: s.writer, files: Array(Self.release.dropFirst()))
        #expect(r.status == 400 && r.text.contains("\(F.base)_linux_amd64.zip"), "a listed zip left out: \(r.text)")
        // Uploaded under another version: the names do not match it.
        r = await upload(s.h, token: s.writer, version: "1.0.1")
        #expect(r.status == 400, "\(r.text)")
        let provider = try ProviderAddress(namespace: "acme", type: "demo")
        #expect(try await s.h.store.providerVersions(of: provider).isEmpty)
        // Then the good release publishes, once.
        #expect(await upload(s.h, token: s.writer).status == 201)
        #expect(await upload(s.h, token: s.writer).status == 409)
        // Nothing staged is left behind.
        #expect(s.h.filesUnder("staging").filter { $0.hasSuffix(".partial") }.isEmpty)
    }

    /// A ustar header as a hostile client writes it.
    static func header(name: String, size: Int, type: UInt8 = UInt8(ascii: "0"), prefix: String = "", checksumDelta: Int = 0) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ s: String, _ at: Int) { for (i, b) in s.utf8.enumerated() { h[at + i] = b } }
        put(name, 0)
        put("0000644", 100)
        put("0000000", 108)
        put("0000000", 116)
        put(octal(size, 11), 124)
        put("00000000000", 136)
        h[156] = type
        put("ustar", 257)
        put("00", 263)
        put(prefix, 345)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) } + checksumDelta
        put(octal(sum, 6) + "\0 ", 148)
        return h
    }

    static func member(_ name: String, _ data: [UInt8], type: UInt8 = UInt8(ascii: "0"), prefix: String = "", checksumDelta: Int = 0) -> [UInt8] {
        header(name: name, size: data.count, type: type, prefix: prefix, checksumDelta: checksumDelta) + data
            + [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    static let end = [UInt8](repeating: 0, count: 1024)

    @Test("Hostile tars: path, dot names, links, directories, bad checksum, truncation, duplicates, too many files, huge size")
    func hostileTars() async throws {
        let s = try await setup(publish: false)
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 201)
        let sums = Self.member("\(F.base)_SHA256SUMS", F.shasums)
        let cases: [(String, [UInt8])] = [
            ("a path", Self.member("../\(F.base)_linux_amd64.zip", F.linuxZip) + sums + Self.end),
            ("a name with a slash", Self.member("x/\(F.base)_linux_amd64.zip", F.linuxZip) + Self.end),
            ("a ustar prefix", Self.member("\(F.base)_linux_amd64.zip", F.linuxZip, prefix: "..") + Self.end),
            ("dot-dot", Self.member("..", []) + Self.end),
            ("a symlink", Self.member("\(F.base)_linux_amd64.zip", Array("/etc/passwd".utf8), type: UInt8(ascii: "2")) + Self.end),
            ("a hard link", Self.member("\(F.base)_linux_amd64.zip", [], type: UInt8(ascii: "1")) + Self.end),
            ("a directory", Self.member("\(F.base)_linux_amd64.zip", [], type: UInt8(ascii: "5")) + Self.end),
            ("a pax header", Self.member("PaxHeader", Array("30 path=../../etc/passwd\n".utf8), type: UInt8(ascii: "x")) + Self.end),
            ("a bad checksum", Self.member("\(F.base)_SHA256SUMS", F.shasums, checksumDelta: 1) + Self.end),
            ("a duplicate", sums + sums + Self.end),
            ("no end block", sums),
            ("a truncated member", Array((Self.member("\(F.base)_SHA256SUMS", F.shasums) + Self.end).prefix(600))),
            ("a size beyond the body", Self.header(name: "\(F.base)_SHA256SUMS", size: 1 << 30) + Self.end),
            ("not a tar", Array("PK\u{3}\u{4} this is a zip".utf8)),
            ("too many files", (0..<70).flatMap { Self.member("\(F.base)_p\($0)_amd64.zip", [1]) } + Self.end),
            ("an empty tar", Self.end),
        ]
        for (what, body) in cases {
            let r = await upload(s.h, token: s.writer, raw: body)
            #expect(r.status == 400, "\(what) gave \(r.status): \(r.text)")
        }
        let provider = try ProviderAddress(namespace: "acme", type: "demo")
        #expect(try await s.h.store.providerVersions(of: provider).isEmpty)
        #expect(s.h.filesUnder("staging").filter { $0.hasSuffix(".partial") }.isEmpty)
        // Too large by Content-Length, and the wrong media type: refused before the body is read.
        let big = await s.h.send(
            "POST",
            "/v1/providers/acme/demo/1.0.0/upload",
            token: s.writer,
            headers: [("Content-Type", "application/x-tar"), ("Content-Length", String(APIConfiguration.defaultMaxProviderUploadBytes + 1))]
        )
        #expect(big.status == 413)
        let gz = await s.h.send(
            "POST",
            "/v1/providers/acme/demo/1.0.0/upload",
            token: s.writer,
            headers: [("Content-Type", "application/gzip")],
            body: [1]
        )
        #expect(gz.status == 415)
        // create (a tar the caller put in S3): upload is checked before the body; a registry with local
        // storage has no bucket to copy into, and says to use the upload endpoint.
        let object = Array(#"{"bucket": "ci-uploads", "key": "demo.tar", "expected_checksum": "\#(String(repeating: "ab", count: 32))"}"#.utf8)
        #expect(await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/create", token: nil, body: object).status == 401)
        #expect(await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/create", token: s.reader, body: object).status == 403)
        let local = await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/create", token: s.writer, body: object)
        #expect(local.status == 400 && local.text.contains("upload endpoint"), "\(local.text)")
        for bad in [#"{"bucket": "ci-uploads"}"#, #"{"bucket": "../x", "key": "k", "expected_checksum": "ab"}"#, "[1]", #"{"extra": 1}"#] {
            let r = await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/create", token: s.writer, body: Array(bad.utf8))
            #expect(r.status == 400, "\(bad): \(r.text)")
        }
        // An empty body names what a provider upload holds (it said "module archive").
        let empty = await upload(s.h, token: s.writer, raw: [])
        #expect(empty.status == 400 && empty.text.contains("release") && !empty.text.contains("module"), "\(empty.text)")
    }

    @Test("Keys: add (create_grant), list (download), a duplicate is 409, remove, a bad fingerprint is 400")
    func keys() async throws {
        let s = try await setup(publish: false)
        let added = await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8))
        #expect(added.status == 201)
        #expect(try Self.json(added)["fingerprint"]?.stringValue == F.fingerprint)
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 409)
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array("not a key".utf8)).status == 400)
        // A key under a namespace in another letter case could never be listed or used: refused.
        #expect(await s.h.send("POST", "/v1/providers/Acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 400)
        #expect(await s.h.send("GET", "/v1/providers/Acme/keys", token: s.reader).status == 400)
        let list = try Self.json(await s.h.send("GET", "/v1/providers/acme/keys", token: s.reader))
        #expect(list["keys"]?.items?.map { $0["fingerprint"]?.stringValue } == [F.fingerprint])
        #expect(await s.h.send("DELETE", "/v1/providers/acme/keys/\(F.fingerprint.lowercased())", token: s.admin).status == 400)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/keys/%2e%2e", token: s.admin).status == 400)
        // A version is never a fingerprint: this deletes version 1.0.0 of a provider typed `keys` (none here).
        let typedKeys = await s.h.send("DELETE", "/v1/providers/acme/keys/1.0.0", token: s.writer)
        #expect(typedKeys.status == 404 && typedKeys.text.contains("keys"), "\(typedKeys.text)")
        #expect(await s.h.send("DELETE", "/v1/providers/acme/keys/\(F.fingerprint)", token: s.writer).status == 403)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/keys/\(F.fingerprint)", token: s.admin).status == 204)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/keys/\(F.fingerprint)", token: s.admin).status == 404)
        #expect(try Self.json(await s.h.send("GET", "/v1/providers/acme/keys", token: s.reader))["keys"]?.items?.isEmpty == true)
    }
}

/// `value` in octal, zero-padded to `width` digits (a tar header field).
private func octal(_ value: Int, _ width: Int) -> String {
    let digits = String(value, radix: 8)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

extension JSONValue {
    fileprivate var items: [JSONValue]? {
        if case .array(let a) = self { return a }
        return nil
    }
}

@Suite struct ProviderLifecycleAPITests {
    typealias F = ProviderFixture

    @Test("Deprecate (upload) shows in warnings, undeprecate clears it; delete leaves the number reserved and the links dead")
    func deprecateAndDelete() async throws {
        let t = ProviderAPITests()
        let s = try await t.setup()
        let link = try #require(
            try ProviderAPITests.json(await s.h.send("GET", "/v1/providers/acme/demo/1.0.0/download/linux/amd64", token: s.reader))["download_url"]?
                .stringValue
        )
        let body = Array(#"{"reason":"use 1.0.1","replacement":"1.0.1"}"#.utf8)
        #expect(await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/deprecate", token: s.reader, body: body).status == 403)
        let marked = await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/deprecate", token: s.writer, body: body)
        #expect(marked.status == 200 && marked.text.contains("\"deprecation\""), "\(marked.text)")
        #expect(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader).text.contains("\"warnings\""))
        #expect(await s.h.send("POST", "/v1/providers/acme/demo/9.9.9/deprecate", token: s.writer, body: body).status == 404)
        let hidden = Array("{\"reason\":\"a\u{202E}b\"}".utf8)
        #expect(await s.h.send("POST", "/v1/providers/acme/demo/1.0.0/deprecate", token: s.writer, body: hidden).status == 400)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/demo/1.0.0/deprecate", token: s.writer).status == 200)
        #expect(!(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader).text.contains("\"warnings\"")))

        #expect(await s.h.send("DELETE", "/v1/providers/acme/demo/1.0.0", token: s.reader).status == 403)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/demo/1.0.0", token: s.writer).status == 204)
        #expect(await s.h.send("DELETE", "/v1/providers/acme/demo/1.0.0", token: s.writer).status == 404)
        #expect(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader).status == 404)
        #expect(await s.h.send("GET", ProviderAPITests.target(link)).status == 404)
        // The number stays reserved.
        #expect(await t.upload(s.h, token: s.writer).status == 409)
    }
}

@Suite struct ProviderManifestAPITests {
    typealias F = ProviderFixture

    @Test("A release's _manifest.json sets the protocols served; a malformed one is a 400 naming it")
    func manifestProtocols() async throws {
        let t = ProviderAPITests()
        let s = try await t.setup(publish: false)
        #expect(await s.h.send("POST", "/v1/providers/acme/keys", token: s.admin, body: Array(F.keyArmor.utf8)).status == 201)
        let name = "\(F.base)_manifest.json"
        for bad in [
            #"{"version":1}"#, #"{"version":1,"metadata":{"protocol_versions":[]}}"#, #"{"version":1,"metadata":{"protocol_versions":["6"]}}"#,
            #"{"version":1,"metadata":{"protocol_versions":[6.0]}}"#, #"{"version":1,"metadata":{"protocol_versions":["6.0","../x"]}}"#, "not json",
        ] {
            let r = await t.upload(s.h, token: s.writer, files: ProviderAPITests.release + [(name, Array(bad.utf8))])
            #expect(r.status == 400 && r.text.contains(name), "\(bad): \(r.text)")
        }
        let good = #"{"version":1,"metadata":{"protocol_versions":["6.0","5.0"]}}"#
        #expect(await t.upload(s.h, token: s.writer, files: ProviderAPITests.release + [(name, Array(good.utf8))]).status == 201)
        let versions = await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.reader)
        #expect(versions.text.contains(#""protocols":["6.0","5.0"]"#), "\(versions.text)")
        #expect(s.h.filesUnder("staging").filter { $0.hasSuffix(".partial") }.isEmpty)
    }
}
