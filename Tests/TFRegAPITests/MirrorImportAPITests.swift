import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem
import TFRegTesting
import Testing

/// The import route of `tfreg mirror pull` (issue 20): `POST /v1/mirror/HOST/NS/TYPE/VERSION/upload`
/// verifies a pulled release again (signature against the upstream key sent with it, zips against
/// SHA256SUMS, strict zip reader), stores it write-once under its origin, and serves it through the
/// mirror protocol under the mirror namespace's grants. Hostile uploads store nothing.
@Suite struct MirrorImportAPITests {
    typealias F = ProviderFixture
    static let origin = "upstream.test"
    static let upload = "/v1/mirror/upstream.test/acme/demo/1.0.0/upload"
    static let index = "/v1/mirror/upstream.test/acme/demo/index.json"

    struct Setup {
        let h: APIHarness
        /// `upload` + `download` in the mirror namespace.
        let puller: String
        /// `download` in the mirror namespace.
        let reader: String
        /// `upload` in `acme` only (the provider's upstream namespace name, not the mirror's).
        let acmeWriter: String
    }

    func setup(allowed: [String] = ["upstream.test"]) async throws -> Setup {
        let h = try APIHarness(mirror: MirrorSettings(namespace: try Namespace("mirror"), allowed: allowed))
        return Setup(
            h: h,
            puller: try await h.token("puller", Permissions(download: true, upload: true), in: ["mirror"]),
            reader: try await h.token("mirror-reader", Permissions(download: true), in: ["mirror"]),
            acmeWriter: try await h.token("acme-writer", Permissions(download: true, upload: true, createGrant: true), in: ["acme"])
        )
    }

    static func release(
        signature: [UInt8] = F.signature,
        linux: [UInt8] = F.linuxZip,
        key: String? = F.keyArmor
    ) -> [(String, [UInt8])] {
        var files: [(String, [UInt8])] = [
            ("\(F.base)_linux_amd64.zip", linux), ("\(F.base)_darwin_arm64.zip", F.darwinZip),
            ("\(F.base)_SHA256SUMS", F.shasums), ("\(F.base)_SHA256SUMS.sig", signature),
        ]
        if let key { files.append(("upstream_signing_key.asc", Array(key.utf8))) }
        return files
    }

    func send(_ s: Setup, _ path: String = upload, token: String?, files: [(String, [UInt8])] = release()) async -> APIResponse {
        await s.h.send("POST", path, token: token, headers: [("Content-Type", "application/x-tar")], body: try! ProviderAPITests.tar(files))
    }

    /// Nothing was stored: the mirror index is 404 for a reader, and the store holds no version or key.
    func expectNothingStored(_ s: Setup, _ note: String) async throws {
        let r = await s.h.send("GET", Self.index, token: s.reader)
        #expect(r.status == 404, "\(note): \(r.status) \(r.text)")
        let provider = try ProviderAddress(origin: Self.origin, namespace: "acme", type: "demo")
        #expect(try await s.h.store.providerVersions(of: provider).isEmpty, "\(note)")
        #expect(try await s.h.store.signingKeys(in: try Namespace("acme"), origin: Self.origin).isEmpty, "\(note)")
    }

    @Test("An import is verified, kept under its origin with its upstream key, served by the mirror protocol, write-once")
    func importAndServe() async throws {
        let s = try await setup()
        let r = await send(s, token: s.puller)
        #expect(r.status == 201, "\(r.text)")
        #expect(r.header("location") == Self.index)

        let index = await s.h.send("GET", Self.index, token: s.reader)
        #expect(index.status == 200 && index.text == #"{"versions":{"1.0.0":{}}}"#, "\(index.text)")
        let doc = try ProviderAPITests.json(await s.h.send("GET", "/v1/mirror/upstream.test/acme/demo/1.0.0.json", token: s.reader))
        #expect(doc["archives"]?.keys.sorted() == ["darwin_arm64", "linux_amd64"])
        let archive = try #require(doc["archives"]?["linux_amd64"])
        guard case .array(let items)? = archive["hashes"] else { throw MirrorTestError.noHashes("linux_amd64") }
        let h1 = ProviderPackage.hash1(try ZipReader.read(bytes: F.linuxZip))
        #expect(items.compactMap(\.stringValue) == [h1, "zh:" + Hex.encode(SHA256.hash(F.linuxZip))])
        let url = try #require(archive["url"]?.stringValue)
        #expect(url.hasPrefix("/v1/archives/mirror/upstream.test/acme/demo/1.0.0/"), "\(url)")
        let get = await s.h.send("GET", url)
        #expect(get.status == 200 && ProviderAPITests.served(get) == F.linuxZip)
        #expect(await s.h.send("HEAD", url).status == 200)
        #expect(await s.h.send("GET", url.replacingOccurrences("signature=", "signature=A")).status == 403)

        // The upstream's key is kept with the version (so its signature stays verifiable), apart from any
        // own namespace's keys; nothing appears under the own namespace `acme`.
        let kept = try await s.h.store.signingKeys(in: try Namespace("acme"), origin: Self.origin)
        #expect(kept.map(\.fingerprint) == [F.fingerprint])
        let record = try #require(
            try await s.h.store.providerVersion(try Version("1.0.0"), of: try ProviderAddress(origin: Self.origin, namespace: "acme", type: "demo"))
        )
        #expect(record.keyFingerprint == F.fingerprint)
        #expect(try await s.h.store.signingKeys(in: try Namespace("acme")).isEmpty)
        #expect(await s.h.send("GET", "/v1/providers/acme/demo/versions", token: s.acmeWriter).status == 404)

        // Write-once: the same version again is a conflict, whoever sends it.
        #expect(await send(s, token: s.puller).status == 409)
    }

    @Test("Grants: no token 401; download only, or upload in the upstream's namespace name, 403; reads need the mirror grant")
    func grants() async throws {
        let s = try await setup()
        #expect(await send(s, token: nil).status == 401)
        #expect(await send(s, token: s.reader).status == 403)
        #expect(await send(s, token: s.acmeWriter).status == 403)
        try await expectNothingStored(s, "refused grants")
        #expect(await send(s, token: s.puller).status == 201)
        #expect(await s.h.send("GET", Self.index, token: s.acmeWriter).status == 403)
        #expect(await s.h.send("GET", Self.index).status == 401)
    }

    @Test("Hostile releases store nothing: a bad signature, a swapped zip, a key that did not sign, no key, an own-registry key member")
    func hostileReleases() async throws {
        let s = try await setup()
        // A signature by another key than the one presented.
        let stranger = await send(s, token: s.puller, files: Self.release(signature: F.strangerSignature))
        #expect(stranger.status == 400 && stranger.text.contains("SHA256SUMS.sig"), "\(stranger.text)")
        // A corrupted signature.
        var bent = F.signature
        bent[bent.count - 5] ^= 0x40
        #expect(await send(s, token: s.puller, files: Self.release(signature: bent)).status == 400)
        // The darwin zip under the linux name: its SHA-256 is not the listed one.
        let swapped = await send(s, token: s.puller, files: Self.release(linux: F.darwinZip))
        #expect(swapped.status == 400 && swapped.text.contains("linux_amd64.zip"), "\(swapped.text)")
        // No upstream key, or one that is not a key.
        let noKey = await send(s, token: s.puller, files: Self.release(key: nil))
        #expect(noKey.status == 400 && noKey.text.contains("upstream_signing_key.asc"), "\(noKey.text)")
        #expect(await send(s, token: s.puller, files: Self.release(key: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n")).status == 400)
        try await expectNothingStored(s, "hostile releases")

        // The key member is refused on the own-provider upload route (a publish verifies against the
        // namespace's registered keys, never one sent along).
        let own = await s.h.send(
            "POST",
            "/v1/providers/acme/demo/1.0.0/upload",
            token: s.acmeWriter,
            headers: [("Content-Type", "application/x-tar")],
            body: try ProviderAPITests.tar(Self.release())
        )
        #expect(own.status == 400 && own.text.contains("upstream_signing_key.asc"), "\(own.text)")
    }

    @Test("Origins: not on the allow-list 403; bad host grammar 404 or 400; this registry's own host 400; HOST/NS entries")
    func origins() async throws {
        let s = try await setup(allowed: ["upstream.test/other", "registry.terraform.io"])
        // upstream.test is allowed only for namespace `other`.
        let denied = await send(s, token: s.puller)
        #expect(denied.status == 403 && denied.text.contains("allow-list"), "\(denied.text)")
        #expect(await send(s, "/v1/mirror/elsewhere.test/acme/demo/1.0.0/upload", token: s.puller).status == 403)
        // Refused before the body is read: an origin off the list with a body over the limit is 403, not 413.
        let early = await s.h.send(
            "POST",
            "/v1/mirror/elsewhere.test/acme/demo/1.0.0/upload",
            token: s.puller,
            headers: [("Content-Type", "application/x-tar"), ("Content-Length", String(APIConfiguration.defaultMaxProviderUploadBytes + 1))]
        )
        #expect(early.status == 403, "\(early.text)")
        try await expectNothingStored(s, "not allowed")
        // Not a host name a provider can come from: never reaches the store.
        for host in ["upstream.test:8443", "localhost", "UPSTREAM..test", String(repeating: "a", count: 300)] {
            let r = await send(s, "/v1/mirror/\(host)/acme/demo/1.0.0/upload", token: s.puller)
            #expect([400, 404].contains(r.status), "\(host): \(r.status)")
        }
        // This registry itself (registry.test:8443): its providers are published, not imported.
        #expect(await send(s, "/v1/mirror/registry.test:8443/acme/demo/1.0.0/upload", token: s.puller).status == 400)
        // Bad namespace, type and version grammar.
        for path in [
            "/v1/mirror/registry.terraform.io/Acme/demo/1.0.0/upload", "/v1/mirror/registry.terraform.io/acme/de_mo/1.0.0/upload",
            "/v1/mirror/registry.terraform.io/acme/demo/1.0/upload",
        ] {
            #expect(await send(s, path, token: s.puller).status == 400, "\(path)")
        }
        // An allowed host with any namespace: the release is verified (its files name `demo` 1.0.0).
        #expect(await send(s, "/v1/mirror/registry.terraform.io/acme/demo/1.0.0/upload", token: s.puller).status == 201)
        #expect(await s.h.send("GET", "/v1/mirror/registry.terraform.io/acme/demo/index.json", token: s.reader).status == 200)
        // Deny by default: an empty allow-list refuses every origin.
        let closed = try await setup(allowed: [])
        #expect(await send(closed, token: closed.puller).status == 403)
    }

    @Test("Version constraints as Terraform reads them")
    func constraints() throws {
        func allows(_ c: String, _ v: String) throws -> Bool { try VersionConstraint(c).allows(try Version(v)) }
        #expect(try allows("1.2.0", "1.2.0") && !allows("1.2.0", "1.2.1"))
        #expect(try allows("~> 1.2", "1.9.0") && !allows("~> 1.2", "2.0.0") && !allows("~> 1.2", "1.1.9"))
        #expect(try allows("~> 1.2.3", "1.2.9") && !allows("~> 1.2.3", "1.3.0"))
        #expect(try allows(">= 1.0, < 2.0", "1.5.0") && !allows(">= 1.0, < 2.0", "2.0.0"))
        #expect(try allows("!= 1.0.0", "1.0.1") && !allows("!= 1.0.0", "1.0.0"))
        // A pre-release only when named exactly.
        #expect(try !allows(">= 1.0.0", "2.0.0-rc.1") && allows("= 2.0.0-rc.1", "2.0.0-rc.1"))
        // A part at its largest has no next value: no trap, and nothing above it is allowed.
        let top = String(UInt64.max)
        #expect(try !allows("~> \(top)", "\(top).0.1") && !allows("~> 1.\(top).0", "1.\(top).1"))
        for bad in ["", ">=", "~> x", "1.2.3.4", ">= 1.0,", String(repeating: "1", count: 300)] {
            #expect(throws: RegistryError.self, "\(bad)") { try VersionConstraint(bad) }
        }
    }

    @Test("The client's check of an upstream release: the signing key it found, refusals for another key, a bent signature, no keys")
    func upstreamReleaseCheck() throws {
        let sums = "\(F.base)_SHA256SUMS"
        let ok = try UpstreamRelease.verify(shasums: F.shasums, signature: F.signature, armoredKeys: ["junk", F.keyArmor], sumsName: sums, now: 0)
        #expect(ok.fingerprint == F.fingerprint && ok.armor == F.keyArmor)
        #expect(ok.sums["\(F.base)_linux_amd64.zip"] == Hex.encode(SHA256.hash(F.linuxZip)))
        var bent = F.signature
        bent[bent.count - 5] ^= 0x40
        var changed = F.shasums
        changed[0] = changed[0] == UInt8(ascii: "0") ? UInt8(ascii: "1") : UInt8(ascii: "0")
        for (what, sig, data, keys) in [
            ("another key", F.strangerSignature, F.shasums, [F.keyArmor]), ("a bent signature", bent, F.shasums, [F.keyArmor]),
            ("changed SHA256SUMS", F.signature, changed, [F.keyArmor]), ("no usable key", F.signature, F.shasums, ["junk"]),
        ] {
            #expect(throws: RegistryError.self, "\(what)") {
                try UpstreamRelease.verify(shasums: data, signature: sig, armoredKeys: keys, sumsName: sums, now: 0)
            }
        }
    }

    @Test("Allow-list entries and origin host names are checked")
    func grammar() {
        #expect(MirrorSettings.entry("registry.terraform.io") != nil && MirrorSettings.entry("registry.terraform.io/hashicorp") != nil)
        for bad in ["", "localhost", "Registry.terraform.io", "host.test:443", "host.test/", "host.test/NS", "host.test/a/b", "-a.test"] {
            #expect(MirrorSettings.entry(bad) == nil, "\(bad)")
        }
    }
}
