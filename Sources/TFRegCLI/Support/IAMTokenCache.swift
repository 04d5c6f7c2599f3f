import Glibc
import TFRegAWS
import TFRegCrypto
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// IAM tokens the credentials helper obtained, in `$XDG_CACHE_HOME/tfreg/tokens.json` (default
/// `~/.cache`), so repeated terraform runs do not each ask the registry.
///
/// An entry is keyed by the registry host *and* the AWS credentials the token was obtained with: the
/// key is HMAC-SHA-256, keyed with the secret access key, over the host, the credential source's
/// description (profile, role) and the access key id. A lookup computes the key from the credentials the
/// helper would sign with now, so a token is only ever handed back to those credentials; another
/// profile, role, access key — or the right access key id with a wrong secret — never matches. The
/// file holds no secret: no access key id, secret key or session token, only keys derived from them,
/// the host, the principal the registry named, the token and its expiry.
///
/// The file is 0600 and written atomically, its directory 0700; expired entries are dropped on every
/// write. A file that is not a regular file owned by the current user, or that is group- or
/// world-writable, is not trusted: it is neither read nor extended, and the next write replaces it.
struct IAMTokenCache {
    static let version = 2
    let path: String

    init(path: String = IAMTokenCache.defaultPath) { self.path = path }

    static var defaultPath: String { (Env.value("XDG_CACHE_HOME") ?? Env.home + "/.cache") + "/tfreg/tokens.json" }

    struct Entry: Codable, Equatable {
        let host: String
        /// The principal the registry issued the token for (its `/token` answer), for people reading the file.
        let principal: String?
        let token: String
        let expires_at: Int64
    }

    private struct Contents: Codable {
        var version: Int
        var entries: [String: Entry]
    }

    /// The cache key for `host` and the credentials `description` names.
    static func key(host: String, description: String, credentials: AWSCredentials) -> String {
        let message = ["tfreg-token-cache-v2", host, description, credentials.accessKeyID].joined(separator: "\u{0}")
        return Hex.encode(HMACSHA256.authenticate(Array(message.utf8), key: Array(credentials.secretAccessKey.utf8)))
    }

    /// The key for the credentials `aws` would sign with now. Keys known from local configuration
    /// (environment, static profile keys, a role assumed from them) cost no network call; other sources
    /// are resolved, and their keys (cached in `aws.credentials`) are then used for the token request too.
    static func key(host: String, aws: AWSConfiguration) async throws(AWSError) -> String {
        switch aws.credentialIdentity {
        case .keys(let description, let keys):
            return key(host: host, description: description, credentials: keys)
        case .resolved:
            return key(host: host, description: "resolved:\(aws.profile)", credentials: try await aws.credentials.credentials())
        }
    }

    /// The token stored under `key` for `host` with more than `margin` seconds left, if the file is trusted.
    func token(key: String, host: String, now: Int64, margin: Int64 = 60) -> Entry? {
        guard let e = load()?[key], e.host == host, e.expires_at - margin > now else { return nil }
        return e
    }

    /// Stores `entry` under `key`, dropping every expired entry.
    func put(key: String, _ entry: Entry, now: Int64) {
        var all = (load() ?? [:]).filter { $0.value.expires_at > now }
        all[key] = entry
        save(all)
    }

    /// Removes every entry for `host`, whatever credentials it was obtained with.
    func forget(host: String, now: Int64) {
        guard let all = load() else { return }
        let kept = all.filter { $0.value.host != host && $0.value.expires_at > now }
        if kept.count != all.count { save(kept) }
    }

    /// The entries, or nil when the file is missing, untrusted or unreadable.
    func load() -> [String: Entry]? {
        guard let bytes = try? Self.trust.read(path, limit: 1 << 20),
            let contents = try? JSONDecoder().decode(Contents.self, from: Data(bytes)), contents.version == Self.version
        else {
            return nil  // the version 1 cache was keyed by host alone: never trusted, replaced on the next write
        }
        return contents.entries
    }

    /// A regular file (not a link) owned by this user that nobody else may write (TFRegSystem's
    /// `FileSystem.Trust`, the one home of these checks; the stored-token file uses it too).
    static let trust = FileSystem.Trust.writableByCallerOnly

    private func save(_ entries: [String: Entry]) {
        let dir = String(path[..<(path.lastIndex(of: "/") ?? path.startIndex)])
        guard !dir.isEmpty, (try? FileSystem.makeDirectories(dir, mode: 0o700)) != nil else { return }
        // Checked and fixed on the opened directory (O_NOFOLLOW, fstat, fchmod): a link swapped in
        // after a check by name is never followed.
        let fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR, st.st_uid == geteuid() else { return }
        if st.st_mode & 0o077 != 0 { _ = fchmod(fd, 0o700) }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        guard let data = try? encoder.encode(Contents(version: Self.version, entries: entries)) else { return }
        try? FileSystem.writeAtomically(path, Array(data), mode: 0o600)
    }
}
