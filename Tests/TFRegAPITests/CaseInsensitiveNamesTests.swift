import TFRegAPI
import TFRegCore
import TFRegJSON
import Testing

/// Module addresses are case-insensitive, as Terraform compares registry addresses: the first
/// publish's spelling is kept, a second spelling is refused (409 naming the first), and every read
/// under another spelling finds the module, authorized on its stored namespace.
@Suite struct CaseInsensitiveNamesTests {
    func json(_ r: APIResponse) throws -> JSONValue { try JSONValue(parsing: r.bodyBytes, options: .answers) }

    @Test func secondSpellingIsRefusedNamingTheFirst() async throws {
        let h = try APIHarness()
        // Grants on both spellings (written to the store directly, as data from before the rule).
        let rw = try await h.token("rw", Permissions(download: true, upload: true), in: ["acme", "ACME"])
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/Vpc/aws").status == 201)
        for other in ["acme/vpc/aws", "acme/VPC/aws", "ACME/Vpc/aws", "ACME/vpc/aws"] {
            let r = try await h.publish("2.0.0", token: rw, module: other)
            #expect(r.status == 409, "\(other): \(r.status) \(r.text)")
            #expect(r.text.contains("another spelling of module acme/Vpc/aws"), "\(other): \(r.text)")
        }
        // A new module under a second spelling of the namespace is refused too.
        let ns = try await h.publish("1.0.0", token: rw, module: "ACME/dns/aws")
        #expect(ns.status == 409 && ns.text.contains("another spelling of namespace acme"), "\(ns.text)")
        // The stored spelling keeps publishing; a new module in it is fine.
        #expect(try await h.publish("1.1.0", token: rw, module: "acme/Vpc/aws").status == 201)
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/dns/aws").status == 201)
        let list = try json(await h.send("GET", "/v1/modules/acme", token: rw))
        guard case .array(let modules)? = list["modules"] else {
            Issue.record("no modules: \(list)")
            return
        }
        #expect(modules.compactMap { $0["name"]?.stringValue } == ["Vpc", "dns"], "one module per name, in the first spelling")
    }

    @Test func readsUnderAnotherSpellingFindTheModule() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/Vpc/aws").status == 201)
        for spelling in ["acme/vpc/aws", "ACME/VPC/aws", "Acme/vPc/aws", "acme/Vpc/aws"] {
            let versions = await h.send("GET", "/v1/modules/\(spelling)/versions", token: rw)
            #expect(versions.status == 200 && versions.text.contains("1.0.0"), "\(spelling): \(versions.text)")
            let detail = await h.send("GET", "/v1/modules/\(spelling)", token: rw)
            #expect(detail.status == 200, "\(spelling): \(detail.text)")
            #expect(try json(detail)["id"]?.stringValue == "acme/Vpc/aws/1.0.0", "the detail shows the stored spelling")
            let download = await h.send("GET", "/v1/modules/\(spelling)/1.0.0/download", token: rw)
            #expect(download.status == 204, "\(spelling): \(download.text)")
            let link = try #require(download.header("X-Terraform-Get"))
            #expect(link.contains("/acme/Vpc/aws/1.0.0/"), "the link names the stored module: \(link)")
            let archive = await h.send("GET", String(link.dropFirst("https://registry.test:8443".count)))
            #expect(archive.status == 200, "\(spelling): the archive link works: \(archive.status)")
            #expect(await h.send("GET", "/v1/modules/\(spelling)/9.9.9/download", token: rw).status == 404)
        }
        #expect(await h.send("GET", "/v1/modules/acme/vpcs/aws/versions", token: rw).status == 404)
        // The web page too, showing the stored spelling.
        let session = try await WebFlowTests.signIn(h, token: rw)
        let page = await h.send("GET", "/modules/ACME/vpc/aws", headers: [("Cookie", "\(WebSessions.sessionCookie)=\(session)")])
        #expect(page.status == 200 && page.text.contains("acme/Vpc/aws"), "\(page.status)")
    }

    /// A grant on the stored spelling, a publish under another: the 409 says which spelling to use
    /// (not a 403 about the other namespace); without a grant on either, still 403.
    @Test func publishUnderAnotherNamespaceSpellingSaysWhichToUse() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let reader = try await h.token("reader", Permissions(download: true))
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/vpc/aws").status == 201)
        let r = try await h.publish("2.0.0", token: rw, module: "ACME/Vpc/aws")
        #expect(r.status == 409 && r.text.contains("another spelling of module acme/vpc/aws"), "\(r.status) \(r.text)")
        let n = try await h.publish("1.0.0", token: rw, module: "Acme/dns/aws")
        #expect(n.status == 409 && n.text.contains("another spelling of namespace acme"), "\(n.status) \(n.text)")
        #expect(try await h.publish("2.0.0", token: reader, module: "ACME/vpc/aws").status == 403)
        #expect(try await h.publish("1.0.0", token: rw, module: "other/vpc/aws").status == 403)
    }

    /// Deny by default: a grant on one spelling of a namespace never reads another's modules, and
    /// the answer names nothing stored.
    @Test func grantsDoNotCrossSpellings() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let outsider = try await h.token("outsider", Permissions(download: true, upload: true), in: ["ACME"])
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/vpc/aws").status == 201)
        for target in ["/v1/modules/ACME/vpc/aws/versions", "/v1/modules/ACME/vpc/aws", "/v1/modules/ACME/vpc/aws/1.0.0/download"] {
            let r = await h.send("GET", target, token: outsider)
            // Its grant is on `ACME`, where nothing is stored: not found, and nothing of `acme` named.
            #expect(r.status == 404, "\(target): \(r.status) \(r.text)")
            #expect(!r.text.contains("acme"), "the answer names the asked spelling only: \(r.text)")
        }
        // A publish under the outsider's spelling is refused without naming the stored spelling.
        let p = try await h.publish("2.0.0", token: outsider, module: "ACME/vpc/aws")
        #expect(p.status == 409 && !p.text.contains("acme/vpc"), "\(p.text)")
        #expect(await h.send("GET", "/v1/modules/ACME/vpc/aws/versions", token: rw).status == 200)
    }

    /// A grant on another spelling of a namespace that holds modules would never apply: refused.
    @Test func grantOnAnotherSpellingIsRefused() async throws {
        let h = try APIHarness()
        let admin = try await h.token("admin", Permissions(download: true, upload: true, createGrant: true, deleteGrant: true), in: ["acme", "Acme"])
        #expect(try await h.publish("1.0.0", token: admin, module: "acme/vpc/aws").status == 201)
        let body = Array(#"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": true}}"#.utf8)
        let headers: [(name: String, value: String)] = [("Content-Type", "application/json")]
        let refused = await h.send("PUT", "/v1/grants/Acme", token: admin, headers: headers, body: body)
        #expect(refused.status == 409 && refused.text.contains("grant on acme"), "\(refused.status) \(refused.text)")
        #expect(await h.send("PUT", "/v1/grants/acme", token: admin, headers: headers, body: body).status == 200)
    }
}
