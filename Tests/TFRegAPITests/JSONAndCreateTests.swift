import TFRegAPI
import TFRegCore
import TFRegJSON
import Testing

@Suite struct JSONParserTests {
    func parse(_ s: String) throws(RegistryError) -> JSONValue { try JSONParser.parse(Array(s.utf8)) }

    @Test func acceptsWellFormedValues() throws {
        let v = try parse(#" {"a": [1, -2, true, false, null], "b": "x\"\\\/\u00e9\ud83d\ude00\n", "c": {}} "#)
        #expect(v["a"] == .array([.int(1), .int(-2), .bool(true), .bool(false), .null]))
        #expect(v["b"]?.stringValue == "x\"\\/é😀\n")
        #expect(v["c"] == .object([]))
        #expect(v.keys == ["a", "b", "c"])
    }

    /// Inputs two parsers could read two ways, or that hide something, are refused outright.
    @Test(arguments: [
        #"{"a": 1, "a": 2}"#, #"{"a": 1} x"#, #"{"a": 1,}"#, "[1,]", #"{"a": 01}"#, #"{"a": 1.5}"#, #"{"a": 1e3}"#,
        #"{"a": "\ud800"}"#, #"{"a": "\udc00x"}"#, "{\"a\": \"\u{01}\"}", #"{"a": "\x"}"#, "{'a': 1}", "", "nul", "tru",
        #"{"a": 99999999999999999999}"#, String(repeating: "[", count: 17) + String(repeating: "]", count: 17), #"{"a" 1}"#, #""abc"#,
    ])
    func rejectsAmbiguousOrMalformed(_ input: String) {
        #expect(throws: RegistryError.badRequest("")) { try parse(input) }
    }

    @Test func rejectsInvalidUTF8() {
        #expect(throws: RegistryError.badRequest("")) { try JSONParser.parse([0x22, 0xff, 0xfe, 0x22]) }
    }
}

@Suite struct ExternalLocationTests {
    @Test(arguments: [("modules-bucket", "acme/vpc/1.0.0.tar.gz"), ("a.b-c", "x.zip"), ("abc", "dir/file name.tgz")])
    func valid(_ bucket: String, _ key: String) throws {
        #expect(try ArchiveLocation.external(bucket: bucket, key: key) == ArchiveLocation(bucket: bucket, key: key))
    }

    @Test(arguments: [
        ("ab", "k.tar.gz"), ("Upper", "k.tar.gz"), ("-abc", "k.tar.gz"), ("a..b", "k.tar.gz"), ("xn--abc", "k.tar.gz"), ("a_b", "k.tar.gz"),
        ("abc", "k.txt"), ("abc", "/k.tar.gz"), ("abc", "../k.tar.gz"), ("abc", "a/./k.tar.gz"), ("abc", "a\nb.tar.gz"), ("abc", "a\\b.tar.gz"),
        ("abc", ""), ("abc", String(repeating: "k", count: 1025) + ".zip"),
    ])
    func invalid(_ bucket: String, _ key: String) {
        #expect(throws: RegistryError.badRequest("")) { try ArchiveLocation.external(bucket: bucket, key: key) }
    }
}

@Suite struct CreateRouteTests {
    let body = Array(#"{"bucket": "byob", "key": "acme/vpc/1.0.0.tar.gz", "expected_checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="}"#.utf8)

    @Test func authorizesFirstThenExplainsThatLocalStorageCannotCreate() async throws {
        let h = try APIHarness()
        let reader = try await h.token("reader", Permissions(download: true))
        let writer = try await h.token("writer", Permissions(download: true, upload: true))
        let json: [(name: String, value: String)] = [("Content-Type", "application/json")]
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/create", headers: json, body: body).status == 401)
        #expect(await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/create", token: reader, headers: json, body: body).status == 403)
        let local = await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/create", token: writer, headers: json, body: body)
        #expect(local.status == 400 && local.text.contains("upload endpoint"), "\(local.text)")
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/1.0.0/create", token: writer).status == 405)
        #expect(
            await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/create", token: writer, headers: [("Content-Type", "text/plain")], body: body).status
                == 415
        )
        for bad in [
            #"{"bucket": "byob"}"#, #"{"bucket": 1, "key": "k.tar.gz", "expected_checksum": "x"}"#,
            #"{"bucket": "byob", "key": "k.tar.gz", "expected_checksum": "short"}"#,
            #"{"bucket": "byob", "key": "k.tar.gz", "expected_checksum": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", "extra": 1}"#, "[]", "{",
        ] {
            let r = await h.send("POST", "/v1/modules/acme/vpc/aws/1.0.0/create", token: writer, headers: json, body: Array(bad.utf8))
            #expect(r.status == 400 && r.text.hasPrefix(#"{"errors":["#), "\(bad): \(r.status) \(r.text)")
        }
        let huge = await h.send(
            "POST",
            "/v1/modules/acme/vpc/aws/1.0.0/create",
            token: writer,
            headers: json,
            body: [UInt8](repeating: 0x20, count: 20_000)
        )
        #expect(huge.status == 413)
    }
}
