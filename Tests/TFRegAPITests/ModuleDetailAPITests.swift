import TFRegAPI
import TFRegCore
import TFRegJSON
import TFRegStoreLocal
import TFRegTesting
import Testing

/// `GET /v1/modules/NS/NAME/SYS[/VER]` in the public registry's detail shape, from the documentation
/// stored at publish; `description`/`source` at upload; the versions list's source link; gc keeps docs.
@Suite struct ModuleDetailAPITests {
    func json(_ r: APIResponse) throws -> JSONValue {
        try JSONValue(parsing: r.bodyBytes, options: .answers)
    }

    func array(_ v: JSONValue?) -> [JSONValue] {
        if case .array(let items)? = v { return items }
        return []
    }

    @Test func detailHasThePublicRegistryShapeWithTheStoredDocumentation() async throws {
        let documenter = FixedDocumenter(FixedDocumenter.sample)
        let h = try APIHarness(documenter: documenter)
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let source = "https://git.example.com/acme/vpc?tab=1&x=%20"
        let published = await h.send(
            "POST",
            "/v1/modules/acme/vpc/aws/1.0.0/upload?source=" + PercentEncodingForTests.encode(source),
            token: rw,
            headers: [("Content-Type", "application/gzip")],
            body: try APIHarness.moduleArchive()
        )
        #expect(published.status == 201, "\(published.text)")
        #expect(try json(published)["documented"]?.boolValue == true)
        #expect(try await h.publish("1.1.0-rc.1", token: rw).status == 201)

        let r = await h.send("GET", "/v1/modules/acme/vpc/aws", token: rw)
        #expect(r.status == 200, "\(r.text)")
        let d = try json(r)
        #expect(
            d.keys == [
                "id", "owner", "namespace", "name", "version", "provider", "description", "source", "published_at", "downloads", "verified",
                "root", "submodules", "examples", "providers", "versions", "sha256", "published_by", "documented",
            ]
        )
        #expect(d["id"]?.stringValue == "acme/vpc/aws/1.0.0", "the latest is the highest release")
        #expect(d["description"]?.stringValue == "Creates a VPC with subnets across zones.")
        #expect(d["source"]?.stringValue == source)
        #expect(d["published_by"]?.stringValue == d["owner"]?.stringValue && d["owner"]?.stringValue?.hasPrefix("token:rw") == true)
        #expect(array(d["versions"]).compactMap(\.stringValue) == ["1.1.0-rc.1", "1.0.0"])
        #expect(array(d["providers"]).compactMap(\.stringValue) == ["aws"])
        let root = try #require(d["root"])
        #expect(root["path"]?.stringValue == "" && root["name"]?.stringValue == "vpc" && root["empty"]?.boolValue == false)
        #expect(root["readme"]?.stringValue == FixedDocumenter.sample.root.readme)
        let inputs = array(root["inputs"])
        #expect(inputs.count == 2)
        #expect(inputs.first?.keys == ["name", "type", "description", "default", "required", "sensitive", "nullable"])
        #expect(inputs.first?["name"]?.stringValue == "cidr" && inputs.first?["required"]?.boolValue == true)
        #expect(inputs.first?["default"]?.stringValue == "", "a required input's default is an empty string, never null")
        // The default is a JSON-encoded string (terraform-ls decodes it as a string).
        #expect(inputs.last?["default"] == .string("{\"team\":\"a\"}"))
        #expect(array(root["outputs"]).first?["name"]?.stringValue == "vpc_id")
        #expect(array(root["dependencies"]).first?["version"]?.stringValue == "", "strings are never null")
        #expect(array(root["provider_dependencies"]).first?["source"]?.stringValue == "hashicorp/aws")
        #expect(array(root["resources"]).first?["type"]?.stringValue == "aws_vpc")
        #expect(root["required_version"]?.stringValue == ">= 1.5")
        let sub = array(d["submodules"])
        #expect(sub.count == 1 && sub.first?["path"]?.stringValue == "modules/subnets" && sub.first?["name"]?.stringValue == "subnets")
        let example = array(d["examples"]).first
        #expect(example?["name"]?.stringValue == "simple" && array(example?["problems"]).count == 1)

        // One version, and the versions list's source link (Renovate).
        let pre = try json(await h.send("GET", "/v1/modules/acme/vpc/aws/1.1.0-rc.1", token: rw))
        #expect(pre["version"]?.stringValue == "1.1.0-rc.1" && pre["source"]?.stringValue == "")
        let versions = try json(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: rw))
        #expect(array(versions["modules"]).first?["source"]?.stringValue == source)
        // The listing carries description and source from the summary.
        let list = try json(await h.send("GET", "/v1/modules/acme", token: rw))
        #expect(array(list["modules"]).first?["description"]?.stringValue == "Creates a VPC with subnets across zones.")
        #expect(await documenter.calls == 2, "extracted once per publish, never on a read")
    }

    @Test func uploadRefusesBadDetailsBeforeReadingTheBody() async throws {
        let h = try APIHarness(documenter: FixedDocumenter(FixedDocumenter.sample))
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        for query in [
            "source=javascript%3Aalert(1)", "source=https%3A%2F%2Fa%20b", "description=a%00b", "description=x&description=y",
            "description=" + String(repeating: "a", count: 1100),
        ] {
            let r = await h.send(
                "POST",
                "/v1/modules/acme/vpc/aws/1.0.0/upload?" + query,
                token: rw,
                headers: [("Content-Type", "application/gzip")],
                body: try APIHarness.moduleArchive()
            )
            #expect(r.status == 400, "\(query): \(r.text)")
        }
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws", token: rw).status == 404)
        let given = await h.send(
            "POST",
            "/v1/modules/acme/vpc/aws/1.0.0/upload?description=Our%20VPC",
            token: rw,
            headers: [("Content-Type", "application/gzip")],
            body: try APIHarness.moduleArchive()
        )
        #expect(try json(given)["description"]?.stringValue == "Our VPC")
    }

    @Test func withoutDocumentationTheDetailSaysSoAndGCKeepsStoredDocs() async throws {
        let plain = try APIHarness()
        let rw = try await plain.token("rw", Permissions(download: true, upload: true))
        #expect(try await plain.publish("1.0.0", token: rw).status == 201)
        let d = try json(await plain.send("GET", "/v1/modules/acme/vpc/aws/1.0.0", token: rw))
        #expect(d["documented"]?.boolValue == false && array(d["root"]?["inputs"]).isEmpty && d["description"]?.stringValue == "")
        let reader = try await plain.token("other", Permissions(download: true), in: ["elsewhere"])
        #expect(await plain.send("GET", "/v1/modules/acme/vpc/aws", token: reader).status == 403)

        let h = try APIHarness(documenter: FixedDocumenter(FixedDocumenter.sample))
        let token = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: token).status == 201)
        let docs = h.filesUnder("archives").filter { $0.hasSuffix(".json") }
        #expect(docs.count == 1)
        let report = try await LocalGarbageCollector.collect(
            store: h.store,
            storage: h.storage,
            graceSeconds: 0,
            stagingGraceSeconds: 0,
            now: 4_000_000_000,
            dryRun: false
        )
        #expect(report.removedArchives == 0 && report.unreferenced.isEmpty, "\(report)")
        #expect(h.filesUnder("archives").filter { $0.hasSuffix(".json") } == docs)
        #expect(try json(await h.send("GET", "/v1/modules/acme/vpc/aws", token: token))["documented"]?.boolValue == true)
    }
}

/// `GET /v1/modules/search` on the real SQLite store (FTS5 for README words): ranked, and hostile
/// text is never query syntax (a 200, never a 500).
@Suite struct ModuleSearchAPITests {
    @Test func searchFindsAReadmeOnlyWordAndHostileTextIsNeverSyntax() async throws {
        let h = try APIHarness(documenter: FixedDocumenter(FixedDocumenter.sample))
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        #expect(try await h.publish("1.0.0", token: rw).status == 201)
        #expect(try await h.publish("1.0.0", token: rw, module: "acme/across/aws").status == 201)
        // "across" is in acme/vpc/aws's README only, and in acme/across/aws's address.
        let r = await h.send("GET", "/v1/modules/search?q=ACROSS", token: rw)
        #expect(r.status == 200, "\(r.text)")
        let found = try JSONValue(parsing: r.bodyBytes, options: .answers)
        guard case .array(let items)? = found["modules"] else {
            Issue.record("no modules")
            return
        }
        #expect(items.compactMap { $0["id"]?.stringValue } == ["acme/across/aws/1.0.0", "acme/vpc/aws/1.0.0"])
        #expect(found["meta"]?["current_offset"]?.intValue == 0)
        // "more" is only in the README's second paragraph (the description is the first).
        let readmeOnly = await h.send("GET", "/v1/modules/search?q=more&provider=aws&namespace=acme", token: rw)
        #expect(
            readmeOnly.status == 200 && readmeOnly.text.contains("acme/vpc/aws/1.0.0") && readmeOnly.text.contains("across/aws"),
            "\(readmeOnly.text)"
        )
        #expect(await h.send("GET", "/v1/modules/search?q=more&provider=google", token: rw).text.contains("\"modules\":[]"))
        for q in [
            "%00", "%22", "%22%22%22", "AND", "OR%20NOT", "NEAR(a%20b)", "a*", "%5Ezones", "words:zones", "%7Bwords%7D:x", "(((", "%E2%80%AE", "-",
        ] {
            let hostile = await h.send("GET", "/v1/modules/search?q=" + q, token: rw)
            #expect(hostile.status == 200, "\(q): \(hostile.status) \(hostile.text)")
        }
        #expect(await h.send("GET", "/v1/modules/search?q=" + String(repeating: "a", count: 300), token: rw).status == 400)
        #expect(await h.send("GET", "/v1/modules/search?q=zones&namespace=elsewhere", token: rw).status == 403)
        #expect(await h.send("GET", "/v1/modules/search?q=zones", token: nil).status == 401)
    }
}

/// Query-string encoding for the tests (the CLI's own is `PercentEncoding` in TFRegCrypto).
enum PercentEncodingForTests {
    static func encode(_ s: String) -> String {
        var out = ""
        for b in s.utf8 {
            if (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b == 0x2d || b == 0x2e || b == 0x5f {
                out.unicodeScalars.append(Unicode.Scalar(b))
            } else {
                let hex = Array("0123456789ABCDEF")
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }
}
