import Glibc

/// Why tfreg will not trust a file or directory: another user could have written it or put it there.
/// The description names the path and the fix.
public struct UntrustedPath: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Sendable, Equatable {
        /// A symbolic link where tfreg expects its own file or directory (never followed).
        case symbolicLink
        /// Not a regular file (for `.file`) or not a directory (for `.directory`).
        case wrongType
        /// Owned by this uid, which is neither the caller nor one of the allowed owners.
        case owner(uid_t)
        /// Permission bits the check forbids are set (group or world access).
        case mode(mode_t)
    }

    public let path: String
    public let reason: Reason
    public let kind: FileSystem.Kind
    /// What `chmod` fixes it (0700 for a directory, 0600 for a file).
    public let fixMode: mode_t

    public init(path: String, reason: Reason, kind: FileSystem.Kind, fixMode: mode_t) {
        self.path = path
        self.reason = reason
        self.kind = kind
        self.fixMode = fixMode
    }

    public var description: String {
        let what = kind == .directory ? "directory" : "file"
        switch reason {
        case .symbolicLink:
            return "\(path) is a symbolic link; tfreg does not follow links it did not create: replace it with a real \(what)"
        case .wrongType:
            return "\(path) is not a \(kind == .directory ? "directory" : "regular file")"
        case .owner(let uid):
            return
                "\(path) is owned by uid \(uid), not by you (uid \(geteuid())) or root: another user could change it; chown \(geteuid()) \(path) (or run tfreg as its owner)"
        case .mode(let mode):
            let octal = String(mode & 0o7777, radix: 8)
            return "\(path) has mode 0\(octal): other users could read or change it; chmod \(String(fixMode, radix: 8)) \(path)"
        }
    }
}

extension FileSystem {
    public enum Kind: Sendable, Equatable { case file, directory }

    /// Who may own a file tfreg trusts, and which permission bits it must not have. The one home of
    /// these checks: the data directory, its keys, the IAM token cache, the stored-token file and the
    /// package's environment file all use it.
    public struct Trust: Sendable {
        /// Owners besides the caller (`geteuid()`): root for files an administrator installs, the
        /// service user when root runs the CLI on the service's data directory.
        public var otherOwners: Set<uid_t>
        /// Bits that must be clear: 0o022 (nobody else may write), 0o077 (nobody else may read either).
        public var forbiddenMode: mode_t

        public init(otherOwners: Set<uid_t> = [], forbiddenMode: mode_t) {
            self.otherOwners = otherOwners
            self.forbiddenMode = forbiddenMode
        }

        /// Only the caller, and nobody else may read or write: secrets (keys, stored tokens).
        public static let privateToCaller = Trust(forbiddenMode: 0o077)
        /// Only the caller, and nobody else may write (the IAM token cache).
        public static let writableByCallerOnly = Trust(forbiddenMode: 0o022)

        /// Why `st` (of `path`, from `lstat` or `fstat`) is not to be trusted as a `kind`, or nil.
        public func problem(_ st: stat, path: String, kind: Kind) -> UntrustedPath? {
            let fix: mode_t = kind == .directory ? 0o700 : 0o600
            func untrusted(_ reason: UntrustedPath.Reason) -> UntrustedPath {
                UntrustedPath(path: path, reason: reason, kind: kind, fixMode: fix)
            }
            let type = st.st_mode & S_IFMT
            if type == S_IFLNK { return untrusted(.symbolicLink) }
            guard type == (kind == .directory ? S_IFDIR : S_IFREG) else { return untrusted(.wrongType) }
            guard st.st_uid == geteuid() || otherOwners.contains(st.st_uid) else { return untrusted(.owner(st.st_uid)) }
            guard st.st_mode & forbiddenMode == 0 else { return untrusted(.mode(st.st_mode)) }
            return nil
        }

        /// Checks `path` itself (`lstat`: a symbolic link is refused, never followed, unless
        /// `followingLink`, for a path an administrator chose). False when there is nothing at
        /// `path`; throws when there is something untrusted.
        public func check(_ path: String, kind: Kind, followingLink: Bool = false) throws(UntrustedPath) -> Bool {
            var st = stat()
            guard (followingLink ? stat(path, &st) : lstat(path, &st)) == 0 else { return false }
            if let problem = problem(st, path: path, kind: kind) { throw problem }
            return true
        }

        /// Reads a whole file of at most `limit` bytes after checking it on the open descriptor
        /// (`O_NOFOLLOW`, then `fstat`: no window between check and read). Nil when there is no file
        /// or it cannot be read or is larger than `limit`; throws when it is there but untrusted.
        public func read(_ path: String, limit: Int) throws(UntrustedPath) -> [UInt8]? {
            let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else {
                // ELOOP: the last component is a symbolic link.
                if errno == ELOOP { throw UntrustedPath(path: path, reason: .symbolicLink, kind: .file, fixMode: 0o600) }
                return nil
            }
            defer { close(fd) }
            var st = stat()
            guard fstat(fd, &st) == 0 else { return nil }
            if let problem = problem(st, path: path, kind: .file) { throw problem }
            guard let (bytes, complete) = FileSystem.read(fd: fd, limit: limit), complete else { return nil }
            return bytes
        }
    }

    /// Sets `mode` on `path` unless it is a symbolic link (`lstat`, then `open(O_NOFOLLOW)` and
    /// `fchmod` on what was opened: a link planted in between is not followed either). False when
    /// there is nothing at `path`; throws `UntrustedPath` for a link or a non-regular file.
    @discardableResult
    public static func restrictMode(_ path: String, to mode: mode_t) throws(UntrustedPath) -> Bool {
        var st = stat()
        guard lstat(path, &st) == 0 else { return false }
        guard st.st_mode & S_IFMT != S_IFLNK else { throw UntrustedPath(path: path, reason: .symbolicLink, kind: .file, fixMode: mode) }
        guard st.st_mode & S_IFMT == S_IFREG else { throw UntrustedPath(path: path, reason: .wrongType, kind: .file, fixMode: mode) }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ELOOP { throw UntrustedPath(path: path, reason: .symbolicLink, kind: .file, fixMode: mode) }
            return false
        }
        defer { close(fd) }
        guard fstat(fd, &st) == 0, st.st_mode & S_IFMT == S_IFREG else {
            throw UntrustedPath(path: path, reason: .wrongType, kind: .file, fixMode: mode)
        }
        if st.st_mode & 0o7777 != mode { _ = fchmod(fd, mode) }
        return true
    }
}
