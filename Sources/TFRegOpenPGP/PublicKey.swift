import TFRegCrypto

/// A v4 public key or subkey packet (RFC 9580 §5.5.2) with its fingerprint.
struct KeyPacket: Sendable {
    enum Material: Sendable {
        case rsa(modulus: [UInt8], exponent: [UInt8])
        case ed25519([UInt8])
        /// An algorithm tfreg does not verify with (e.g. an encryption subkey); kept for its fingerprint.
        case other
    }

    let body: [UInt8]
    let algorithm: UInt8
    let created: UInt32
    let material: Material
    /// SHA-1 of 0x99 ‖ length ‖ body (RFC 9580 §5.5.4.2): the v4 fingerprint, an identifier only.
    let fingerprint: [UInt8]
    var keyID: [UInt8] { Array(fingerprint.suffix(8)) }

    /// Ed25519's OID 1.3.6.1.4.1.11591.15.1 as used by legacy EdDSA keys (RFC 9580 §9.2).
    static let ed25519LegacyOID: [UInt8] = [0x2B, 0x06, 0x01, 0x04, 0x01, 0xDA, 0x47, 0x0F, 0x01]

    init(body: [UInt8]) throws(OpenPGPError) {
        var c = ByteCursor(body)
        let version = try c.byte()
        guard version == 4 else { throw OpenPGPError(.unsupported, "key version \(version) (only 4)") }
        created = try c.uint32()
        algorithm = try c.byte()
        switch algorithm {
        case PublicKeyAlgorithm.rsaEncryptOrSign, PublicKeyAlgorithm.rsaSignOnly:
            let n = try c.mpi()
            let e = try c.mpi()
            guard !n.isEmpty, !e.isEmpty else { throw OpenPGPError(.malformed, "an RSA key with an empty number") }
            try c.expectEnd("an RSA key")
            material = .rsa(modulus: n, exponent: e)
        case PublicKeyAlgorithm.eddsaLegacy:
            let oidLength = Int(try c.byte())
            guard oidLength > 0, oidLength < 255 else { throw OpenPGPError(.malformed, "a bad curve OID length") }
            let oid = try c.take(oidLength)
            let point = try c.mpi()
            try c.expectEnd("an EdDSA key")
            guard oid == Self.ed25519LegacyOID else { throw OpenPGPError(.unsupported, "an EdDSA curve other than Ed25519") }
            guard point.count == 33, point[0] == 0x40 else { throw OpenPGPError(.malformed, "an Ed25519 point not in 0x40 form") }
            material = .ed25519(Array(point[1...]))
        case PublicKeyAlgorithm.ed25519:
            material = .ed25519(try c.take(32))
            try c.expectEnd("an Ed25519 key")
        default:
            material = .other
        }
        self.body = body
        let length = body.count
        fingerprint = SHA1.hash([0x99, UInt8(truncatingIfNeeded: length >> 8), UInt8(truncatingIfNeeded: length)] + body)
    }

    /// The bytes a key contributes to a certification or binding hash (0x99 ‖ two-octet length ‖ body).
    var hashPrefix: [UInt8] {
        [0x99, UInt8(truncatingIfNeeded: body.count >> 8), UInt8(truncatingIfNeeded: body.count)] + body
    }

    /// Verifies `signature` over `prefix` with this key; false on any mismatch or unusable key.
    func verifies(_ signature: OpenPGPSignature, over prefix: [UInt8]) -> Bool {
        let digest = signature.digest(over: prefix)
        guard digest.count >= 2, Array(digest.prefix(2)) == signature.hashLeft16 else { return false }
        switch (material, signature.value) {
        case (.rsa(let n, let e), .rsa(let s)):
            guard PublicKeyAlgorithm.isRSA(algorithm), PublicKeyAlgorithm.isRSA(signature.publicKeyAlgorithm) else { return false }
            guard !isWeak else { return false }
            return SignatureVerifier.verifyRSA(modulus: n, exponent: e, digest: digest, algorithm: signature.hashAlgorithm, signature: s)
        case (.ed25519(let key), .ed25519(let rs)):
            guard algorithm == signature.publicKeyAlgorithm else { return false }
            // Both EdDSA forms sign the digest itself as the Ed25519 message.
            return SignatureVerifier.verifyEd25519(publicKey: key, signature: rs, message: digest)
        default:
            return false
        }
    }

    /// An RSA modulus below `OpenPGPLimits.minimumRSABits`.
    var isWeak: Bool {
        if case .rsa = material { return bits < OpenPGPLimits.minimumRSABits }
        return false
    }

    var bits: Int {
        switch material {
        case .rsa(let n, _): (n.count - 1) * 8 + (8 - (n.first ?? 0).leadingZeroBitCount)
        case .ed25519: 256
        case .other: 0
        }
    }
}

/// A transferable public key (RFC 9580 §10.1): one primary key, its user IDs, and the subkeys whose
/// binding signatures verify. Parsing verifies the self-signatures, so a registered key is one its owner
/// certified; a revoked primary key is refused.
public struct OpenPGPPublicKey: Sendable {
    let primary: KeyPacket
    /// Subkeys with a valid binding signature that allows signing.
    let signingSubkeys: [KeyPacket]
    /// May the primary key sign documents (no key-flags subpacket, or one with the sign flag)?
    let primaryCanSign: Bool
    /// The user IDs with a valid self-certification.
    public let userIDs: [String]
    /// The armored form of exactly the packets read (what `signing_keys.gpg_public_keys[].ascii_armor` serves).
    public let binary: [UInt8]

    /// The 40-hex-digit v4 fingerprint, upper case.
    public var fingerprint: String { Hex.encode(primary.fingerprint).uppercased() }
    /// The 16-hex-digit key id, upper case (what Terraform's `key_id` holds).
    public var keyID: String { Hex.encode(primary.keyID).uppercased() }
    /// e.g. `rsa4096`, `ed25519`.
    public var algorithmName: String {
        switch primary.material {
        case .rsa: "rsa\(primary.bits)"
        case .ed25519: "ed25519"
        case .other: "algorithm\(primary.algorithm)"
        }
    }
    public var asciiArmor: String { OpenPGPArmor.encode(binary, label: "PUBLIC KEY BLOCK") }

    /// Keys that may sign documents, primary first.
    var signingKeys: [KeyPacket] { (primaryCanSign ? [primary] : []) + signingSubkeys }

    /// Parses an armored (`PGP PUBLIC KEY BLOCK`) or binary public key holding exactly one primary key.
    public static func parse(_ input: [UInt8]) throws(OpenPGPError) -> OpenPGPPublicKey {
        guard input.count <= OpenPGPLimits.maximumKeyBytes else {
            throw OpenPGPError(.tooLarge, "a key over \(OpenPGPLimits.maximumKeyBytes) bytes")
        }
        if OpenPGPArmor.isArmored(input), input.firstRange(of: Array("PRIVATE KEY BLOCK".utf8)) != nil {
            throw OpenPGPError(.secretKey, "this is a secret key; register the public key (gpg --export --armor)")
        }
        let binary = OpenPGPArmor.isArmored(input) ? try OpenPGPArmor.decode(input, label: "PUBLIC KEY BLOCK") : input
        let packets = try PacketReader.packets(binary, maximumCount: OpenPGPLimits.maximumPackets)
        for p in packets where p.tag == 5 || p.tag == 7 {
            throw OpenPGPError(.secretKey, "this is a secret key; register the public key (gpg --export --armor)")
        }
        guard let first = packets.first, first.tag == 6 else {
            throw OpenPGPError(.malformed, "a public key must start with a public-key packet")
        }
        let primary = try KeyPacket(body: first.body)
        guard !primary.isWeak else {
            throw OpenPGPError(.unsupported, "an RSA key of \(primary.bits) bits (at least \(OpenPGPLimits.minimumRSABits))")
        }
        guard case .other = primary.material else {
            return try assemble(primary: primary, packets: packets.dropFirst(), binary: binary)
        }
        throw OpenPGPError(.unsupported, "primary key algorithm \(primary.algorithm) (RSA or Ed25519 only)")
    }

    private enum Component {
        case direct
        case user(prefix: [UInt8], text: String)
        case attribute
        case subkey(KeyPacket)
    }

    private static func assemble(
        primary: KeyPacket,
        packets: ArraySlice<Packet>,
        binary: [UInt8]
    ) throws(OpenPGPError) -> OpenPGPPublicKey {
        var component = Component.direct
        var userIDs: [String] = []
        var subkeyCount = 0
        var userIDCount = 0
        var signingSubkeys: [KeyPacket] = []
        // The latest valid self-certification's key flags decide whether the primary may sign.
        var newestCertification: (created: UInt32, flags: UInt8?)? = nil
        var subkeyBinding: (created: UInt32, flags: UInt8?)? = nil
        var subkeyRevoked = false
        var pendingSubkey: KeyPacket? = nil

        func closeSubkey() {
            if let key = pendingSubkey, let binding = subkeyBinding, !subkeyRevoked {
                if binding.flags.map({ $0 & 0x02 != 0 }) ?? true, key.bits > 0, !key.isWeak { signingSubkeys.append(key) }
            }
            pendingSubkey = nil
            subkeyBinding = nil
            subkeyRevoked = false
        }

        for packet in packets {
            switch packet.tag {
            case 13:
                closeSubkey()
                userIDCount += 1
                guard userIDCount <= OpenPGPLimits.maximumUserIDs else {
                    throw OpenPGPError(.tooLarge, "more than \(OpenPGPLimits.maximumUserIDs) user IDs")
                }
                let prefix = [0xB4] + [UInt8].bigEndian32(packet.body.count) + packet.body
                component = .user(prefix: prefix, text: String(decoding: packet.body, as: UTF8.self))
            case 17:
                closeSubkey()
                component = .attribute
            case 14:
                closeSubkey()
                subkeyCount += 1
                guard subkeyCount <= OpenPGPLimits.maximumSubkeys else {
                    throw OpenPGPError(.tooLarge, "more than \(OpenPGPLimits.maximumSubkeys) subkeys")
                }
                let key = try KeyPacket(body: packet.body)
                pendingSubkey = key
                component = .subkey(key)
            case 12:
                continue  // trust packets (gpg keyrings): local, ignored
            case 2:
                // Signatures of a form tfreg cannot check (third-party v3, DSA, SHA-1…) are skipped, not fatal.
                guard let sig = try? OpenPGPSignature.parse(packet.body) else { continue }
                let issuer = sig.issuerFingerprint.map { $0 == primary.fingerprint } ?? (sig.issuerKeyID == primary.keyID)
                guard issuer else { continue }
                switch component {
                case .direct:
                    if sig.type == 0x20, primary.verifies(sig, over: primary.hashPrefix) {
                        throw OpenPGPError(.invalidSignature, "the key carries a valid revocation signature")
                    }
                case .user(let prefix, let text):
                    guard (0x10...0x13).contains(sig.type), primary.verifies(sig, over: primary.hashPrefix + prefix) else { continue }
                    if !userIDs.contains(text) { userIDs.append(text) }
                    if sig.created >= (newestCertification?.created ?? 0) { newestCertification = (sig.created, sig.keyFlags) }
                case .attribute:
                    continue
                case .subkey(let key):
                    if sig.type == 0x18, primary.verifies(sig, over: primary.hashPrefix + key.hashPrefix) {
                        if sig.created >= (subkeyBinding?.created ?? 0) { subkeyBinding = (sig.created, sig.keyFlags) }
                    } else if sig.type == 0x28, primary.verifies(sig, over: primary.hashPrefix + key.hashPrefix) {
                        subkeyRevoked = true
                    }
                }
            case 5, 7:
                throw OpenPGPError(.secretKey, "this is a secret key")
            case 6:
                throw OpenPGPError(.unsupported, "more than one primary key; register one key at a time")
            default:
                throw OpenPGPError(.malformed, "packet tag \(packet.tag) does not belong in a public key")
            }
        }
        closeSubkey()
        guard let certification = newestCertification else {
            throw OpenPGPError(.invalidSignature, "no user ID carries a valid self-signature")
        }
        let primaryCanSign = certification.flags.map { $0 & 0x02 != 0 } ?? true
        let key = OpenPGPPublicKey(
            primary: primary,
            signingSubkeys: signingSubkeys,
            primaryCanSign: primaryCanSign,
            userIDs: userIDs,
            binary: binary
        )
        guard !key.signingKeys.isEmpty else { throw OpenPGPError(.unsupported, "no key or subkey here may sign") }
        return key
    }
}

/// Verifies detached document signatures against registered keys (RFC 9580 §5.2.4).
public enum OpenPGPVerifier {
    /// The key that made a valid signature.
    public struct Verified: Sendable, Equatable {
        /// The primary key's fingerprint (the registered key).
        public let fingerprint: String
        /// The key id of the (sub)key that signed.
        public let signingKeyID: String
    }

    /// Verifies `signature` over `data` with one of `keys`; `now` (Unix seconds) refuses expired
    /// signatures. Throws `unknownKey` when no key matches the issuer, `invalidSignature` otherwise.
    public static func verify(
        _ signature: OpenPGPSignature,
        data: [UInt8],
        keys: [OpenPGPPublicKey],
        now: Int64? = nil
    ) throws(OpenPGPError) -> Verified {
        var candidates: [(OpenPGPPublicKey, KeyPacket)] = []
        for key in keys {
            for k in key.signingKeys {
                if let fp = signature.issuerFingerprint {
                    if fp == k.fingerprint { candidates.append((key, k)) }
                } else if let id = signature.issuerKeyID {
                    if id == k.keyID { candidates.append((key, k)) }
                } else {
                    candidates.append((key, k))  // no issuer named: try every key
                }
            }
        }
        guard !candidates.isEmpty else {
            let named = (signature.issuerFingerprint ?? signature.issuerKeyID).map { Hex.encode($0).uppercased() } ?? "none"
            throw OpenPGPError(.unknownKey, "no registered key may sign as issuer \(named)")
        }
        if let now, let after = signature.expiresAfter, after > 0, Int64(signature.created) + Int64(after) <= now {
            throw OpenPGPError(.invalidSignature, "the signature expired")
        }
        let signed = signature.type == 0x01 ? canonicalText(data) : data
        for (key, k) in candidates where k.verifies(signature, over: signed) {
            return Verified(fingerprint: key.fingerprint, signingKeyID: Hex.encode(k.keyID).uppercased())
        }
        throw OpenPGPError(.invalidSignature, "the signature does not verify")
    }

    /// Line endings as CRLF, for canonical-text signatures (type 0x01).
    static func canonicalText(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(data.count + data.count / 16)
        var previous: UInt8 = 0
        for b in data {
            if b == 0x0A, previous != 0x0D { out.append(0x0D) }
            out.append(b)
            previous = b
        }
        return out
    }
}
