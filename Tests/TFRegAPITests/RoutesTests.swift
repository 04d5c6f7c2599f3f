import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegTesting
import Testing

@Suite struct DiscoveryAndHealthTests {
    @Test func discoveryNeedsNoAuthAndUsesTheExactKey() async throws {
        let h = try APIHarness()
        let r = await h.send("GET", "/.well-known/terraform.json")
        #expect(r.status == 200)
        #expect(r.header("content-type") == "application/json")
        #expect(r.text.hasPrefix("{\"modules.v1\":\"/v1/modules/\""))
        #expect(r.text.contains("\"tfreg.v1\""))
        #expect(!r.text.contains("modules_v1"))
        // Even with an expired/garbage token, discovery answers.
        #expect(await h.send("GET", "/.well-known/terraform.json", token: "tfr_garbage").status == 200)
        #expect(await h.send("GET", "/health").status == 200)
    }

    /// Discovery names only endpoints the registry has: `create` registers an object in S3, so a
    /// registry storing archives in its own directory does not advertise it (issue 22).
    @Test func discoveryOffersCreateOnlyWithS3Storage() async throws {
        let h = try APIHarness()
        let r = await h.send("GET", "/.well-known/terraform.json")
        #expect(r.text.contains("\"upload\":\"/v1/modules/{namespace}/{name}/{system}/{version}/upload\""), "\(r.text)")
        #expect(!r.text.contains("\"create\""), "\(r.text)")
        #expect(!h.storage.registersExistingObjects)
    }
}

@Suite struct ModuleRouteTests {
    @Test func versionsDownloadAndArchive() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        for v in ["1.0.0", "1.2.0", "2.0.0"] { #expect(try await h.publish(v, token: rw).status == 201) }

        let versions = await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: rw)
        #expect(versions.status == 200)
        #expect(versions.text == #"{"modules":[{"source":"acme/vpc/aws","versions":[{"version":"2.0.0"},{"version":"1.2.0"},{"version":"1.0.0"}]}]}"#)

        let dl = await h.send("GET", "/v1/modules/acme/vpc/aws/1.2.0/download", token: rw)
        #expect(dl.status == 204)
        let location = try #require(dl.header("x-terraform-get"))
        // The link names the digest it was issued for.
        let digest = try #require(
            await h.store.version(try Version("1.2.0"), of: try ModuleAddress(namespace: "acme", name: "vpc", system: "aws"))?.sha256
        )
        #expect(location.hasPrefix("https://registry.test:8443/v1/archives/acme/vpc/aws/1.2.0/\(digest).tar.gz?expires="))
        let target = String(location.dropFirst("https://registry.test:8443".count))

        // The archive URL works without any token, for HEAD and GET, and serves the published bytes.
        let head = await h.send("HEAD", target)
        #expect(head.status == 200)
        #expect(head.header("content-length") != nil)
        let get = await h.send("GET", target)
        #expect(get.status == 200)
        guard case .file(let path, let size) = get.body else {
            Issue.record("expected a file body")
            return
        }
        #expect(size > 0 && path.hasSuffix(".tar.gz"))

        // Unknown module → 404; unknown version on download → 404, not 500.
        #expect(await h.send("GET", "/v1/modules/acme/nope/aws/versions", token: rw).status == 404)
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/9.9.9/download", token: rw).status == 404)
    }

    @Test func archiveSignatureIsCheckedAndExpires() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        #expect(try await h.publish("1.1.0", token: rw).status == 201)
        let location = try #require(await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/download", token: rw).header("x-terraform-get"))
        let target = String(location.dropFirst("https://registry.test:8443".count))
        #expect(await h.send("GET", target).status == 200)

        // Moved to another version: the signature covers the path.
        let moved = target.replacingOccurrences("/1.0.0/", "/1.1.0/")
        #expect(moved != target)
        #expect(await h.send("GET", moved).status == 403)
        // Another digest under the same version: the signature covers it too.
        let path = String(target.split(separator: "?")[0])
        let otherDigest = String(repeating: "0", count: 64)
        let swapped = target.replacingOccurrences(String(path.suffix(71)), otherDigest + ".tar.gz")
        #expect(swapped != target)
        #expect(await h.send("GET", swapped).status == 403)
        // Extended expiry.
        let parts = target.split(separator: "?")[1].split(separator: "&")
        let expires = Int(parts[0].dropFirst("expires=".count))!
        let sig = String(parts[1].dropFirst("signature=".count))
        let base = String(target.split(separator: "?")[0])
        #expect(await h.send("GET", "\(base)?expires=\(expires + 1000)&signature=\(sig)").status == 403)
        // Every single-character change of the signature is rejected.
        for i in sig.indices {
            let flipped = sig.replacingCharacters(at: i, with: sig[i] == "A" ? "B" : "A")
            let r = await h.send("GET", "\(base)?expires=\(expires)&signature=\(flipped)")
            #expect(r.status == 403, "signature changed at \(sig.distance(from: sig.startIndex, to: i))")
        }
        // Missing, duplicated, or malformed parameters.
        for q in [
            "", "?expires=\(expires)", "?signature=\(sig)", "?expires=\(expires)&expires=\(expires)&signature=\(sig)",
            "?expires=abc&signature=\(sig)", "?expires=\(expires)&signature=%%%", "?expires=-1&signature=\(sig)",
        ] {
            let r = await h.send("GET", base + q)
            #expect(r.status == 403 || r.status == 400, "query \(q) gave \(r.status)")
        }
        // After expiry the same URL is refused.
        h.clock.advance(301)
        let expired = await h.send("GET", target)
        #expect(expired.status == 403)
        #expect(expired.text.contains("expired"))
    }

    @Test func latestDetailAndRedirect() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        for v in ["1.0.0", "1.3.0", "2.0.0-rc.1"] { #expect(try await h.publish(v, token: rw).status == 201) }
        let latest = await h.send("GET", "/v1/modules/acme/vpc/aws", token: rw)
        #expect(latest.status == 200)
        #expect(latest.text.contains(#""version":"1.3.0""#))
        #expect(latest.text.contains(#""versions":["2.0.0-rc.1","1.3.0","1.0.0"]"#))
        let detail = await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0", token: rw)
        #expect(detail.status == 200 && detail.text.contains(#""id":"acme/vpc/aws/1.0.0""#))
        let redirect = await h.send("GET", "/v1/modules/acme/vpc/aws/download", token: rw)
        #expect(redirect.status == 302)
        #expect(redirect.header("location") == "/v1/modules/acme/vpc/aws/1.3.0/download")
    }

    @Test func listAndSearch() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true), in: ["acme", "other"])
        let onlyAcme = try await h.token("ro", Permissions(download: true), in: ["acme"])
        for m in ["acme/vpc/aws", "acme/dns/aws", "acme/vpc/google", "other/vpc/aws"] {
            #expect(try await h.publish("1.0.0", token: rw, module: m).status == 201)
        }
        let all = await h.send("GET", "/v1/modules?limit=2", token: rw)
        #expect(all.status == 200)
        #expect(all.text.contains(#""meta":{"limit":2,"current_offset":0,"next_offset":2,"next_url":"/v1/modules?offset=2&limit=2"}"#))
        #expect(all.text.contains(#""id":"acme/dns/aws/1.0.0""#) && all.text.contains(#""id":"acme/vpc/aws/1.0.0""#))
        let page2 = await h.send("GET", "/v1/modules?offset=2&limit=2", token: rw)
        #expect(page2.text.contains(#""id":"acme/vpc/google/1.0.0""#) && page2.text.contains(#""id":"other/vpc/aws/1.0.0""#))
        // A caller sees only namespaces it may download from.
        let ro = await h.send("GET", "/v1/modules", token: onlyAcme)
        #expect(!ro.text.contains("other/"))
        #expect(await h.send("GET", "/v1/modules/other", token: onlyAcme).status == 403)
        let ns = await h.send("GET", "/v1/modules/acme", token: rw)
        #expect(ns.status == 200 && !ns.text.contains("other/"))
        let search = await h.send("GET", "/v1/modules/search?q=vpc&provider=aws", token: rw)
        #expect(
            search.text.contains("acme/vpc/aws") && search.text.contains("other/vpc/aws") && !search.text.contains("google")
                && !search.text.contains("dns")
        )
        let searchNs = await h.send("GET", "/v1/modules/search?q=vpc&namespace=other", token: rw)
        #expect(searchNs.text.contains("other/vpc/aws") && !searchNs.text.contains("acme/"))
        #expect(await h.send("GET", "/v1/modules/search", token: rw).status == 400)
        #expect(await h.send("GET", "/v1/modules?limit=abc", token: rw).status == 400)
        #expect(await h.send("GET", "/v1/modules?offset=-1", token: rw).status == 400)
        #expect(await h.send("GET", "/v1/modules").status == 401)
    }

    @Test func deleteLeavesATombstoneAndNeverFreesTheNumber() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let ro = try await h.token("ro", Permissions(download: true))
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        #expect(h.filesUnder("archives").count == 1)
        let link = try #require(await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/download", token: rw).header("x-terraform-get"))
        #expect(await h.send("DELETE", "/v1/modules/acme/vpc/aws/1.0.0", token: ro).status == 403)
        #expect(await h.send("DELETE", "/v1/modules/acme/vpc/aws/1.0.0", token: rw).status == 204)
        #expect(await h.send("DELETE", "/v1/modules/acme/vpc/aws/1.0.0", token: rw).status == 404)
        // A link issued before the delete no longer serves anything.
        #expect(await h.send("GET", String(link.dropFirst("https://registry.test:8443".count))).status == 404)
        // The number stays reserved, also with other build metadata; other code is refused.
        for v in ["1.0.0", "1.0.0+rebuilt"] {
            let again = try await h.publish(v, token: rw, body: try APIHarness.moduleArchive("output \"other\" { value = 2 }\n"))
            #expect(again.status == 409)
            #expect(again.text.contains("1.0.0 of module acme/vpc/aws was deleted on") && again.text.contains("cannot be reused"), "\(again.text)")
        }
        // Nothing was unlinked by the request: the archive waits for gc.
        #expect(h.filesUnder("archives").count == 1)
        #expect(try await h.publish("1.0.1", token: rw).status == 201)
    }

    @Test func deprecatedVersionsStayListedAndDownloadable() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let ro = try await h.token("ro", Permissions(download: true))
        for v in ["1.0.0", "1.1.0"] { #expect(try await h.publish(v, token: rw).status == 201) }
        let body = Array(#"{"reason":"CVE-2026-0001 in the security group rules","replacement":"1.1.0"}"#.utf8)
        let json = [(name: "Content-Type", value: "application/json")]
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: ro, headers: json, body: body).status == 403)
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", headers: json, body: body).status == 401)
        #expect(
            await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: rw, headers: json, body: Array(#"{"reason":1}"#.utf8)).status
                == 400
        )
        #expect(
            await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: rw, headers: json, body: Array(#"{"reason":"x","extra":1}"#.utf8))
                .status == 400
        )
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/9.0.0/deprecate", token: rw, headers: json, body: body).status == 404)
        let marked = await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: rw, headers: json, body: body)
        #expect(
            marked.status == 200
                && marked.text.contains(#""deprecation":{"reason":"CVE-2026-0001 in the security group rules","replacement":"1.1.0""#),
            "\(marked.text)"
        )
        // Still listed (Terraform resolves even exact pins through this list) and downloadable.
        let versions = await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: ro)
        #expect(versions.text.contains(#"{"version":"1.1.0"}"#))
        #expect(versions.text.contains(#"{"version":"1.0.0","deprecation":{"reason":"CVE-2026-0001"#), "\(versions.text)")
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/download", token: ro).status == 204)
        let detail = await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0", token: ro)
        #expect(detail.text.contains(#""deprecation":{"#))
        // Cleared again.
        #expect(await h.send("DELETE", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: rw).status == 200)
        #expect(!(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: ro).text.contains("deprecation")))
    }
}

@Suite struct AuthTests {
    @Test func missingBadAndForbidden() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let none = try await h.token("nothing", Permissions())
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        let path = "/v1/modules/acme/vpc/aws/versions"
        let noToken = await h.send("GET", path)
        #expect(noToken.status == 401)
        #expect(noToken.header("www-authenticate") == "Bearer realm=\"tfreg\"")
        #expect(noToken.text.hasPrefix(#"{"errors":["#))
        let forbidden = await h.send("GET", path, token: none)
        #expect(forbidden.status == 403)
        #expect(forbidden.text.contains("missing 'download' permission on namespace 'acme'"))
        for value in [
            "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "bearer tfr_", "Bearer tfr_" + String(repeating: "A", count: 43),
            "Bearer " + String(repeating: "x", count: 10000), "Bearer tfr_\u{1}abc", "Token abc", "Bearer a b c",
            "Bearer " + rw.dropLast() + (rw.last == "A" ? "B" : "A"), "Bearer " + rw + "x", "Bearer eyJhbGciOiJub25lIn0.e30.",
        ] {
            let r = await h.send("GET", path, headers: [("Authorization", value)])
            #expect(r.status == 401, "Authorization: \(value.prefix(40)) gave \(r.status)")
            #expect(r.text.hasPrefix(#"{"errors":["#))
        }
        // Two Authorization headers are refused rather than guessed between.
        let two = await h.send("GET", path, headers: [("Authorization", "Bearer \(none)"), ("Authorization", "Bearer \(rw)")])
        #expect(two.status == 401)
        // Scheme is case-insensitive.
        #expect(await h.send("GET", path, headers: [("Authorization", "bearer \(rw)")]).status == 200)
        // A revoked token stops working.
        #expect(try await h.store.deleteStaticToken(try Identity.token(named: "rw")))
        #expect(await h.send("GET", path, token: rw).status == 401)
    }
}

@Suite struct UploadTests {
    @Test func duplicateOversizedAndInvalid() async throws {
        let h = try APIHarness(maxUploadBytes: 4096)
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let ro = try await h.token("ro", Permissions(download: true))
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        let dup = try await h.publish("1.0.0", token: rw)
        #expect(dup.status == 409)
        #expect(try await h.publish("1.0.0+build.2", token: rw).status == 409)
        #expect(try await h.publish("1.1.0", token: ro).status == 403)
        #expect(try await h.publish("1.1.0", token: "").status == 401)

        var noise = [UInt8]()
        for i in 0..<10_000 { noise.append(UInt8(truncatingIfNeeded: i &* 2_654_435_761 >> 13)) }
        #expect(try await h.publish("1.2.0", token: rw, body: noise).status == 413)
        let declared = await h.send("POST", "/v1/modules/acme/vpc/aws/1.2.0/upload", token: rw, headers: [("Content-Length", "999999999")], body: [])
        #expect(declared.status == 413)
        #expect(try await h.publish("1.3.0", token: rw, body: Array("not gzip at all".utf8)).status == 400)
        #expect(try await h.publish("1.3.0", token: rw, body: []).status == 400)
        let wrongType = await h.send(
            "POST",
            "/v1/modules/acme/vpc/aws/1.3.0/upload",
            token: rw,
            headers: [("Content-Type", "text/html")],
            body: try APIHarness.moduleArchive()
        )
        #expect(wrongType.status == 415)
        // Nothing half-finished is left behind: one archive, no staging files, one version.
        #expect(h.filesUnder("archives").count == 1)
        #expect(h.filesUnder("tmp").isEmpty)
        #expect(try await h.store.versions(of: try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")).count == 1)
    }

    @Test func maliciousArchivesAreRejectedAndLeaveNothing() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let evil: [[TarEntryShim]] = [
            [.file("/etc/cron.d/x.tf")], [.file("../x.tf")], [.file("main.tf"), .symlink("s", "../../etc/passwd")],
            [.file("main.tf"), .symlink("s", "/etc/passwd")],
        ]
        for (i, entries) in evil.enumerated() {
            let r = try await h.publish("1.0.\(i)", token: rw, body: try TarEntryShim.archive(entries))
            #expect(r.status == 400, "case \(i) gave \(r.status)")
            #expect(r.text.contains("invalid module archive"))
        }
        #expect(h.filesUnder("archives").isEmpty)
        #expect(h.filesUnder("tmp").isEmpty)
    }
}

@Suite struct MalformedInputTests {
    /// None of these may produce a 5xx or a non-JSON error.
    @Test(arguments: [
        "/v1/modules/acme/vpc/aws/../../../etc/passwd/versions", "/v1/modules/acme/v%2Fpc/aws/versions",
        "/v1/modules/acme%2Fvpc/aws/x/versions", "/v1/modules/acme/vpc/aws/1.0/download", "/v1/modules/acme/vpc/aws/v1.0.0/download",
        "/v1/modules/ac me/vpc/aws/versions", "/v1/modules/acme/vpc/AWS/versions", "/v1/modules/acme//vpc/aws/versions",
        "/v1/modules/%/vpc/aws/versions", "/v1/modules/acme/vpc/aws/%00/download", "/v1/modules/-x-/vpc/aws/versions",
        "/v1/modules/acme/vpc/aws/1.0.0/../../2.0.0/download", "/v1/archives/../../registry.db", "/v1/archives/acme/vpc/aws/1.0.0.zip",
        "/v1/archives/acme/vpc/aws/..%2F..%2Fregistry.db.tar.gz", "relative/path", "", "/v2/modules", "/v1", "/v1/modules/a/b",
        "/v1/modules/acme/vpc/aws/1.0.0/upload/extra", "/" + String(repeating: "a/", count: 2000), "/v1/modules/\u{202e}/x/aws/versions",
        "/v1/modules/acme/vpc/aws/1.0.0/download?%zz=1", "/v1/modules?offset=99999999999999999999",
    ])
    func malformedPaths(_ target: String) async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        for method in ["GET", "HEAD", "POST", "DELETE", "PATCH", "get", "BREW"] {
            let r = await h.send(method, target, token: rw)
            #expect((400..<500).contains(r.status), "\(method) \(target) gave \(r.status)")
            #expect(r.header("content-type") == "application/json")
            #expect(r.text.hasPrefix(#"{"errors":[""#))
        }
    }

    @Test func wrongMethodIs405() async throws {
        let h = try APIHarness()
        let r = await h.send("POST", "/.well-known/terraform.json")
        #expect(r.status == 405)
        #expect(await h.send("PUT", "/v1/modules/acme/vpc/aws/versions").status == 405)
    }

    @Test func invalidHostHeaderCannotInjectIntoLinks() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        let r = await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/download", token: rw, headers: [("Host", "evil.com/x?")])
        #expect(r.status == 400)
        let configured = try APIHarness(publicURL: "https://registry.example.com/")
        let rw2 = try await configured.token("rw", Permissions(download: true, upload: true))
        #expect(try await configured.publish("1.0.0", token: rw2).status == 201)
        let r2 = await configured.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/download", token: rw2, headers: [("Host", "evil.com")])
        #expect(r2.header("x-terraform-get")?.hasPrefix("https://registry.example.com/v1/archives/") == true)
    }

    @Test func backendDownIs503() async throws {
        let store = InMemoryMetadataStore()
        let secret = StaticTokenAuthenticator.generate()
        try await store.createStaticToken(try Identity.token(named: "t"), hash: StaticTokenAuthenticator.digest(of: secret), createdAt: 0)
        let h = try APIHarness(store: store)
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: secret).status == 403)
        await store.setDown(true)
        let r = await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: secret)
        #expect(r.status == 503)
        #expect(r.header("retry-after") != nil)
        #expect(r.text == #"{"errors":["the metadata store is unavailable, try again later"]}"#)
        #expect(await h.send("GET", "/.well-known/terraform.json").status == 200)
        await store.setDown(false)
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: secret).status == 403)
    }
}

/// Builds hostile archives for upload tests.
enum TarEntryShim {
    case file(String)
    case symlink(String, String)

    static func archive(_ entries: [TarEntryShim]) throws -> [UInt8] {
        try Gzip.compress(
            TarWriter.archive(
                entries.map {
                    switch $0 {
                    case .file(let p): TarEntry(path: p, kind: .file(Array("locals {}\n".utf8)))
                    case .symlink(let p, let t): TarEntry(path: p, kind: .symlink(target: t))
                    }
                }
            )
        )
    }
}

extension String {
    func replacingOccurrences(_ a: String, _ b: String) -> String { replacing(a, with: b) }

    func replacingCharacters(at i: Index, with c: Character) -> String {
        var s = self
        s.replaceSubrange(i...i, with: String(c))
        return s
    }
}
