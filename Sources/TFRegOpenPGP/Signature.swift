import TFRegCrypto

/// Public-key algorithm ids (RFC 9580 §9.1) tfreg can verify with.
enum PublicKeyAlgorithm {
    static let rsaEncryptOrSign: UInt8 = 1
    static let rsaSignOnly: UInt8 = 3
    static let eddsaLegacy: UInt8 = 22
    static let ed25519: UInt8 = 27

    static func isRSA(_ a: UInt8) -> Bool { a == rsaEncryptOrSign || a == rsaSignOnly }
}

/// The signature's algorithm-specific value.
enum SignatureValue: Sendable {
    case rsa([UInt8])
    /// R ‖ S, 64 bytes (legacy EdDSA MPIs left-padded, or the RFC 9580 native form).
    case ed25519([UInt8])
}

/// A parsed version 4 signature packet (RFC 9580 §5.2.3). Parsing checks form only; `OpenPGPVerifier`
/// decides validity.
public struct OpenPGPSignature: Sendable {
    /// 0x00 binary document, 0x01 canonical text, 0x10–0x13 certifications, 0x18 subkey binding, …
    public let type: UInt8
    let publicKeyAlgorithm: UInt8
    let hashAlgorithm: DigestAlgorithm
    /// The hashed part of the packet (version through hashed subpackets), fed to the digest.
    let hashedPart: [UInt8]
    let hashLeft16: [UInt8]
    let value: SignatureValue
    /// Creation time (Unix seconds), from the mandatory hashed subpacket 2.
    public let created: UInt32
    /// Seconds after creation it expires, from hashed subpacket 3 (0 or nil: never).
    public let expiresAfter: UInt32?
    /// Issuer key id (subpacket 16) and v4 fingerprint (subpacket 33), from either area.
    public let issuerKeyID: [UInt8]?
    public let issuerFingerprint: [UInt8]?
    /// Key flags (subpacket 27, first octet) when hashed.
    let keyFlags: UInt8?
    /// Key expiration seconds after the key's creation (subpacket 9) when hashed.
    let keyExpiresAfter: UInt32?

    /// Parses a detached signature (armored `PGP SIGNATURE` or binary): exactly one signature packet.
    public static func parseDetached(_ input: [UInt8]) throws(OpenPGPError) -> OpenPGPSignature {
        guard input.count <= OpenPGPLimits.maximumSignatureBytes else {
            throw OpenPGPError(.tooLarge, "a signature over \(OpenPGPLimits.maximumSignatureBytes) bytes")
        }
        let binary = OpenPGPArmor.isArmored(input) ? try OpenPGPArmor.decode(input, label: "SIGNATURE") : input
        let packets = try PacketReader.packets(binary, maximumCount: 2)
        guard packets.count == 1, packets[0].tag == 2 else {
            throw OpenPGPError(.malformed, "a detached signature must be exactly one signature packet")
        }
        let signature = try parse(packets[0].body)
        guard signature.type == 0x00 || signature.type == 0x01 else {
            throw OpenPGPError(.unsupported, "signature type 0x\(String(signature.type, radix: 16)) is not a document signature")
        }
        return signature
    }

    /// Parses one signature packet body.
    static func parse(_ body: [UInt8]) throws(OpenPGPError) -> OpenPGPSignature {
        var c = ByteCursor(body)
        let version = try c.byte()
        guard version == 4 else { throw OpenPGPError(.unsupported, "signature version \(version) (only 4)") }
        let type = try c.byte()
        let algorithm = try c.byte()
        let hashID = try c.byte()
        let digest: DigestAlgorithm
        switch hashID {
        case 8: digest = .sha256
        case 9: digest = .sha384
        case 10: digest = .sha512
        default: throw OpenPGPError(.unsupported, "hash algorithm \(hashID) (SHA-256, SHA-384 or SHA-512 only)")
        }
        let hashedLength = try c.uint16()
        let hashed = try c.take(hashedLength)
        let hashedPart = Array(body[0..<c.offset])
        let unhashedLength = try c.uint16()
        let unhashed = try c.take(unhashedLength)
        let hashLeft16 = try c.take(2)
        let value: SignatureValue
        switch algorithm {
        case PublicKeyAlgorithm.rsaEncryptOrSign, PublicKeyAlgorithm.rsaSignOnly:
            value = .rsa(try c.mpi())
        case PublicKeyAlgorithm.eddsaLegacy:
            let r = try c.mpi()
            let s = try c.mpi()
            guard r.count <= 32, s.count <= 32 else { throw OpenPGPError(.malformed, "an EdDSA signature value over 32 bytes") }
            value = .ed25519(Array(repeating: 0, count: 32 - r.count) + r + Array(repeating: 0, count: 32 - s.count) + s)
        case PublicKeyAlgorithm.ed25519:
            value = .ed25519(try c.take(64))
        default:
            throw OpenPGPError(.unsupported, "public-key algorithm \(algorithm) (RSA and Ed25519 only)")
        }
        try c.expectEnd("a signature packet")

        var created: UInt32? = nil
        var expires: UInt32? = nil
        var keyID: [UInt8]? = nil
        var fingerprint: [UInt8]? = nil
        var flags: UInt8? = nil
        var keyExpires: UInt32? = nil
        for sub in try subpackets(hashed) {
            switch sub.type {
            case 2:
                guard sub.data.count == 4, created == nil else { throw OpenPGPError(.malformed, "a bad creation-time subpacket") }
                created = UInt32(sub.data[0]) << 24 | UInt32(sub.data[1]) << 16 | UInt32(sub.data[2]) << 8 | UInt32(sub.data[3])
            case 3:
                guard sub.data.count == 4 else { throw OpenPGPError(.malformed, "a bad expiration subpacket") }
                expires = UInt32(sub.data[0]) << 24 | UInt32(sub.data[1]) << 16 | UInt32(sub.data[2]) << 8 | UInt32(sub.data[3])
            case 9:
                guard sub.data.count == 4 else { throw OpenPGPError(.malformed, "a bad key-expiration subpacket") }
                keyExpires = UInt32(sub.data[0]) << 24 | UInt32(sub.data[1]) << 16 | UInt32(sub.data[2]) << 8 | UInt32(sub.data[3])
            case 16:
                guard sub.data.count == 8 else { throw OpenPGPError(.malformed, "a bad issuer subpacket") }
                keyID = sub.data
            case 27:
                flags = sub.data.first ?? 0
            case 33:
                guard sub.data.count == 21, sub.data[0] == 4 else { throw OpenPGPError(.malformed, "a bad issuer-fingerprint subpacket") }
                fingerprint = Array(sub.data[1...])
            default:
                // RFC 9580 §5.2.3.7: a critical subpacket the reader does not know makes the signature invalid.
                if sub.critical, !understoodCritical.contains(sub.type) {
                    throw OpenPGPError(.unsupported, "critical signature subpacket \(sub.type) is not understood")
                }
            }
        }
        // Unhashed: only issuer hints are taken (they select a key; the signature still has to verify).
        for sub in try subpackets(unhashed) {
            if sub.type == 16, sub.data.count == 8, keyID == nil { keyID = sub.data }
            if sub.type == 33, sub.data.count == 21, sub.data[0] == 4, fingerprint == nil { fingerprint = Array(sub.data[1...]) }
        }
        guard let created else { throw OpenPGPError(.malformed, "a signature without a hashed creation time") }
        return OpenPGPSignature(
            type: type,
            publicKeyAlgorithm: algorithm,
            hashAlgorithm: digest,
            hashedPart: hashedPart,
            hashLeft16: hashLeft16,
            value: value,
            created: created,
            expiresAfter: expires,
            issuerKeyID: keyID,
            issuerFingerprint: fingerprint,
            keyFlags: flags,
            keyExpiresAfter: keyExpires
        )
    }

    /// Subpacket types whose critical bit is fine: either read above or informational (preferences,
    /// features, primary user id, key server preferences, policy URI is not here: it is not understood).
    static let understoodCritical: Set<UInt8> = [11, 21, 22, 23, 25, 30, 34]

    struct Subpacket {
        let type: UInt8
        let critical: Bool
        let data: [UInt8]
    }

    /// Subpackets of one area (RFC 9580 §5.2.3.7): one-, two- or five-octet lengths that include the type.
    static func subpackets(_ area: [UInt8]) throws(OpenPGPError) -> [Subpacket] {
        var out: [Subpacket] = []
        var c = ByteCursor(area)
        while !c.isAtEnd {
            guard out.count < 128 else { throw OpenPGPError(.tooLarge, "more than 128 subpackets") }
            let first = Int(try c.byte())
            let length: Int
            switch first {
            case 0..<192: length = first
            case 192..<255:
                let second = Int(try c.byte())
                length = ((first - 192) << 8) + second + 192
            default: length = Int(try c.uint32())
            }
            guard length >= 1 else { throw OpenPGPError(.malformed, "an empty signature subpacket") }
            let raw = try c.take(length)
            out.append(Subpacket(type: raw[0] & 0x7f, critical: raw[0] & 0x80 != 0, data: Array(raw[1...])))
        }
        return out
    }

    /// The digest this signature covers: `prefix` (the signed data or key material), then the hashed
    /// part and the v4 trailer 0x04 0xFF ‖ length (RFC 9580 §5.2.4).
    func digest(over prefix: [UInt8]) -> [UInt8] {
        var h = hashAlgorithm.hasher()
        h.update(prefix)
        h.update(hashedPart)
        h.update([0x04, 0xFF] + [UInt8].bigEndian32(hashedPart.count))
        return h.finalize()
    }
}
