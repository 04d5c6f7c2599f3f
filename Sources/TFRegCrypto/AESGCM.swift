import CLibCrypto
import Synchronization

/// AES-256-GCM (NIST SP 800-38D) over libcrypto's EVP interface: 32-byte keys, 96-bit nonces,
/// 128-bit tags. `seal` draws a fresh random nonce for every message.
public enum AESGCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    /// Fetched once: OpenSSL 3 otherwise looks the implementation up again on every init
    /// (`EVP_aes_256_gcm()` is a legacy handle that triggers an implicit fetch, as `SHA256.md` says).
    /// Fetched objects are immutable and safe to share between threads.
    nonisolated(unsafe) static let cipher: OpaquePointer = EVP_CIPHER_fetch(nil, "AES-256-GCM", nil) ?? EVP_aes_256_gcm()

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
        precondition(EVP_EncryptInit_ex(ctx, cipher, nil, key, nonce) == 1, "EVP_EncryptInit_ex failed")
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
        guard EVP_DecryptInit_ex(ctx, cipher, nil, key, sealed.nonce) == 1 else { return nil }
        return decrypt(ctx, sealed, aad: aad)
    }

    /// The body of `open` on a context whose key and nonce are set.
    static func decrypt(_ ctx: OpaquePointer, _ sealed: Sealed, aad: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: sealed.ciphertext.count + 16)
        var length: Int32 = 0
        var total: Int32 = 0
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
        out.removeLast(out.count - Int(total))
        return out
    }

    /// A key prepared once for opening many messages (sealed tokens, on every request): the AES key
    /// schedule and GHASH tables are computed when a libcrypto context is made, and a few such contexts
    /// are kept and reused, so `open` only sets the nonce. Same answers as `AESGCM.open(_:key:aad:)`.
    /// A context goes back to the pool only after a message opened; after any failure it is freed.
    public final class OpeningKey: Sendable {
        /// Contexts kept for reuse (one per request opening at the same time, at most).
        static let poolSize = 16
        private let material: [UInt8]
        /// A context owned by whoever holds it: in the pool, or taken out by one `open`.
        private struct Context: @unchecked Sendable { let pointer: OpaquePointer }
        private let pool = Mutex<[Context]>([])

        /// nil unless `material` is a 32-byte key.
        public init?(_ material: [UInt8]) {
            guard material.count == keySize else { return nil }
            self.material = material
        }

        deinit { pool.withLock { for ctx in $0 { EVP_CIPHER_CTX_free(ctx.pointer) } } }

        public func open(_ sealed: Sealed, aad: [UInt8]) -> [UInt8]? {
            guard sealed.nonce.count == nonceSize, sealed.tag.count == tagSize else { return nil }
            let ctx: OpaquePointer
            if let reused = pool.withLock({ $0.popLast() })?.pointer {
                guard EVP_DecryptInit_ex(reused, nil, nil, nil, sealed.nonce) == 1 else {
                    EVP_CIPHER_CTX_free(reused)
                    return nil
                }
                ctx = reused
            } else {
                guard let fresh = EVP_CIPHER_CTX_new() else { return nil }
                guard EVP_DecryptInit_ex(fresh, cipher, nil, material, sealed.nonce) == 1 else {
                    EVP_CIPHER_CTX_free(fresh)
                    return nil
                }
                ctx = fresh
            }
            guard let plain = decrypt(ctx, sealed, aad: aad) else {
                EVP_CIPHER_CTX_free(ctx)
                return nil
            }
            let kept = pool.withLock { p in
                guard p.count < Self.poolSize else { return false }
                p.append(Context(pointer: ctx))
                return true
            }
            if !kept { EVP_CIPHER_CTX_free(ctx) }
            return plain
        }
    }
}
