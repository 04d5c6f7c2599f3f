import Glibc

/// A 32-byte secret key in a file of its own (mode 0600 in a 0700 directory, made on first use):
/// the archive-link HMAC key and the local token-sealing keys. Read only when it is a regular file
/// (never through a symbolic link) owned by the caller (or an owner `trust` allows) that nobody
/// else may read or write, in a directory nobody else may write.
public enum KeyFile {
    public static let size = 32

    public enum Failure: Error, Sendable {
        /// The file exists but does not hold exactly `size` bytes.
        case wrongSize(path: String)
        case system(SystemError)
        /// The file or its directory could have been written or planted by another user.
        case untrusted(UntrustedPath)
    }

    /// How key files are checked: owner-only, 0600.
    public static func trust(otherOwners: Set<uid_t> = []) -> FileSystem.Trust {
        FileSystem.Trust(otherOwners: otherOwners, forbiddenMode: 0o077)
    }

    /// The key at `path`; nil when there is none (no file, unreadable, or implausibly large).
    public static func read(_ path: String, otherOwners: Set<uid_t> = []) throws(Failure) -> [UInt8]? {
        let bytes: [UInt8]?
        do { bytes = try trust(otherOwners: otherOwners).read(path, limit: 1024) } catch { throw .untrusted(error) }
        guard let bytes else { return nil }
        guard bytes.count == size else { throw .wrongSize(path: path) }
        return bytes
    }

    /// The key at `path`, else a new one from `make`, written there atomically.
    public static func loadOrCreate(_ path: String, otherOwners: Set<uid_t> = [], make: () -> [UInt8]) throws(Failure) -> [UInt8] {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty {
            do { try FileSystem.makeDirectories(directory, mode: 0o700) } catch { throw .system(error) }
            let dirTrust = FileSystem.Trust(otherOwners: otherOwners, forbiddenMode: 0o022)
            do { _ = try dirTrust.check(directory, kind: .directory) } catch { throw .untrusted(error) }
        }
        if let existing = try read(path, otherOwners: otherOwners) { return existing }
        let key = make()
        do { try FileSystem.writeAtomically(path, key, mode: 0o600) } catch { throw .system(error) }
        return key
    }
}
