import CLibCrypto

/// The digests a public-key signature may be computed over (OpenPGP provider signatures).
public enum DigestAlgorithm: Sendable, Equatable {
    case sha256
    case sha384
    case sha512

    /// The digest's length in bytes.
    public var length: Int {
        switch self {
        case .sha256: 32
        case .sha384: 48
        case .sha512: 64
        }
    }

    var md: OpaquePointer? {
        switch self {
        case .sha256: EVP_sha256()
        case .sha384: EVP_sha384()
        case .sha512: EVP_sha512()
        }
    }

    /// Starts an incremental digest of this algorithm.
    public func hasher() -> IncrementalDigest { IncrementalDigest(self) }

    /// One-shot digest of `bytes`.
    public func hash(_ bytes: [UInt8]) -> [UInt8] {
        var h = hasher()
        h.update(bytes)
        return h.finalize()
    }
}

/// An incremental SHA-2 digest of a chosen algorithm over one `EVP_MD_CTX` (non-copyable, freed in deinit).
public struct IncrementalDigest: ~Copyable {
    private let ctx: OpaquePointer

    init(_ algorithm: DigestAlgorithm) {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        precondition(EVP_DigestInit_ex(ctx, algorithm.md, nil) == 1, "EVP_DigestInit_ex failed")
        self.ctx = ctx
    }

    public mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
    }

    public mutating func update(_ buffer: UnsafeRawBufferPointer) {
        _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count)
    }

    public consuming func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &length) }
        return Array(out.prefix(Int(length)))
    }

    deinit { EVP_MD_CTX_free(ctx) }
}

/// Verification of RSA PKCS#1 v1.5 and Ed25519 signatures (RFC 8017 §8.2.2, RFC 8032 §5.1.7) through
/// libcrypto's EVP interface. Keys arrive as raw numbers/bytes; nothing here parses outside formats.
public enum SignatureVerifier {
    /// True when `signature` is a valid RSASSA-PKCS1-v1_5 signature of the already computed `digest`
    /// under the key (`modulus`, `exponent`, big-endian unsigned). The signature is left-padded to the
    /// modulus length, as OpenPGP strips leading zeros of its MPIs.
    public static func verifyRSA(
        modulus: [UInt8],
        exponent: [UInt8],
        digest: [UInt8],
        algorithm: DigestAlgorithm,
        signature: [UInt8]
    ) -> Bool {
        let n = Array(modulus.drop { $0 == 0 })
        let e = Array(exponent.drop { $0 == 0 })
        guard !n.isEmpty, !e.isEmpty, digest.count == algorithm.length, signature.count <= n.count else { return false }
        let padded = [UInt8](repeating: 0, count: n.count - signature.count) + signature
        // PKCS#1 RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER } (RFC 8017 A.1.1)
        let der = derSequence(derInteger(n) + derInteger(e))
        guard
            let pkey = der.withUnsafeBufferPointer({ buffer -> OpaquePointer? in
                var p = buffer.baseAddress
                return d2i_PublicKey(EVP_PKEY_RSA, nil, &p, buffer.count)
            })
        else { return false }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_PKEY_CTX_new(pkey, nil) else { return false }
        defer { EVP_PKEY_CTX_free(ctx) }
        guard EVP_PKEY_verify_init(ctx) == 1,
            EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1,
            EVP_PKEY_CTX_set_signature_md(ctx, algorithm.md) == 1
        else {
            ERR_clear_error()
            return false
        }
        let rc = padded.withUnsafeBufferPointer { s in
            digest.withUnsafeBufferPointer { d in EVP_PKEY_verify(ctx, s.baseAddress, s.count, d.baseAddress, d.count) }
        }
        if rc != 1 { ERR_clear_error() }
        return rc == 1
    }

    /// True when `signature` (R ‖ S, 64 bytes) is a valid Ed25519 signature of `message` under the
    /// 32-byte `publicKey` (pure Ed25519, RFC 8032).
    public static func verifyEd25519(publicKey: [UInt8], signature: [UInt8], message: [UInt8]) -> Bool {
        guard publicKey.count == 32, signature.count == 64 else { return false }
        guard
            let pkey = publicKey.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else {
            ERR_clear_error()
            return false
        }
        defer { EVP_PKEY_free(pkey) }
        guard let ctx = EVP_MD_CTX_new() else { return false }
        defer { EVP_MD_CTX_free(ctx) }
        guard EVP_DigestVerifyInit(ctx, nil, nil, nil, pkey) == 1 else {
            ERR_clear_error()
            return false
        }
        let rc = signature.withUnsafeBufferPointer { s in
            message.withUnsafeBufferPointer { m in EVP_DigestVerify(ctx, s.baseAddress, s.count, m.baseAddress, m.count) }
        }
        if rc != 1 { ERR_clear_error() }
        return rc == 1
    }

    private static func derLength(_ n: Int) -> [UInt8] {
        if n < 0x80 { return [UInt8(n)] }
        var bytes: [UInt8] = []
        var v = n
        while v > 0 {
            bytes.insert(UInt8(v & 0xff), at: 0)
            v >>= 8
        }
        return [0x80 | UInt8(bytes.count)] + bytes
    }

    private static func derInteger(_ magnitude: [UInt8]) -> [UInt8] {
        let body = (magnitude.first ?? 0) & 0x80 != 0 ? [0] + magnitude : magnitude
        return [0x02] + derLength(body.count) + body
    }

    private static func derSequence(_ body: [UInt8]) -> [UInt8] { [0x30] + derLength(body.count) + body }
}
