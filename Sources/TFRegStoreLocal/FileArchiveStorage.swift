import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// `BlobStore` in a local directory, content-addressed and write-once:
/// `<root>/archives/sha256/HH/SHA256.EXT` (`BlobAddress.key`: HH = the digest's first two hex digits,
/// EXT the kind's extension, `.tar.gz` for module archives), staged under
/// `<root>/tmp` on the same filesystem. A new archive is `link`ed into place, which fails rather than
/// replace an existing file, then the directory is fsynced: a stored archive is never overwritten
/// and never changes. Older registries stored `NS/NAME/SYSTEM/VERSION/SHA256.tar.gz`; those keys are
/// still served. Nothing is unlinked while serving requests: `LocalGarbageCollector` removes what no
/// version references. Clients download through the registry's signed archive route.
public struct FileArchiveStorage: BlobStore {
    public let root: String
    public var archivesDirectory: String { root + "/archives" }
    public var stagingDirectory: String { root + "/tmp" }
    public var acceptsWrites: Bool { true }

    public init(root: String) throws(RegistryError) {
        self.root = root
        for dir in [root, root + "/archives", root + "/tmp"] {
            try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o750))
        }
    }

    /// Keys are read back from the database; check them again before they touch the filesystem.
    static func isSafeKey(_ key: String) -> Bool {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.+/".utf8)
        guard !key.isEmpty, key.utf8.count <= 512, key.utf8.allSatisfy(allowed.contains), !key.hasPrefix("/") else { return false }
        return key.split(separator: "/", omittingEmptySubsequences: false).allSatisfy { !$0.isEmpty && $0 != "." && $0 != ".." }
    }

    public func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation {
        guard let address = BlobAddress(sha256: staged.sha256, kind: kind) else { throw .internalError("invalid archive digest") }
        try store(staged, key: address.key)
        return ArchiveLocation(bucket: nil, key: address.key)
    }

    /// Links the staged file into place unless the archive exists already (same digest, same bytes).
    private func store(_ staged: StagedArchive, key: String) throws(RegistryError) {
        let final = archivesDirectory + "/" + key
        let dir = String(final[..<(final.lastIndex(of: "/") ?? final.endIndex)])
        try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o750))
        // A concurrent gc may move the existing file aside between our link() and stat(): try again.
        var linked = false
        for _ in 0..<8 {
            if link(staged.path, final) == 0 {
                linked = true
                break
            }
            let e = errno
            guard e == EEXIST else { throw .unavailable("archive storage", detail: "link to \(final): errno \(e)") }
            var st = stat()
            guard stat(final, &st) == 0 else {
                if errno == ENOENT { continue }
                throw .unavailable("archive storage", detail: "stat \(final): errno \(errno)")
            }
            guard st.st_mode & S_IFMT == S_IFREG, Int64(st.st_size) == staged.size else {
                throw .init(.internalError, "archive storage is inconsistent", detail: "\(final) exists with another size")
            }
            // In use again: a garbage collection's grace period starts over.
            _ = utimensat(AT_FDCWD, final, nil, 0)
            return
        }
        guard linked else { throw .unavailable("archive storage", detail: "\(final) keeps disappearing") }
        try RegistryError.storage(FileSystem.fsyncDirectory(dir))
    }

    public func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) {
        defer { _ = unlink(staged.path) }
        guard location.bucket == nil, Self.isSafeKey(location.key), !FileSystem.exists(archivesDirectory + "/" + location.key) else { return }
        try store(staged, key: location.key)
    }

    public func remove(_ location: ArchiveLocation) async throws(RegistryError) {
        guard location.bucket == nil, Self.isSafeKey(location.key) else { return }
        let path = archivesDirectory + "/" + location.key
        if unlink(path) != 0 && errno != ENOENT {
            throw .unavailable("archive storage", detail: "unlink \(path): errno \(errno)")
        }
    }

    public func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        // A version whose archive is in a user's S3 bucket (the replaced tool's layout) cannot be served
        // from a local directory: say what is wrong with the registry, not "not found" (a 404 would tell
        // Terraform the version has no archive). serve refuses such a table at start-up when it sees one.
        if let bucket = location.bucket { throw Self.bucketedArchive(bucket) }
        return .servedByRegistry
    }

    /// The file's size; a local directory records no digest beside it.
    public func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? {
        if let bucket = location.bucket { throw Self.bucketedArchive(bucket) }
        guard Self.isSafeKey(location.key) else { return nil }
        guard let size = Self.regularFileSize(archivesDirectory + "/" + location.key) else { return nil }
        return ExistingArchive(sha256: nil, size: size)
    }

    static func bucketedArchive(_ bucket: String) -> RegistryError {
        .misconfigured(
            "the archive storage",
            explanation:
                "a version's archive is in s3://\(bucket.prefix(63)), but this registry's archive storage is a local directory: start it with --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE)"
        )
    }

    public func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile {
        if let bucket = location.bucket { throw Self.bucketedArchive(bucket) }
        guard Self.isSafeKey(location.key) else { throw .notFound("archive not found") }
        let path = archivesDirectory + "/" + location.key
        guard let size = Self.regularFileSize(path) else {
            throw .init(.notFound, "archive not found", detail: "missing file (or not a regular file) \(path)")
        }
        return LocalArchiveFile(path: path, size: size)
    }

    /// The size of a regular file at `path`, nil for anything else, a symbolic link included: the
    /// storage writes only regular files, so a link at an archive key was planted and is never followed.
    static func regularFileSize(_ path: String) -> Int64? {
        var st = stat()
        guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { return nil }
        return Int64(st.st_size)
    }

    public func isCanonicalKey(_ key: String) -> Bool { key.hasPrefix("sha256/") }

    /// A hard link in the staging directory (same filesystem): no copy, and the original stays. The
    /// digest is computed from the linked file.
    public func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? {
        if let bucket = location.bucket { throw Self.bucketedArchive(bucket) }
        guard Self.isSafeKey(location.key) else { return nil }
        let source = archivesDirectory + "/" + location.key
        guard Self.regularFileSize(source) != nil else { return nil }
        let staged = stagingDirectory + "/upload-\(getpid())-" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        guard link(source, staged) == 0 else { throw .unavailable("archive storage", detail: "link \(source): errno \(errno)") }
        var st = stat()
        guard stat(staged, &st) == 0, Int64(st.st_size) <= limit else {
            _ = unlink(staged)
            throw .init(.payloadTooLarge, "the archive at \(location.key) is larger than \(limit) bytes")
        }
        let digest: String
        do { digest = try LocalBackup.sha256(ofFile: staged) } catch {
            _ = unlink(staged)
            throw error
        }
        return StagedArchive(path: staged, size: Int64(st.st_size), sha256: digest)
    }

    // MARK: Hygiene

    /// Removes staged uploads (`tmp/*.partial`, `tmp/*.canonical`) no live process is writing: what a
    /// killed process left behind. Returns the names removed. See `removeStaleStaging(in:olderThan:now:)`.
    @discardableResult
    public func removeStaleStaging(olderThan seconds: Int64, now: Int64) -> [String] {
        Self.removeStaleStaging(in: stagingDirectory, olderThan: seconds, now: now)
    }

    /// The same for any staging directory (S3 storage stages locally too). A staged file named by its
    /// writer (`upload-PID-…`, `import-PID-…`) is removed only once that process is gone, whatever its
    /// age: a running `serve` may hold it between staging and `settle`, and a hard-linked copy of an old
    /// archive (`stageOwnArchive`) keeps the archive's old mtime. Any other name is removed once it
    /// is older than `seconds`. `noWriterRuns`: the caller knows no writer can be running (a Lambda
    /// cold start: one process per sandbox, and a restarted runtime may get its predecessor's pid), so
    /// every staged file goes.
    @discardableResult
    public static func removeStaleStaging(in directory: String, olderThan seconds: Int64, now: Int64, noWriterRuns: Bool = false) -> [String] {
        var removed: [String] = []
        for name in FileSystem.list(directory) where name.hasSuffix(".partial") || name.hasSuffix(".canonical") {
            let path = directory + "/" + name
            var st = stat()
            guard lstat(path, &st) == 0, st.st_mode & S_IFMT == S_IFREG else { continue }
            switch noWriterRuns ? .gone : writer(ofStaged: name) {
            case .alive: continue
            case .gone: break
            case .unknown: guard Int64(st.st_mtim.tv_sec) <= now &- seconds else { continue }
            }
            if unlink(path) == 0 { removed.append(name) }
        }
        return removed
    }

    /// Whether the process that named a file is still running.
    enum Writer: Equatable { case alive, gone, unknown }

    /// Staged names are `upload-PID-RANDOM…` / `import-PID-RANDOM…`. This process counts as alive; so
    /// does a pid another process has reused (the file then waits until that one ends too).
    static func writer(ofStaged name: String) -> Writer {
        let parts = name.split(separator: "-", maxSplits: 2)
        guard parts.count == 3, parts[0] == "upload" || parts[0] == "import" else { return .unknown }
        return writer(pid: parts[1])
    }

    /// `.alive` for this process and for any pid `kill(pid, 0)` does not answer ESRCH for.
    static func writer(pid text: Substring) -> Writer {
        guard text.utf8.count <= 10, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let pid = Int32(text), pid > 0 else {
            return .unknown
        }
        if pid == getpid() { return .alive }
        return kill(pid, 0) != 0 && errno == ESRCH ? .gone : .alive
    }

    /// A stored file no record references.
    public struct Unreferenced: Sendable, Equatable {
        public let key: String
        public let size: Int64
    }

    /// Calls `visit` with the key (path below `archives/`) and `stat` of every regular file there.
    private func forEachArchiveFile(_ visit: (String, stat) -> Void) {
        func walk(_ relative: String, depth: Int) {
            guard depth < 8 else { return }
            let dir = relative.isEmpty ? archivesDirectory : archivesDirectory + "/" + relative
            for name in FileSystem.list(dir) {
                let rel = relative.isEmpty ? name : relative + "/" + name
                var st = stat()
                guard lstat(dir + "/" + name, &st) == 0 else { continue }
                switch st.st_mode & S_IFMT {
                case S_IFDIR: walk(rel, depth: depth + 1)
                case S_IFREG: visit(rel, st)
                default: break
                }
            }
        }
        walk("", depth: 0)
    }

    /// Stored files of every `BlobKind` (named by its extension, whatever the layout that wrote them)
    /// whose keys are not in `referenced` and that are older than `graceSeconds` (a publish links the
    /// file before it inserts the row that references it). Files of no known kind are left alone.
    public func unreferencedArchives(referenced: Set<String>, graceSeconds: Int64, now: Int64) -> [Unreferenced] {
        var out: [Unreferenced] = []
        forEachArchiveFile { key, st in
            if BlobKind.of(key: key) != nil, !referenced.contains(key), Int64(st.st_mtim.tv_sec) <= now - graceSeconds {
                out.append(Unreferenced(key: key, size: Int64(st.st_size)))
            }
        }
        return out.sorted { $0.key < $1.key }
    }

    /// What an interrupted gc left moved aside (`KEY.gc-PID`): put back when a version references the
    /// key (and the file is not there again already), else removed. Only once that gc is gone: a
    /// running one decides about its own file (it may be about to put it back). Returns the keys put back.
    @discardableResult
    public func recoverInterruptedCollection(referenced: Set<String>) -> [String] {
        var restored: [String] = []
        forEachArchiveFile { rel, _ in
            guard let (kind, mark) = BlobKind.allCases.lazy.compactMap({ k in rel.firstRange(of: k.fileExtension + ".gc-").map { (k, $0) } }).first,
                Self.writer(pid: rel[mark.upperBound...]) != .alive
            else { return }
            let key = String(rel[..<mark.lowerBound]) + kind.fileExtension
            let aside = archivesDirectory + "/" + rel
            let final = archivesDirectory + "/" + key
            if referenced.contains(key) && !FileSystem.exists(final) {
                if rename(aside, final) == 0 { restored.append(key) }
            } else {
                _ = unlink(aside)
            }
        }
        return restored
    }

    /// Removes one unreferenced archive without racing a publish of the same bytes. `stillReferenced`
    /// is asked first: a version published with these bytes since gc listed the file (its `put` found
    /// the file and kept it) keeps it, and the file never leaves its place (renaming a referenced file
    /// aside, even for the moment of a query, is a moment when a listed version has no archive). Then
    /// the file is renamed aside and `stillReferenced` is asked again; if a version now references it,
    /// it is put back (and a publish that found it missing meanwhile has already re-linked its own
    /// copy, see `settle`). Returns true when the file was removed.
    public func removeUnreferenced(_ key: String, stillReferenced: () async throws(RegistryError) -> Bool) async throws(RegistryError) -> Bool {
        guard Self.isSafeKey(key) else { return false }
        let path = archivesDirectory + "/" + key
        let aside = path + ".gc-\(getpid())"
        if try await stillReferenced() { return false }
        guard rename(path, aside) == 0 else { return false }
        if try await stillReferenced() {
            _ = rename(aside, path)
            return false
        }
        return unlink(aside) == 0
    }
}
