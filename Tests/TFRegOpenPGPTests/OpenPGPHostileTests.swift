import Testing

@testable import TFRegOpenPGP

/// Hostile inputs for the key and signature parsers: each is refused with a typed error, never a trap.
@Suite("OpenPGP hostile inputs")
struct OpenPGPHostileTests {
    /// A minimal v4 signature packet body (type, algorithm, hash; hashed creation time; no unhashed area).
    static func signatureBody(type: UInt8 = 0, algorithm: UInt8 = 22, hash: UInt8 = 8, hashed: [UInt8]? = nil, value: [UInt8]? = nil) -> [UInt8] {
        let area = hashed ?? [5, 2, 0x65, 0, 0, 0]
        let v = value ?? [0, 8, 0x80, 0, 8, 0x80]
        return [4, type, algorithm, hash, UInt8(area.count >> 8), UInt8(area.count & 0xff)] + area + [0, 0, 0xAB, 0xCD] + v
    }

    static func packet(tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        precondition(body.count < 192)
        return [0xC0 | tag, UInt8(body.count)] + body
    }

    @Test("A minimal signature parses (the fixture is right), so each refusal below is about its one change")
    func baseline() throws {
        let sig = try OpenPGPSignature.parseDetached(Self.packet(tag: 2, Self.signatureBody()))
        #expect(sig.created == 0x6500_0000)
        #expect(sig.issuerKeyID == nil)
    }

    @Test(
        "Signatures: framing, versions, algorithms, subpackets",
        arguments: [
            ([], OpenPGPError.Code.malformed),
            ([0x00], .malformed),  // no packet bit
            ([0xC2], .malformed),  // length missing
            ([0xC2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], .malformed),  // 4 GiB claimed
            ([0xC2, 0xE0, 0x00], .unsupported),  // partial body length
            ([0x8B, 0x00], .unsupported),  // old format, indeterminate length
            ([0xC0, 0x00], .malformed),  // tag 0
            (packet(tag: 2, [3] + Array(signatureBody().dropFirst())), .unsupported),  // version 3
            (packet(tag: 2, signatureBody(hash: 2)), .unsupported),  // SHA-1
            (packet(tag: 2, signatureBody(hash: 1)), .unsupported),  // MD5
            (packet(tag: 2, signatureBody(algorithm: 17)), .unsupported),  // DSA
            (packet(tag: 2, signatureBody(type: 0x13)), .unsupported),  // a certification, not a document
            (packet(tag: 2, signatureBody(hashed: [])), .malformed),  // no creation time
            (packet(tag: 2, signatureBody(hashed: [5, 2, 0, 0, 0])), .malformed),  // subpacket past its area
            (packet(tag: 2, signatureBody(hashed: [0])), .malformed),  // zero-length subpacket
            (packet(tag: 2, signatureBody(hashed: [5, 2, 1, 1, 1, 1, 2, 0x80 | 26, 0])), .unsupported),  // critical unknown
            (packet(tag: 2, signatureBody(hashed: [3, 2, 1, 1])), .malformed),  // short creation time
            (packet(tag: 2, signatureBody(hashed: [5, 2, 1, 1, 1, 1, 3, 16, 1, 2])), .malformed),  // short issuer
            (packet(tag: 2, signatureBody(value: [0, 9, 0x80, 0, 0, 8, 0x80])), .malformed),  // MPI bit count lies
            (packet(tag: 2, signatureBody(value: [0, 8, 0x80])), .malformed),  // S missing
            (packet(tag: 2, signatureBody(value: [0, 8, 0x80, 0, 8, 0x80, 0])), .malformed),  // trailing byte
            (packet(tag: 2, signatureBody(value: [1, 8] + Array(repeating: 0xff, count: 33) + [0, 8, 0x80])), .malformed),  // R > 32 bytes
            (packet(tag: 2, signatureBody(value: [0xFF, 0xFF])), .tooLarge),  // 65535-bit MPI
            (packet(tag: 2, signatureBody()) + packet(tag: 2, signatureBody()), .malformed),  // two signatures
            (packet(tag: 6, [4]), .malformed),  // a key where a signature belongs
            (Array(repeating: 0x41, count: 20_000), .tooLarge),
        ] as [([UInt8], OpenPGPError.Code)]
    )
    func hostileSignatures(input: [UInt8], code: OpenPGPError.Code) {
        #expect(throws: OpenPGPError(code, "")) { try OpenPGPSignature.parseDetached(input) }
    }

    static let armoredSignature = OpenPGPArmor.encode(packet(tag: 2, signatureBody()), label: "SIGNATURE")

    @Test("Armor: the writer's output reads back; each corruption is refused")
    func armor() throws {
        let good = Array(Self.armoredSignature.utf8)
        #expect(try OpenPGPSignature.parseDetached(good).created == 0x6500_0000)
        // CRLF line endings and a header are fine.
        let crlf = Self.armoredSignature.replacingOccurrences("\n\n", "\nComment: test\n\n").replacingOccurrences("\n", "\r\n")
        #expect(try OpenPGPSignature.parseDetached(Array(crlf.utf8)).created == 0x6500_0000)
        let bad: [String] = [
            Self.armoredSignature.replacingOccurrences("BEGIN PGP SIGNATURE", "BEGIN PGP MESSAGE"),
            Self.armoredSignature.replacingOccurrences("END PGP SIGNATURE", "END PGP MESSAGE"),
            Self.armoredSignature.replacingOccurrences("-----END PGP SIGNATURE-----\n", ""),
            Self.armoredSignature + "trailing text\n",
            "junk\n" + Self.armoredSignature,
            Self.armoredSignature.replacingOccurrences("\n=", "\n=A"),  // checksum too long
            flipChecksum(Self.armoredSignature),
            Self.armoredSignature.replacingOccurrences("\n\n", "\n"),  // no blank line after headers
            Self.armoredSignature.replacingOccurrences("\n=", "\n\n="),  // blank line in the body
            Self.armoredSignature.replacingOccurrences("wQ", "w!"),  // non-base64 (if present)
            "-----BEGIN PGP SIGNATURE-----\n\n=AAAA\n-----END PGP SIGNATURE-----\n",  // empty body
        ]
        for text in bad where text != Self.armoredSignature {
            #expect(throws: OpenPGPError.self, "\(text)") { try OpenPGPSignature.parseDetached(Array(text.utf8)) }
        }
        var headers = "-----BEGIN PGP SIGNATURE-----\n"
        for i in 0..<40 { headers += "Comment: \(i)\n" }
        #expect(throws: OpenPGPError(.tooLarge, "")) { try OpenPGPSignature.parseDetached(Array(headers.utf8)) }
    }

    func flipChecksum(_ armored: String) -> String {
        let lines = armored.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        return lines.map { line in
            guard line.hasPrefix("="), line.count == 5 else { return line }
            return "=" + (line.dropFirst().first == "A" ? "B" : "A") + line.dropFirst(2)
        }.joined(separator: "\n")
    }

    @Test("CRC-24 matches RFC 9580's reference implementation on a known value")
    func crc24() {
        // crc_octets("123456789") per the RFC's algorithm is 0x21CF02.
        #expect(OpenPGPArmor.crc24(Array("123456789".utf8)) == 0x21_CF02)
    }

    /// An RSA public key packet body with a modulus of `bits` bits.
    static func rsaKeyBody(bits: Int) -> [UInt8] {
        let bytes = (bits + 7) / 8
        let n = [UInt8(0x80 >> ((8 - bits % 8) % 8))] + Array(repeating: 0x01, count: bytes - 1)
        return [4, 0x65, 0, 0, 0, 1, UInt8(bits >> 8), UInt8(bits & 0xff)] + n + [0, 17, 1, 0, 1]
    }

    static func bigPacket(tag: UInt8, _ body: [UInt8]) -> [UInt8] {
        [0xC0 | tag, 0xFF] + [UInt8].bigEndian32(body.count) + body
    }

    @Test(
        "Keys: secret keys, stray packets, bad material, missing self-signatures, bounds",
        arguments: [
            ([], OpenPGPError.Code.malformed),
            (packet(tag: 13, Array("x".utf8)), .malformed),  // starts with a user id
            (packet(tag: 5, [4]), .secretKey),
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + packet(tag: 7, [4]), .secretKey),
            (Array("-----BEGIN PGP PRIVATE KEY BLOCK-----\n".utf8), .secretKey),
            (packet(tag: 6, [3, 0, 0, 0, 0, 1]), .unsupported),  // v3 key
            (packet(tag: 6, [5, 0, 0, 0, 0, 1]), .unsupported),  // v5 key
            (packet(tag: 6, [4, 0, 0, 0, 0, 17, 0, 8, 0x80]), .unsupported),  // DSA primary
            (packet(tag: 6, [4, 0, 0, 0, 0, 22, 3, 1, 2, 3, 0, 8, 0x80]), .unsupported),  // unknown curve
            (packet(tag: 6, [4, 0, 0, 0, 0, 22, 0]), .malformed),  // OID length 0
            (packet(tag: 6, [4, 0, 0, 0, 0, 22, 0xFF]), .malformed),  // OID length 255
            (packet(tag: 6, [4, 0, 0, 0, 0, 22, 9] + KeyPacket.ed25519LegacyOID + [0, 8, 0x80]), .malformed),  // short point
            (packet(tag: 6, [4, 0, 0, 0, 0, 27] + Array(repeating: 1, count: 31)), .malformed),  // short native key
            (packet(tag: 6, [4, 0, 0, 0, 0, 1, 0, 0, 0, 0]), .malformed),  // empty RSA numbers
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048) + [0]), .malformed),  // trailing byte
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)), .invalidSignature),  // no self-signature
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + packet(tag: 13, Array("u".utf8)), .invalidSignature),
            (bigPacket(tag: 6, rsaKeyBody(bits: 1024)), .unsupported),  // RSA below 2048 bits
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + packet(tag: 11, [0]), .malformed),  // literal data packet
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + bigPacket(tag: 6, rsaKeyBody(bits: 2048)), .unsupported),
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + Array(repeating: 0xB4, count: 1), .malformed),
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + Array(repeating: [0xB4, 0x00], count: 70).flatMap { $0 }, .tooLarge),
            (bigPacket(tag: 6, rsaKeyBody(bits: 2048)) + Array(repeating: [0xCC, 0x00], count: 600).flatMap { $0 }, .tooLarge),
            (Array(repeating: 0x99, count: 300_000), .tooLarge),
        ] as [([UInt8], OpenPGPError.Code)]
    )
    func hostileKeys(input: [UInt8], code: OpenPGPError.Code) {
        #expect(throws: OpenPGPError(code, "")) { try OpenPGPPublicKey.parse(input) }
    }

    @Test("Canonical text turns LF into CRLF and leaves CRLF alone")
    func canonicalText() {
        #expect(OpenPGPVerifier.canonicalText(Array("a\nb\r\nc".utf8)) == Array("a\r\nb\r\nc".utf8))
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
