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

    /// The stack-context one-shot (`SHA256.hash`) against the EVP stream (`SHA256.Hasher`) for every
    /// length around the 64-byte block and its padding edge (55/56 bytes), contiguous or not; and a
    /// prepared HMAC key reused many times gives what a fresh key gives each time.
    @Test func oneShotAgreesWithTheStreamAndPreparedKeysAreReusable() {
        for n in Array(0...130) + [1000, 4097] {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
            var h = SHA256.Hasher()
            h.update(bytes)
            let streamed = h.finalize()
            #expect(SHA256.hash(bytes) == streamed, "\(n) bytes")
            #expect(SHA256.hash(bytes.lazy.map { $0 }) == streamed, "\(n) bytes, not contiguous")
        }
        let key = HMACSHA256.Key(Array("Jefe".utf8))
        for _ in 0..<3 {
            #expect(
                Hex.encode(HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: key))
                    == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
            )
        }
        for n in [0, 1, 63, 64, 65, 200] {
            let k = [UInt8](repeating: 0x5a, count: n)
            #expect(HMACSHA256.authenticate(Array("m".utf8), key: HMACSHA256.Key(k)) == HMACSHA256.authenticate(Array("m".utf8), key: k))
        }
    }

    /// RFC 4231 test cases 1, 2, 4 (a 25-byte key, 50-byte message) and 6 (a key longer than the
    /// block: hashed first), and every key length around the block size against a second computation.
    @Test func hmacRFC4231() {
        let key1 = [UInt8](repeating: 0x0b, count: 20)
        #expect(
            Hex.encode(HMACSHA256.authenticate(Array("Hi There".utf8), key: key1))
                == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        )
        #expect(
            Hex.encode(HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8)))
                == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        )
        #expect(
            Hex.encode(HMACSHA256.authenticate([UInt8](repeating: 0xcd, count: 50), key: Array(1...25)))
                == "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"
        )
        #expect(
            Hex.encode(
                HMACSHA256.authenticate(
                    Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8),
                    key: [UInt8](repeating: 0xaa, count: 131)
                )
            ) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )
        // Keys of 63, 64 and 65 bytes (the block edge), as a message's own HMAC by the definition.
        for n in [0, 1, 32, 63, 64, 65, 200] {
            let key = (0..<n).map { UInt8(truncatingIfNeeded: $0 &* 7) }
            var block = key.count > 64 ? SHA256.hash(key) : key
            block += [UInt8](repeating: 0, count: 64 - block.count)
            let message = Array("message \(n)".utf8)
            let inner = SHA256.hash(block.map { $0 ^ 0x36 } + message)
            #expect(HMACSHA256.authenticate(message, key: key) == SHA256.hash(block.map { $0 ^ 0x5c } + inner), "key of \(n) bytes")
        }
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
        // In place or copied (a Substring, a non-contiguous bridged view): the same answers, padding included.
        #expect(Base64.decode("xxZm9vYg==".dropFirst(2)) == Array("foob".utf8))
        #expect(Base64.decode("Zm9vYg===") == nil && Base64.decode("====") == nil && Base64.decode("") == [])
        #expect(Base64.decode("Zm\u{e9}v", urlSafe: true) == nil)
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

@Suite struct AESGCMTests {
    /// The GCM specification's test case 16 (AES-256, with AAD); also what Python's `cryptography` computes.
    @Test func specificationVector() throws {
        let key = Hex.decode("feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308")!
        let plain = Hex.decode(
            "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39"
        )!
        let aad = Hex.decode("feedfacedeadbeeffeedfacedeadbeefabaddad2")!
        let sealed = AESGCM.seal(plain, key: key, aad: aad, nonce: Hex.decode("cafebabefacedbaddecaf888")!)
        #expect(
            Hex.encode(sealed.ciphertext)
                == "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
        )
        #expect(Hex.encode(sealed.tag) == "76fc6ece0f4e1768cddf8853bb2d551b")
        #expect(AESGCM.open(sealed, key: key, aad: aad) == plain)
    }

    /// `AESGCM.OpeningKey` (a prepared key with reused contexts, on every sealed-token request) answers
    /// exactly as `open`: the right message opens, any change fails, and a failure does not spoil the
    /// next opening; many at once each get their own context.
    @Test func aPreparedKeyOpensAsOpenDoes() async {
        let key = SecureRandom.bytes(32)
        #expect(AESGCM.OpeningKey(SecureRandom.bytes(31)) == nil)
        let prepared = AESGCM.OpeningKey(key)!
        let aad = Array("header".utf8)
        let messages = (0..<8).map { AESGCM.seal(Array("claims \($0)".utf8), key: key, aad: aad) }
        for (i, m) in messages.enumerated() {
            #expect(prepared.open(m, aad: aad) == Array("claims \(i)".utf8))
            #expect(prepared.open(m, aad: Array("headeR".utf8)) == nil)
            var t = m.tag
            t[0] ^= 1
            #expect(prepared.open(.init(nonce: m.nonce, ciphertext: m.ciphertext, tag: t), aad: aad) == nil)
            #expect(prepared.open(.init(nonce: m.nonce, ciphertext: m.ciphertext, tag: Array(m.tag.prefix(8))), aad: aad) == nil)
            #expect(prepared.open(m, aad: aad) == AESGCM.open(m, key: key, aad: aad))
        }
        #expect(AESGCM.OpeningKey(SecureRandom.bytes(32))!.open(messages[0], aad: aad) == nil)
        await withTaskGroup(of: Bool.self) { group in
            for i in 0..<64 {
                group.addTask { prepared.open(messages[i % 8], aad: aad) == Array("claims \(i % 8)".utf8) }
            }
            for await ok in group { #expect(ok) }
        }
    }

    @Test func anyChangeFailsToOpen() {
        let key = SecureRandom.bytes(32)
        let s = AESGCM.seal(Array("claims".utf8), key: key, aad: Array("header".utf8))
        #expect(AESGCM.open(s, key: key, aad: Array("header".utf8)) == Array("claims".utf8))
        #expect(AESGCM.open(s, key: key, aad: Array("headeR".utf8)) == nil)
        #expect(AESGCM.open(s, key: SecureRandom.bytes(32), aad: Array("header".utf8)) == nil)
        var c = s.ciphertext
        c[0] ^= 1
        #expect(AESGCM.open(.init(nonce: s.nonce, ciphertext: c, tag: s.tag), key: key, aad: Array("header".utf8)) == nil)
        var t = s.tag
        t[15] ^= 0x80
        #expect(AESGCM.open(.init(nonce: s.nonce, ciphertext: s.ciphertext, tag: t), key: key, aad: Array("header".utf8)) == nil)
        #expect(
            AESGCM.open(.init(nonce: s.nonce, ciphertext: s.ciphertext, tag: Array(s.tag.prefix(12))), key: key, aad: Array("header".utf8)) == nil
        )
        // Nonces are fresh per message.
        #expect(AESGCM.seal([1], key: key, aad: []).nonce != AESGCM.seal([1], key: key, aad: []).nonce)
    }
}
