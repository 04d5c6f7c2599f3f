import TFRegAPI
import TFRegCore
import TFRegJSON
import TFRegTesting
import Testing

/// Issue 19, scale: hostile search text and paging parameters on the real SQLite store answer 200 or
/// 400, never 500, and the pages they give are the right ones.
@Suite struct ModuleSearchPagingAPITests {
    func ids(_ r: APIResponse) throws -> [String] {
        let found = try JSONValue(parsing: r.bodyBytes, options: .answers)
        guard case .array(let items)? = found["modules"] else { return [] }
        return items.compactMap { $0["id"]?.stringValue }
    }

    @Test func hostileSearchAndPagingAre200Or400() async throws {
        let h = try APIHarness()
        let rw = try await h.token("rw", Permissions(download: true, upload: true))
        for m in ["acme/net/aws", "acme/net-core/aws", "acme/net_x/aws", "acme/netx/google"] {
            #expect(try await h.publish("1.0.0", token: rw, module: m).status == 201)
        }
        let punctuation = String(repeating: "!*%22()-:^{}", count: 20)
        var answered = 0
        for (query, status) in [
            ("q=" + PercentEncodingForTests.encode(punctuation.prefix(256).description), 200),
            ("q=" + PercentEncodingForTests.encode(String(repeating: "%\"*", count: 342)), 400),  // 1 KiB
            ("q=a+b+c+d+e+f+g+h+i+j+k", 200), ("q=net+net+net+net+net+net+net+net+net+net", 200),
            ("q=%22net%22+OR+%22x%22", 200), ("q=NEAR(net+core)", 200), ("q=net*", 200), ("q=*", 200), ("q=%0D%0A", 200),
            ("q=%00", 200), ("q=net&offset=1000000", 200), ("q=net&offset=1000001", 400), ("q=net&offset=99999999999999999999", 400),
            ("q=net&offset=-1", 400), ("q=net&limit=0", 400), ("q=net&limit=-1", 400), ("q=net&limit=10000", 200),
            ("q=net&limit=99999999999999999999", 400), ("q=net&provider=%2A", 400), ("q=", 400),
        ] {
            let r = await h.send("GET", "/v1/modules/search?" + query, token: rw)
            #expect(r.status == status, "\(query): \(r.status) \(r.text)")
            answered += 1
        }
        #expect(answered == 20)
        // Ten "net"s are one term; the address ranks first, then module order ('-' < '/' < '_').
        let net = await h.send("GET", "/v1/modules/search?q=net+net+net+net+net+net+net+net+net+net&limit=10000", token: rw)
        #expect(try ids(net) == ["acme/net-core/aws/1.0.0", "acme/net/aws/1.0.0", "acme/net_x/aws/1.0.0", "acme/netx/google/1.0.0"])
        #expect(net.text.contains("\"limit\":100"), "a limit above 100 is 100: \(net.text)")
        // Pages of one, in the same order, with next_url until the last.
        var seen: [String] = []
        for offset in 0..<5 {
            let r = await h.send("GET", "/v1/modules/search?q=net&limit=1&offset=\(offset)", token: rw)
            seen += try ids(r)
            #expect(r.text.contains("\"next_offset\":\(offset + 1)") == (offset < 3), "\(offset): \(r.text)")
            #expect(r.text.contains("next_url") == (offset < 3), "\(offset): \(r.text)")
        }
        #expect(seen == ["acme/net-core/aws/1.0.0", "acme/net/aws/1.0.0", "acme/net_x/aws/1.0.0", "acme/netx/google/1.0.0"])
        let far = await h.send("GET", "/v1/modules/search?q=net&offset=1000000", token: rw)
        #expect(try ids(far).isEmpty && far.status == 200)
        // Listing pages too.
        let list = await h.send("GET", "/v1/modules/acme?limit=2&offset=1", token: rw)
        #expect(try ids(list) == ["acme/net/aws/1.0.0", "acme/net_x/aws/1.0.0"], "\(list.text)")
    }
}
