import ArgumentParser
import Glibc
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegSystem

/// The HMAC key that signs archive links: 32 random bytes in `<data>/keys/archive-url.key`, mode 0600,
/// made on first start. Deleting the file rotates it (outstanding links stop working).
enum ArchiveSigningKey {
    static func loadOrCreate(dataDirectory: String) throws -> [UInt8] {
        try keyFile { () throws(KeyFile.Failure) in
            try KeyFile.loadOrCreate(dataDirectory + "/keys/archive-url.key", otherOwners: StoreOptions.trustedOwners) {
                SecureRandom.bytes(KeyFile.size)
            }
        }
    }
}

/// The local token-sealing key: `<data>/keys/iam-token.key` (32 random bytes, mode 0600, made on first
/// start). To rotate, rename it to `iam-token.key.previous` and restart: new tokens use a new key,
/// tokens sealed with the previous one keep working until they expire.
enum LocalTokenKeys {
    static func loadOrCreate(dataDirectory: String) throws -> [[UInt8]] {
        let path = dataDirectory + "/keys/iam-token.key"
        let owners = StoreOptions.trustedOwners
        var keys = [
            try keyFile { () throws(KeyFile.Failure) in try KeyFile.loadOrCreate(path, otherOwners: owners) { SecureRandom.bytes(KeyFile.size) } }
        ]
        // A wrong-sized previous key is ignored as before; one another user could have planted is not.
        do {
            if let previous = try KeyFile.read(path + ".previous", otherOwners: owners) { keys.append(previous) }
        } catch {
            if case .untrusted(let e) = error { throw CLIError.configuration("\(e)") }
        }
        return keys
    }
}

/// `KeyFile` failures as the CLI reports them: a wrong-sized file says how to fix it, the rest is storage.
private func keyFile<T>(_ body: () throws(KeyFile.Failure) -> T) throws -> T {
    do {
        return try body()
    } catch {
        switch error {
        case .wrongSize(let path): throw ValidationError("\(path) is not a 32-byte key; delete it to make a new one")
        case .system(let e): throw RegistryError(e)
        case .untrusted(let e): throw CLIError.configuration("\(e)")
        }
    }
}
