import TFRegAPI
import TFRegCore
import Testing

/// Issue 19: deprecate and delete (the routes `tfreg deprecate`/`delete` call) under another letter
/// case of the module's name act on the module as published (they answered 404); a caller without
/// `upload` gets 403, whatever the spelling.
@Suite struct WriteUnderAnotherSpellingAPITests {
    @Test func deprecateAndDeleteUnderAnotherSpelling() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        let ro = try await h.token("ro", Permissions(download: true))
        for v in ["1.0.0", "1.1.0"] { #expect(try await h.publish(v, token: rw, module: "acme/Vpc/aws").status == 201) }
        let body = Array(#"{"reason": "use acme/net/aws"}"#.utf8)
        let json = [(name: "Content-Type", value: "application/json")]
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: ro, headers: json, body: body).status == 403)
        let marked = await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/deprecate", token: rw, headers: json, body: body)
        #expect(marked.status == 200, "\(marked.status) \(marked.text)")
        #expect(
            try await h.store.version(try Version("1.0.0"), of: try ModuleAddress(namespace: "acme", name: "Vpc", system: "aws"))?.deprecation != nil
        )
        #expect(await h.send("DELETE", "/v1/modules/acme/VPC/aws/1.0.0/deprecate", token: rw).status == 200)
        #expect(await h.send("DELETE", "/v1/modules/acme/vPC/aws/1.1.0", token: ro).status == 403)
        let deleted = await h.send("DELETE", "/v1/modules/acme/vPC/aws/1.1.0", token: rw)
        #expect(deleted.status == 204 || deleted.status == 200, "\(deleted.status) \(deleted.text)")
        let versions = await h.send("GET", "/v1/modules/acme/Vpc/aws/versions", token: rw)
        #expect(versions.text.contains("1.0.0") && !versions.text.contains("1.1.0"), "\(versions.text)")
        #expect(await h.send("DELETE", "/v1/modules/acme/vpc/aws/9.9.9", token: rw).status == 404)
    }
}
