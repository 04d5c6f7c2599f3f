import ArgumentParser
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal

#if canImport(Glibc)
import Glibc
#endif

/// The HMAC key that signs archive links: 32 random bytes in `<data>/keys/archive-url.key`, mode 0600,
/// made on first start. Deleting the file rotates it (outstanding links stop working).
enum ArchiveSigningKey {
    static func loadOrCreate(dataDirectory: String) throws -> [UInt8] {
        let dir = dataDirectory + "/keys"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        let path = dir + "/archive-url.key"
        if let existing = FileSystem.read(path, limit: 1024) {
            guard existing.count == 32 else { throw CLIError.configuration("\(path) is not a 32-byte key; delete it to make a new one") }
            return existing
        }
        let key = SecureRandom.bytes(32)
        try FileSystem.writeAtomically(path, key, mode: 0o600)
        return key
    }
}

/// The local token-sealing key: `<data>/keys/iam-token.key` (32 random bytes, mode 0600, made on first
/// start). To rotate, rename it to `iam-token.key.previous` and restart: new tokens use a new key,
/// tokens sealed with the previous one keep working until they expire.
enum LocalTokenKeys {
    static func loadOrCreate(dataDirectory: String) throws -> [[UInt8]] {
        let dir = dataDirectory + "/keys"
        try FileSystem.makeDirectories(dir, mode: 0o700)
        let path = dir + "/iam-token.key"
        var keys: [[UInt8]] = []
        if let existing = FileSystem.read(path, limit: 1024) {
            guard existing.count == 32 else { throw CLIError.configuration("\(path) is not a 32-byte key; delete it to make a new one") }
            keys.append(existing)
        } else {
            let key = SecureRandom.bytes(32)
            try FileSystem.writeAtomically(path, key, mode: 0o600)
            keys.append(key)
        }
        if let previous = FileSystem.read(path + ".previous", limit: 1024), previous.count == 32 { keys.append(previous) }
        return keys
    }
}
