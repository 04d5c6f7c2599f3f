import TFRegAPI
import TFRegCore
import Testing

@Suite struct ArchiveURLSignerTests {
    let signer = ArchiveURLSigner(key: [UInt8](repeating: 1, count: 32), lifetime: 300)
    let path = "/v1/archives/acme/vpc/aws/1.0.0.tar.gz"

    func parts(_ query: String) -> (String, String) {
        let items = URLParsing.queryItems(query)!
        return (items.first { $0.name == "expires" }!.value, items.first { $0.name == "signature" }!.value)
    }

    @Test func roundTripAndExpiry() throws {
        let (exp, sig) = parts(signer.query(forPath: path, now: 1000))
        #expect(exp == "1300")
        try signer.verify(path: path, expires: exp, signature: sig, now: 1000)
        try signer.verify(path: path, expires: exp, signature: sig, now: 1300)
        #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path, expires: exp, signature: sig, now: 1301) }
    }

    @Test func bindsPathExpiryAndKey() throws {
        let (exp, sig) = parts(signer.query(forPath: path, now: 1000))
        #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path + "x", expires: exp, signature: sig, now: 1000) }
        #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path, expires: "1299", signature: sig, now: 1000) }
        let other = ArchiveURLSigner(key: [UInt8](repeating: 2, count: 32), lifetime: 300)
        #expect(throws: RegistryError.forbidden("")) { try other.verify(path: path, expires: exp, signature: sig, now: 1000) }
        // A signature whose expiry lies far beyond the lifetime is refused even if the MAC matched.
        let (farExp, farSig) = parts(ArchiveURLSigner(key: [UInt8](repeating: 1, count: 32), lifetime: 100_000).query(forPath: path, now: 1000))
        #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path, expires: farExp, signature: farSig, now: 1000) }
        for bad in [nil, "", "12a", "-5", String(repeating: "9", count: 30)] {
            #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path, expires: bad, signature: sig, now: 1000) }
        }
        for bad in [nil, "", "not base64!", String(sig.dropLast()), sig + "A"] {
            #expect(throws: RegistryError.forbidden("")) { try signer.verify(path: path, expires: exp, signature: bad, now: 1000) }
        }
    }
}

@Suite struct URLParsingTests {
    @Test func segments() {
        #expect(URLParsing.segments(of: "/v1/modules/a/b/c/versions") == ["v1", "modules", "a", "b", "c", "versions"])
        #expect(URLParsing.segments(of: "/v1/modules/") == ["v1", "modules"])
        #expect(URLParsing.segments(of: "/") == [])
        #expect(URLParsing.segments(of: "/a%2Db") == ["a-b"])
        for bad in [
            "", "v1", "//", "/a//", "///", "/a//b", "/a/%2F/b", "/a%2Fb", "/a/../b", "/a/./b", "/a/%2e%2e/b", "/%", "/%zz", "/a b", "/a\u{0}b", "/é",
            "/a%00b", "/a\\b", "/a%5Cb",
        ] {
            #expect(URLParsing.segments(of: bad) == nil, "\(bad)")
        }
    }

    @Test func query() {
        let items = URLParsing.queryItems("q=a+b&x=%2F&empty=&flag")!
        #expect(items.map(\.name) == ["q", "x", "empty", "flag"])
        #expect(items.map(\.value) == ["a b", "/", "", ""])
        #expect(URLParsing.queryItems("a=%zz") == nil)
    }
}
