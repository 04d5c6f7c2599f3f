/// A 32-byte secret key in a file of its own (mode 0600 in a 0700 directory, made on first use):
/// the archive-link HMAC key and the local token-sealing keys.
public enum KeyFile {
    public static let size = 32

    public enum Failure: Error, Sendable {
        /// The file exists but does not hold exactly `size` bytes.
        case wrongSize(path: String)
        case system(SystemError)
    }

    /// The key at `path`; nil when there is none (no file, unreadable, or implausibly large).
    public static func read(_ path: String) throws(Failure) -> [UInt8]? {
        guard let bytes = FileSystem.read(path, limit: 1024) else { return nil }
        guard bytes.count == size else { throw .wrongSize(path: path) }
        return bytes
    }

    /// The key at `path`, else a new one from `make`, written there atomically.
    public static func loadOrCreate(_ path: String, make: () -> [UInt8]) throws(Failure) -> [UInt8] {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty {
            do { try FileSystem.makeDirectories(directory, mode: 0o700) } catch { throw .system(error) }
        }
        if let existing = try read(path) { return existing }
        let key = make()
        do { try FileSystem.writeAtomically(path, key, mode: 0o600) } catch { throw .system(error) }
        return key
    }
}
