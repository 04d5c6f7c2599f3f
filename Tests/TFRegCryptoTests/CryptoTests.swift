import Testing
@testable import TFRegCrypto

@Suite struct CryptoTests {
    @Test func sha256Vectors() {
        #expect(Hex.encode(SHA256.hash(Array("".utf8))) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(Hex.encode(SHA256.hash(Array("abc".utf8))) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        var h = SHA256.Hasher()
        h.update(Array("a".utf8))
        h.update(Array("bc".utf8))
        #expect(Hex.encode(h.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    }

    /// RFC 4231 test cases 1 and 2.
    @Test func hmacRFC4231() {
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        #expect(Hex.encode(HMACSHA256.authenticate(Array("Hi There".utf8), key: key1)) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        #expect(Hex.encode(HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8))) == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }

    @Test func base64RoundTripAndStrictness() {
        for n in 0..<40 {
            let bytes = SecureRandom.bytes(n)
            #expect(Base64.decode(Base64.encode(bytes)) == bytes)
            #expect(Base64.decode(Base64.encode(bytes, urlSafe: true), urlSafe: true) == bytes)
        }
        #expect(Base64.encode(Array("foobar".utf8)) == "Zm9vYmFy")
        #expect(Base64.encode(Array("fo".utf8)) == "Zm8=")
        #expect(Base64.decode("Zm8") == nil)  // missing padding
        #expect(Base64.decode("Zm9=", urlSafe: false) == nil)  // non-canonical trailing bits
        #expect(Base64.decode("a+b/", urlSafe: true) == nil)
        #expect(Base64.decode("a-b_", urlSafe: false) == nil)
        #expect(Base64.decode("Z", urlSafe: true) == nil)
    }

    @Test func hexAndConstantTime() {
        #expect(Hex.decode("00ffA0") == [0, 255, 160])
        #expect(Hex.decode("0") == nil && Hex.decode("zz") == nil)
        #expect(constantTimeEquals([1, 2, 3], [1, 2, 3]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2, 4]))
        #expect(!constantTimeEquals([1, 2, 3], [1, 2]))
        #expect(SecureRandom.bytes(32) != SecureRandom.bytes(32))
    }

    @Test func percentEncoding() {
        #expect(PercentEncoding.encode("a b/ü~-._+") == "a%20b%2F%C3%BC~-._%2B")
        #expect(PercentEncoding.encode("a b/c", keepSlash: true) == "a%20b/c")
    }
}
