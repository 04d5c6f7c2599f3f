import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem
import TFRegTesting
import Testing

/// The provider network mirror protocol for this registry's own providers (issue 20): `index.json` and
/// `VERSION.json` with both hashes for every platform, archive links that work without credentials
/// and serve the published bytes, and the hostile requests around them.
@Suite struct MirrorAPITests {
    typealias F = ProviderFixture
    static let base = "/v1/mirror/registry.test:8443/acme/demo"

    @Test("index.json lists the versions; VERSION.json every platform's archive with h1: and zh:")
    func indexAndVersion() async throws {
        let s = try await ProviderAPITests().setup()
        let index = await s.h.send("GET", Self.base + "/index.json", token: s.reader)
        #expect(index.status == 200, "\(index.text)")
        #expect(index.header("content-type") == "application/json")
        #expect(index.text == #"{"versions":{"1.0.0":{}}}"#)

        let version = await s.h.send("GET", Self.base + "/1.0.0.json", token: s.reader)
        #expect(version.status == 200, "\(version.text)")
        #expect(version.header("content-type") == "application/json")
        let doc = try ProviderAPITests.json(version)
        #expect(doc["archives"]?.keys.sorted() == ["darwin_arm64", "linux_amd64"])
        for (platform, zip) in [("linux_amd64", F.linuxZip), ("darwin_arm64", F.darwinZip)] {
            let archive = try #require(doc["archives"]?[platform])
            guard case .array(let items)? = archive["hashes"] else { throw MirrorTestError.noHashes(platform) }
            let hashes = items.compactMap(\.stringValue)
            // h1: as the zip's own files hash (Go's dirhash, what `terraform providers lock` records), zh: its SHA-256.
            let h1 = ProviderPackage.hash1(try ZipReader.read(bytes: zip))
            #expect(hashes == [h1, "zh:" + Hex.encode(SHA256.hash(zip))], "\(platform)")
            // The archive link needs no credentials and serves exactly the published zip.
            let url = try #require(archive["url"]?.stringValue)
            // Relative to the document (Terraform resolves it against the VERSION.json URL).
            #expect(url.hasPrefix("/v1/archives/providers/acme/demo/1.0.0/"), "\(url)")
            let get = await s.h.send("GET", url)
            #expect(get.status == 200 && ProviderAPITests.served(get) == zip, "\(platform)")
            #expect(await s.h.send("HEAD", url).status == 200)
            // A link with its signature changed is refused.
            #expect(await s.h.send("GET", url.replacingOccurrences("signature=", "signature=A")).status == 403)
        }
        // The host name is compared as Terraform writes it (lower case); the port is part of it.
        #expect(await s.h.send("GET", "/v1/mirror/REGISTRY.test:8443/acme/demo/index.json", token: s.reader).status == 200)
    }

    @Test("Credentials and grants as for downloads; other hosts, unknown providers and versions are 404; bad names 400")
    func hostileRequests() async throws {
        let s = try await ProviderAPITests().setup()
        #expect(await s.h.send("GET", Self.base + "/index.json").status == 401)
        #expect(await s.h.send("GET", Self.base + "/index.json", token: "tfr_" + String(repeating: "A", count: 43)).status == 401)
        #expect(await s.h.send("GET", Self.base + "/index.json", token: s.outsider).status == 403)
        #expect(await s.h.send("GET", Self.base + "/1.0.0.json", token: s.outsider).status == 403)
        // Another origin is a mirrored provider's: the mirror namespace's grant decides (the reader has
        // none there), before anything is looked up.
        for host in ["registry.terraform.io", "registry.test"] {
            let r = await s.h.send("GET", "/v1/mirror/\(host)/acme/demo/index.json", token: s.reader)
            #expect(r.status == 403, "\(host): \(r.status)")
        }
        // A host that cannot be an origin (a port that is not this registry's, too long, a lone label): 404.
        for host in ["registry.test:8444", String(repeating: "a", count: 300), "localhost", "a..b"] {
            let r = await s.h.send("GET", "/v1/mirror/\(host)/acme/demo/index.json", token: s.reader)
            #expect(r.status == 404, "\(host): \(r.status)")
        }
        // An encoded '/' never reaches a route.
        #expect(await s.h.send("GET", "/v1/mirror/registry.test%3A8443%2F../acme/demo/index.json", token: s.reader).status == 400)
        #expect(await s.h.send("GET", "/v1/mirror/registry.test:8443/acme/nothere/index.json", token: s.reader).status == 404)
        #expect(await s.h.send("GET", Self.base + "/9.9.9.json", token: s.reader).status == 404)
        for bad in ["/v1.0.json", "/1.0.json", "/..json", "/.json", "/1.0.0.json.json", "/1.0.0"] {
            let r = await s.h.send("GET", Self.base + bad, token: s.reader)
            #expect([400, 404].contains(r.status), "\(bad): \(r.status) \(r.text)")
            #expect(r.text.hasPrefix(#"{"errors":["#), "\(bad)")
        }
        for bad in ["/v1/mirror/registry.test:8443/acme/De_mo/index.json", "/v1/mirror/registry.test:8443/ac%20me/demo/index.json"] {
            #expect(await s.h.send("GET", bad, token: s.reader).status == 400, "\(bad)")
        }
        #expect(await s.h.send("POST", Self.base + "/index.json", token: s.reader).status == 405)
        // Provider namespaces are lower case (Terraform asks for them so): another spelling is a 400,
        // for the mirror, the registry protocol and a publish alike.
        #expect(await s.h.send("GET", "/v1/mirror/registry.test:8443/Acme/demo/index.json", token: s.reader).status == 400)
        #expect(await s.h.send("GET", "/v1/providers/Acme/demo/versions", token: s.reader).status == 400)
        let upload = await s.h.send("POST", "/v1/providers/ACME/demo/1.0.0/upload", token: s.writer, body: [])
        #expect(upload.status == 400 && upload.text.contains("lower case"), "\(upload.text)")
        #expect(await s.h.send("GET", Self.base + "/extra/index.json", token: s.reader).status == 404)
    }
}

enum MirrorTestError: Error { case noHashes(String) }
