import CLibCrypto

/// AES-256-GCM (NIST SP 800-38D) over libcrypto's EVP interface: 32-byte keys, 96-bit nonces,
/// 128-bit tags. `seal` draws a fresh random nonce for every message.
public enum AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    public struct Sealed: Sendable, Equatable {
        public let nonce: [UInt8]
        public let ciphertext: [UInt8]
        public let tag: [UInt8]
        public init(nonce: [UInt8], ciphertext: [UInt8], tag: [UInt8]) {
            self.nonce = nonce
            self.ciphertext = ciphertext
            self.tag = tag
        }
    }

    /// Encrypts `plaintext` and authenticates it together with `aad`.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8], nonce: [UInt8] = SecureRandom.bytes(nonceSize)) -> Sealed {
        precondition(key.count == keySize && nonce.count == nonceSize, "AES-256-GCM needs a 32-byte key and a 12-byte nonce")
        guard let ctx = EVP_CIPHER_CTX_new() else { fatalError("EVP_CIPHER_CTX_new: out of memory") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagSize)
        var length: Int32 = 0
        var total: Int32 = 0
        precondition(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, nonce) == 1, "EVP_EncryptInit_ex failed")
        if !aad.isEmpty { precondition(EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1) }
        if !plaintext.isEmpty {
            precondition(
                out.withUnsafeMutableBufferPointer { EVP_EncryptUpdate(ctx, $0.baseAddress, &length, plaintext, Int32(plaintext.count)) } == 1
            )
            total = length
        }
        precondition(out.withUnsafeMutableBufferPointer { EVP_EncryptFinal_ex(ctx, $0.baseAddress! + Int(total), &length) } == 1)
        total += length
        precondition(tag.withUnsafeMutableBytes { EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), $0.baseAddress) } == 1)
        return Sealed(nonce: nonce, ciphertext: Array(out[0..<Int(total)]), tag: tag)
    }

    /// Decrypts and verifies; nil when the key, nonce, ciphertext, tag or `aad` do not match.
    public static func open(_ sealed: Sealed, key: [UInt8], aad: [UInt8]) -> [UInt8]? {
        guard key.count == keySize, sealed.nonce.count == nonceSize, sealed.tag.count == tagSize else { return nil }
        guard let ctx = EVP_CIPHER_CTX_new() else { return nil }
        defer { EVP_CIPHER_CTX_free(ctx) }
        var out = [UInt8](repeating: 0, count: sealed.ciphertext.count + 16)
        var length: Int32 = 0
        var total: Int32 = 0
        guard EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nil, key, sealed.nonce) == 1 else { return nil }
        if !aad.isEmpty { guard EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count)) == 1 else { return nil } }
        if !sealed.ciphertext.isEmpty {
            guard
                out.withUnsafeMutableBufferPointer({
                    EVP_DecryptUpdate(ctx, $0.baseAddress, &length, sealed.ciphertext, Int32(sealed.ciphertext.count))
                }) == 1
            else { return nil }
            total = length
        }
        var tag = sealed.tag
        guard tag.withUnsafeMutableBytes({ EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), $0.baseAddress) }) == 1 else { return nil }
        guard out.withUnsafeMutableBufferPointer({ EVP_DecryptFinal_ex(ctx, $0.baseAddress! + Int(total), &length) }) == 1 else { return nil }
        total += length
        return Array(out[0..<Int(total)])
    }
}
