import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// Backup and restore of a local data directory (SQLite database + archives + keys).
///
/// Backup: an online snapshot of the database with SQLite's backup API (the server may keep taking
/// uploads), then every stored file the snapshot references (module archives and documentation,
/// provider zips, SHA256SUMS and signatures), copied with its SHA-256 verified. Stored files are
/// immutable and made durable before their row is inserted, so the snapshot's archives all exist —
/// unless a version was deleted meanwhile; such a row is dropped from the copy, so the backup never
/// holds a version without its archive.
///
/// Restore: verifies every archive in the backup against the database's digests, copies archives
/// first and the database last, so an interrupted restore never leaves rows without archives.
public enum LocalBackup {
    public struct Report: Sendable {
        /// Module versions and provider versions whose stored files were copied.
        public var versions: Int
        public var providerVersions: Int = 0
        /// Bytes of stored files copied (archives, documentation, provider zips, sums, signatures).
        public var bytes: Int64
        public var dropped: [String]
        /// Versions kept without their documentation, whose file was missing (`tfreg reindex` rebuilds it).
        public var undocumented: [String] = []
    }

    /// A file of the data directory the database references, with the digest it must have and what
    /// it belongs to: every kind of blob (module archive, documentation, provider zip, SHA256SUMS,
    /// signature) is copied and verified, or a restored registry would list versions without them.
    struct ReferencedFile {
        enum Owner: Hashable {
            case module(ModuleAddress, Version)
            /// A module version's documentation: derived from its archive, so a missing one costs the
            /// copy only the documentation, never the version.
            case documentation(ModuleAddress, Version)
            case provider(ProviderAddress, Version)
        }
        let key: String
        let sha256: String
        let owner: Owner
    }

    /// Every local file `store` references. A documentation key is content-addressed
    /// (`sha256/HH/DIGEST.json`): its digest is read from the key.
    static func referencedFiles(_ store: SQLiteMetadataStore) async throws(RegistryError) -> [ReferencedFile] {
        var files: [ReferencedFile] = []
        for r in try await store.allVersions(in: nil) {
            let owner = ReferencedFile.Owner.module(r.module, r.version)
            if r.location.bucket == nil { files.append(ReferencedFile(key: r.location.key, sha256: r.sha256, owner: owner)) }
            if let docs = r.docsKey {
                let digest = String(docs.split(separator: "/").last?.prefix(64) ?? "")
                guard Grammar.isSHA256Hex(digest) else {
                    throw .init(.unprocessable, "unexpected documentation key in database: \(docs.prefix(200))")
                }
                files.append(ReferencedFile(key: docs, sha256: digest, owner: .documentation(r.module, r.version)))
            }
        }
        for r in try await store.allProviderVersions(in: nil) {
            let owner = ReferencedFile.Owner.provider(r.provider, r.version)
            for blob in r.packages.map(\.zip) + [r.shasums, r.signature] where blob.location.bucket == nil {
                files.append(ReferencedFile(key: blob.location.key, sha256: blob.sha256, owner: owner))
            }
        }
        for f in files where !FileArchiveStorage.isSafeKey(f.key) {
            throw .init(.unprocessable, "unsafe archive key in database: \(f.key.prefix(200))")
        }
        return files
    }

    static func count(_ files: [ReferencedFile], into report: inout Report) {
        var modules: Set<ReferencedFile.Owner> = []
        var providers: Set<ReferencedFile.Owner> = []
        for f in files {
            switch f.owner {
            case .module: modules.insert(f.owner)
            case .provider: providers.insert(f.owner)
            case .documentation: break
            }
        }
        report.versions = modules.count
        report.providerVersions = providers.count
    }

    /// `progress` is told the bytes copied so far and their total (as the files' sizes say).
    public static func backup(
        dataDirectory: String,
        to destination: String,
        progress: (@Sendable (_ done: Int64, _ total: Int64) -> Void)? = nil
    ) async throws(RegistryError) -> Report {
        try prepareEmptyDirectory(destination)
        let source = try SQLiteMetadataStore(path: dataDirectory + "/registry.db", cached: false)
        try await source.backup(to: destination + "/registry.db")
        do { try FileSystem.restrictMode(destination + "/registry.db", to: 0o600) } catch { throw RegistryError(error) }
        let snapshot = try SQLiteMetadataStore(path: destination + "/registry.db", cached: false)
        var report = Report(versions: 0, bytes: 0, dropped: [])
        // A version deleted while the backup ran may have lost a file already (gc): it is dropped
        // from the copy, all its files with it, so the backup never lists a version without them.
        var files = try await referencedFiles(snapshot)
        var gone: Set<ReferencedFile.Owner> = []
        for f in files where !gone.contains(f.owner) && !FileSystem.exists(dataDirectory + "/archives/" + f.key) { gone.insert(f.owner) }
        for owner in gone.sorted(by: { "\($0)" < "\($1)" }) {
            switch owner {
            case .module(let module, let version):
                try await snapshot.dropFromSnapshot(version, of: module)
                report.dropped.append("\(module) \(version)")
            case .documentation(let module, let version):
                try await snapshot.clearDocumentationInSnapshot(version, of: module)
                report.undocumented.append("\(module) \(version)")
            case .provider(let provider, let version):
                _ = try await snapshot.tombstoneProviderVersion(version, of: provider, at: SystemClock().now(), by: "backup")
                report.dropped.append("provider \(provider) \(version)")
            }
        }
        files.removeAll { gone.contains($0.owner) }
        var total: Int64 = 0
        if progress != nil {
            // Each key once: content-addressed files (an archive, a documentation blob) can be shared.
            var seen: Set<String> = []
            for f in files where seen.insert(f.key).inserted {
                var st = stat()
                if stat(dataDirectory + "/archives/" + f.key, &st) == 0 { total += Int64(st.st_size) }
            }
        }
        var done: Int64 = 0
        var copied: Set<String> = []
        for f in files where copied.insert(f.key).inserted {
            report.bytes += try copyVerified(from: dataDirectory + "/archives/" + f.key, to: destination + "/archives/" + f.key, sha256: f.sha256) {
                done += $0
                progress?(done, max(total, done))
            }
        }
        count(files, into: &report)
        let key = dataDirectory + "/keys/archive-url.key"
        if let bytes = FileSystem.read(key, limit: 1024, noFollow: true) {
            try RegistryError.storage(FileSystem.makeDirectories(destination + "/keys", mode: 0o700))
            try RegistryError.storage(FileSystem.writeAtomically(destination + "/keys/archive-url.key", bytes, mode: 0o600))
        }
        try RegistryError.storage(FileSystem.fsyncDirectory(destination))
        return report
    }

    public static func restore(from backup: String, into dataDirectory: String, force: Bool) async throws(RegistryError) -> Report {
        guard FileSystem.exists(backup + "/registry.db") else {
            throw .badRequest("\(backup) is not a tfreg backup (no registry.db)")
        }
        if FileSystem.exists(dataDirectory + "/registry.db") && !force {
            throw .conflict("\(dataDirectory) already holds a registry; stop the server and pass --force to replace it")
        }
        let snapshot = try SQLiteMetadataStore(path: backup + "/registry.db", cached: false)
        let files = try await referencedFiles(snapshot)
        // Verify everything before touching the destination.
        for f in files {
            let digest = try sha256(ofFile: backup + "/archives/" + f.key)
            guard constantTimeEquals(Array(digest.utf8), Array(f.sha256.utf8)) else {
                let what =
                    switch f.owner {
                    case .module(let m, let v), .documentation(let m, let v): "\(m) \(v)"
                    case .provider(let p, let v): "provider \(p) \(v)"
                    }
                throw .init(.unprocessable, "a stored file of \(what) (\(f.key)) does not match its SHA-256 in the backup")
            }
        }
        _ = try FileArchiveStorage(root: dataDirectory)
        var report = Report(versions: 0, bytes: 0, dropped: [])
        var copied: Set<String> = []
        for f in files where copied.insert(f.key).inserted {
            report.bytes += try copyVerified(from: backup + "/archives/" + f.key, to: dataDirectory + "/archives/" + f.key, sha256: f.sha256)
        }
        count(files, into: &report)
        if let bytes = FileSystem.read(backup + "/keys/archive-url.key", limit: 1024, noFollow: true) {
            try RegistryError.storage(FileSystem.makeDirectories(dataDirectory + "/keys", mode: 0o700))
            try RegistryError.storage(FileSystem.writeAtomically(dataDirectory + "/keys/archive-url.key", bytes, mode: 0o600))
        }
        // The database last: copied to a temporary name, then renamed over the old one.
        let temporary = dataDirectory + "/registry.db.restoring"
        _ = unlink(temporary)
        try await snapshot.backup(to: temporary)
        do { try FileSystem.restrictMode(temporary, to: 0o640) } catch { throw RegistryError(error) }
        for suffix in ["-wal", "-shm"] { _ = unlink(dataDirectory + "/registry.db" + suffix) }
        guard rename(temporary, dataDirectory + "/registry.db") == 0 else {
            throw .unavailable("storage", detail: "rename restored database: errno \(errno)")
        }
        try RegistryError.storage(FileSystem.fsyncDirectory(dataDirectory))
        return report
    }

    static func prepareEmptyDirectory(_ path: String) throws(RegistryError) {
        try RegistryError.storage(FileSystem.makeDirectories(path, mode: 0o700))
        guard let dir = opendir(path) else { throw .unavailable("storage", detail: "cannot read \(path)") }
        defer { closedir(dir) }
        while let e = readdir(dir) {
            let name = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
            if name != "." && name != ".." { throw .conflict("backup destination \(path) is not empty") }
        }
    }

    static func sha256(ofFile path: String) throws(RegistryError) -> String {
        guard let digest = SHA256.hash(fileAt: path) else {
            if access(path, F_OK) != 0 { throw .init(.unprocessable, "missing archive \(path)") }
            throw .unavailable("storage", detail: "read \(path): errno \(errno)")
        }
        return Hex.encode(digest)
    }

    /// Copies a file, hashing it on the way; fails (and leaves nothing) if the digest differs.
    static func copyVerified(
        from: String,
        to: String,
        sha256 expected: String,
        copied: (Int64) -> Void = { _ in }
    ) throws(RegistryError) -> Int64 {
        let dir = String(to[..<to.lastIndex(of: "/")!])
        try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o750))
        let input = open(from, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK)
        guard input >= 0 else { throw .init(.unprocessable, "missing archive \(from)") }
        defer { close(input) }
        let temporary = to + ".partial"
        let output = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard output >= 0 else { throw .unavailable("storage", detail: "create \(temporary): errno \(errno)") }
        var hasher = SHA256.Hasher()
        var total: Int64 = 0
        var buf = [UInt8](repeating: 0, count: 1 << 16)
        var failed = false
        while !failed {
            let n = buf.withUnsafeMutableBytes { read(input, $0.baseAddress, $0.count) }
            if n < 0 {
                failed = true
                break
            }
            if n == 0 { break }
            buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            let written = buf.withUnsafeBytes { write(output, $0.baseAddress, n) }
            if written != n { failed = true }
            total += Int64(n)
            copied(Int64(n))
        }
        let synced = fsync(output) == 0
        close(output)
        let digest = Hex.encode(hasher.finalize())
        guard !failed, synced, digest == expected else {
            unlink(temporary)
            if !failed && synced { throw .init(.unprocessable, "archive \(from) does not match its recorded SHA-256") }
            throw .unavailable("storage", detail: "copy \(from) → \(to)")
        }
        guard rename(temporary, to) == 0 else {
            unlink(temporary)
            throw .unavailable("storage", detail: "rename \(to): errno \(errno)")
        }
        return total
    }
}

extension SQLiteMetadataStore {
    /// A consistent online snapshot of the database at `path`.
    public func backup(to path: String) async throws(RegistryError) {
        try await backupConnection(to: path)
    }
}
