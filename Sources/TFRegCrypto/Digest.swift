import CLibCrypto
import Glibc

/// SHA-256 and HMAC-SHA-256 over OpenSSL's libcrypto: bytes in memory on a stack context
/// (`SHA256.Block`), streams through the EVP interfaces (`SHA256.Hasher`).
public enum SHA256 {
    /// Fetched once: OpenSSL 3 otherwise looks the implementation up again on every digest
    /// (`EVP_sha256()` is a legacy handle that triggers an implicit fetch). Fetched objects are
    /// immutable and safe to share between threads.
    nonisolated(unsafe) static let md: OpaquePointer = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()

    /// One-shot SHA-256 of bytes in memory (a token, a request body, an archive read whole), on a
    /// stack context (`Block`): no allocation besides the answer.
    public static func hash(_ bytes: some Collection<UInt8>) -> [UInt8] {
        var block = Block()
        block.update(bytes)
        return block.finalize()
    }

    /// SHA-256 state as a plain value (`SHA256_CTX`): copied, not allocated, so a prepared state
    /// (an HMAC key's padded blocks) is reused by copying it. For bytes in memory; data that arrives
    /// in chunks uses `Hasher`.
    struct Block: @unchecked Sendable {
        // @unchecked: a C struct of integers, copied by value; no pointer inside.
        private var ctx = SHA256_CTX()

        init() { tfreg_sha256_init(&ctx) }

        mutating func update(_ bytes: some Collection<UInt8>) {
            let done: Void? = bytes.withContiguousStorageIfAvailable { tfreg_sha256_update(&ctx, $0.baseAddress, $0.count) }
            if done == nil { Array(bytes).withUnsafeBufferPointer { tfreg_sha256_update(&ctx, $0.baseAddress, $0.count) } }
        }

        /// The digest; `self` is spent (a finalized context is not reused).
        consuming func finalize() -> [UInt8] {
            [UInt8](unsafeUninitializedCapacity: 32) { buffer, count in
                tfreg_sha256_final(&ctx, buffer.baseAddress)
                count = 32
            }
        }
    }

    /// SHA-256 of the file at `path`, read 64 KiB at a time (never whole in memory); nil when it cannot
    /// be opened (a symbolic link included: never followed) or read.
    public static func hash(fileAt path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var hasher = Hasher()
        var buffer = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n < 0, errno == EINTR { continue }
            guard n >= 0 else { return nil }
            if n == 0 { break }
            buffer.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
        }
        return hasher.finalize()
    }

    /// Incremental SHA-256, for archives that arrive in chunks.
    /// A value type wrapping one `EVP_MD_CTX`; copy-on-write is not needed because copies are never made
    /// (the type is non-copyable).
    public struct Hasher: ~Copyable {
        private let ctx: OpaquePointer

        public init() {
            guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
            precondition(EVP_DigestInit_ex(ctx, SHA256.md, nil) == 1, "EVP_DigestInit_ex(sha256) failed")
            self.ctx = ctx
        }

        public mutating func update(_ bytes: some Collection<UInt8>) {
            let done: Void? = bytes.withContiguousStorageIfAvailable { buffer in
                _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count)
            }
            if done == nil {
                let array = Array(bytes)
                array.withUnsafeBufferPointer { _ = EVP_DigestUpdate(ctx, $0.baseAddress, $0.count) }
            }
        }

        public mutating func update(_ buffer: UnsafeRawBufferPointer) {
            _ = EVP_DigestUpdate(ctx, buffer.baseAddress, buffer.count)
        }

        public consuming func finalize() -> [UInt8] {
            var out = [UInt8](repeating: 0, count: 32)
            var length: UInt32 = 0
            out.withUnsafeMutableBufferPointer { _ = EVP_DigestFinal_ex(ctx, $0.baseAddress, &length) }
            return out
        }

        deinit { EVP_MD_CTX_free(ctx) }
    }
}

/// HMAC-SHA-256 (RFC 2104) over `SHA256.Block`: OpenSSL 3's one-shot `HMAC()` fetches the MAC and
/// the digest by name and builds parameter lists on every call, and EVP digests allocate a context
/// each; here a MAC is the two SHA-256 passes and nothing else (with a prepared `Key`, not even the
/// key's blocks).
public enum HMACSHA256 {
    /// A key prepared once: the SHA-256 states after its inner and outer padded blocks, so each MAC
    /// hashes only the message and the inner digest (a signer that MACs per request keeps one).
    public struct Key: Sendable {
        fileprivate let inner: SHA256.Block
        fileprivate let outer: SHA256.Block

        public init(_ key: some Collection<UInt8>) {
            // The key as one 64-byte block: hashed first when longer, zero-padded.
            var block = key.count > 64 ? SHA256.hash(key) : Array(key)
            block.append(contentsOf: repeatElement(0, count: 64 - block.count))
            var inner = SHA256.Block()
            inner.update(block.map { $0 ^ 0x36 })
            var outer = SHA256.Block()
            outer.update(block.map { $0 ^ 0x5c })
            self.inner = inner
            self.outer = outer
        }
    }

    public static func authenticate(_ message: some Collection<UInt8>, key: Key) -> [UInt8] {
        var inner = key.inner
        inner.update(message)
        var outer = key.outer
        outer.update(inner.finalize())
        return outer.finalize()
    }

    public static func authenticate(_ message: some Collection<UInt8>, key: some Collection<UInt8>) -> [UInt8] {
        authenticate(message, key: Key(key))
    }
}

/// Cryptographically secure random bytes (libcrypto's RAND_bytes, seeded from the OS).
public enum SecureRandom {
    public static func bytes(_ count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        let rc = out.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        precondition(rc == 1, "RAND_bytes failed: the system random source is unavailable")
        return out
    }
}

/// Compares two byte strings in time that depends only on their lengths (CRYPTO_memcmp).
public func constantTimeEquals(_ a: some Collection<UInt8>, _ b: some Collection<UInt8>) -> Bool {
    let x = Array(a)
    let y = Array(b)
    guard x.count == y.count else { return false }
    if x.isEmpty { return true }
    return x.withUnsafeBytes { xp in y.withUnsafeBytes { yp in CRYPTO_memcmp(xp.baseAddress, yp.baseAddress, x.count) == 0 } }
}

/// SHA-1, only where another tool's file naming requires it (the AWS CLI's SSO token cache names
/// files by the SHA-1 of the session name). Never used for security.
public enum SHA1 {
    public static func hash(_ bytes: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        bytes.withUnsafeBufferPointer { input in
            out.withUnsafeMutableBufferPointer { _ = EVP_Digest(input.baseAddress, input.count, $0.baseAddress, nil, EVP_sha1(), nil) }
        }
        return out
    }
}
