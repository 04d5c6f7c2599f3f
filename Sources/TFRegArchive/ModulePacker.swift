import Glibc
import TFRegCore
import TFRegSystem

/// Packs a module directory into a deterministic `.tar.gz`: entries sorted by path, owner/group 0,
/// mtime 0, modes normalised to 0644/0755. The same tree always gives byte-identical output, so the
/// archive's SHA-256 identifies the content.
///
/// What goes in is decided per path, first rule that applies wins:
/// 1. an `--exclude` pattern matches: left out;
/// 2. an `--include` pattern matches: packed;
/// 3. a default exclusion (`defaultExclusions`: state, secrets, keys, `.git`, `.terraform`, …) matches,
///    or the path is below a directory one matched: left out;
/// 4. the ignore file says so: the root's `.terraformignore` when there is one (Terraform's rules and
///    semantics, the root file only, as Terraform reads it), else the `.gitignore` files (root and
///    nested, git's anchoring);
/// 5. otherwise packed.
/// Patterns on the command line use `.terraformignore` syntax.
public enum ModulePacker {
    /// Why a path is left out.
    public struct LeftOut: Sendable, Equatable, CustomStringConvertible {
        /// Relative path; a directory ends in `/`.
        public let path: String
        public let reason: String
        public init(path: String, reason: String) {
            self.path = path
            self.reason = reason
        }
        public var description: String { "\(path) (\(reason))" }
    }

    /// What a pack would contain and what it leaves out.
    public struct Plan: Sendable {
        /// Sorted by path bytes, as written.
        public let entries: [TarEntry]
        /// Sorted by path; a left-out directory is listed once, not its contents.
        public let leftOut: [LeftOut]
        /// The ignore file that applied (`.terraformignore` or `.gitignore`), if any.
        public let ignoreFile: String?
        /// Files' contents were not read (`Options.deferContents`): their entries hold no bytes,
        /// and `pack(_:directory:toFile:)` reads each file while it writes it.
        public let contentsDeferred: Bool
    }

    public struct Options: Sendable {
        public var exclude: [IgnorePattern]
        public var include: [IgnorePattern]
        /// Decide paths without reading files' contents (for `pack(_:directory:toFile:)`, which then
        /// holds one file at a time in memory instead of all of them).
        public var deferContents = false
        public init(exclude: [IgnorePattern] = [], include: [IgnorePattern] = []) {
            self.exclude = exclude
            self.include = include
        }

        /// Compiles `--exclude` / `--include` globs (`.terraformignore` syntax; `!` is not allowed).
        public init(exclude: [String], include: [String]) throws(ArchiveError) {
            func compile(_ globs: [String], _ flag: String) throws(ArchiveError) -> [IgnorePattern] {
                var out: [IgnorePattern] = []
                for g in globs {
                    guard let p = IgnorePattern(g), !p.negated else {
                        throw ArchiveError("\(flag) '\(g)' is not a pattern (empty, a comment, or starting with '!')")
                    }
                    out.append(p)
                }
                return out
            }
            self.exclude = try compile(exclude, "--exclude")
            self.include = try compile(include, "--include")
        }
    }

    /// Left out of every archive unless an `--include` names them: what must never be published
    /// (state, secrets, keys) and what a module never needs (VCS data, Terraform's working directory,
    /// the root configuration's lock file, installed Node.js packages).
    public static let defaultExclusions: [(pattern: IgnorePattern, reason: String)] = [
        ("*.tfstate*", "state"),
        ("*.tfplan", "plan"),
        (".env*", "secret"),
        ("*.tfvars", "variables, may hold secrets"),
        ("*.tfvars.json", "variables, may hold secrets"),
        (".terraformrc", "CLI config, may hold tokens"),
        ("terraform.rc", "CLI config, may hold tokens"),
        ("*.pem", "private key"),
        ("*.key", "private key"),
        ("id_rsa*", "private key"),
        ("id_ecdsa*", "private key"),
        ("id_ed25519*", "private key"),
        (".git", "git"),
        (".terraform", "Terraform working directory"),
        (".terraform.lock.hcl", "lock file: belongs to a root configuration"),
        ("node_modules", "dependencies"),
    ].map { (IgnorePattern($0.0)!, $0.1) }

    public static func isExcluded(_ name: String) -> Bool {
        defaultExclusions.contains { $0.pattern.matches(name) }
    }

    /// The entries `pack(directory:)` writes (default exclusions and ignore files applied).
    public static func entries(ofDirectory root: String) throws(ArchiveError) -> [TarEntry] {
        try plan(directory: root).entries
    }

    /// Walks `root` and decides every path (see the type's documentation).
    public static func plan(directory root: String, options: Options = Options()) throws(ArchiveError) -> Plan {
        var rules: IgnoreRules
        var ignoreFile: String?
        if let text = try readIfPresent(root + "/.terraformignore") {
            rules = IgnoreRules(source: .terraformignore, patterns: IgnoreRules.parse(text, source: .terraformignore))
            ignoreFile = ".terraformignore"
        } else {
            rules = IgnoreRules(source: .gitignore)
            if let text = try readIfPresent(root + "/.gitignore") {
                rules.append(IgnoreRules.parse(text, source: .gitignore))
                ignoreFile = ".gitignore"
            }
        }
        var walker = Walker(root: root, options: options, useNestedGitignore: rules.source == .gitignore)
        _ = try walker.walk(relative: "", rules: rules, inherited: nil)
        if walker.usedNestedGitignore { ignoreFile = ".gitignore" }
        walker.entries.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        walker.leftOut.sort { Array($0.path.utf8).lexicographicallyPrecedes(Array($1.path.utf8)) }
        return Plan(entries: walker.entries, leftOut: walker.leftOut, ignoreFile: ignoreFile, contentsDeferred: options.deferContents)
    }

    /// Packs a directory with the default exclusions and its ignore file.
    public static func pack(directory root: String) throws(ArchiveError) -> [UInt8] {
        try pack(plan(directory: root), directory: root)
    }

    /// Writes a plan's entries as `.tar.gz`; refuses a plan without a Terraform file.
    public static func pack(_ plan: Plan, directory root: String) throws(ArchiveError) -> [UInt8] {
        guard !plan.contentsDeferred else { throw ArchiveError("a plan made with deferContents packs only to a file") }
        try requireTerraformFile(plan, directory: root)
        // Through the server's canonicalizer: the packed bytes are exactly what the registry will store.
        return try ArchiveCanonicalization.canonicalize(bytes: Gzip.compress(TarWriter.archive(plan.entries))).archive
    }

    /// Writes a plan's canonical `.tar.gz` to the new file `output` (mode 0600) without holding the
    /// archive in memory: the tar stream is gzipped into `output.raw` (removed again), which the
    /// server's own file-to-file canonicalizer reads; its bytes are the same as `pack`'s.
    /// Returns the archive's size and SHA-256 (hex). Nothing is left at `output` on failure.
    public static func pack(_ plan: Plan, directory root: String, toFile output: String) throws(ArchiveError) -> (size: Int64, sha256: String) {
        try requireTerraformFile(plan, directory: root)
        let raw = output + ".raw"
        let fd = open(raw, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o600)
        guard fd >= 0 else { throw ArchiveError("cannot create \(raw) (errno \(errno))") }
        defer { unlink(raw) }
        let written = Result { () throws(ArchiveError) in
            let gzip = try GzipWriter(sink: FileByteSink(fd: fd))
            try TarWriter.write(plan.entries, to: GzipBytes(gzip), contentsFrom: plan.contentsDeferred ? root : nil)
            try gzip.finish()
        }
        close(fd)
        try written.get()
        let canonical: CanonicalArchive
        do throws(RegistryError) {
            canonical = try TarGzCanonicalizer().canonicalize(input: raw, output: output)
        } catch {
            throw ArchiveError(error.detail.map { "\(error.message): \($0)" } ?? error.message)
        }
        guard chmod(output, 0o600) == 0 else {
            unlink(output)
            throw ArchiveError("cannot restrict \(output) to its owner (errno \(errno))")
        }
        return (canonical.size, canonical.sha256)
    }

    static func requireTerraformFile(_ plan: Plan, directory root: String) throws(ArchiveError) {
        guard
            plan.entries.contains(where: { e in
                if case .file = e.kind { return e.path.hasSuffix(".tf") || e.path.hasSuffix(".tf.json") }
                return false
            })
        else {
            throw ArchiveError("\(root) contains no Terraform files (*.tf or *.tf.json) to pack")
        }
    }

    /// A `GzipWriter` as a `ByteSink`.
    private final class GzipBytes: ByteSink {
        let gzip: GzipWriter
        init(_ gzip: GzipWriter) { self.gzip = gzip }
        func write(_ bytes: UnsafeRawBufferPointer) throws(ArchiveError) { try gzip.write(bytes) }
    }

    private struct Walker {
        let root: String
        let options: Options
        let useNestedGitignore: Bool
        var entries: [TarEntry] = []
        var leftOut: [LeftOut] = []
        var usedNestedGitignore = false

        /// Why the contents of a left-out directory that is walked anyway stay out by default.
        enum Inherited: Equatable {
            /// A default exclusion: only `--include` brings a path back.
            case defaults(String)
            /// The ignore file: a `!` pattern matching the path (or `--include`) brings it back.
            case ignoreFile(String)

            var reason: String {
                switch self {
                case .defaults(let r), .ignoreFile(let r): r
                }
            }
        }

        enum Decision {
            case pack
            /// `descend`: walk a directory's contents anyway (something below may be brought back);
            /// `inherit`: why its contents stay out unless brought back.
            case leaveOut(reason: String, descend: Bool, inherit: Inherited?)
        }

        /// Decides `rel` (a directory is tested as `rel` and as `rel/`, as go-slug does).
        func decide(_ rel: String, isDirectory: Bool, rules: IgnoreRules, inherited: Inherited?) -> Decision {
            let forms = isDirectory ? [rel, rel + "/"] : [rel]
            func firstMatch(_ patterns: [IgnorePattern]) -> IgnorePattern? {
                patterns.first { p in forms.contains { p.matches($0) } }
            }
            if let p = firstMatch(options.exclude) { return .leaveOut(reason: "--exclude \(p.source)", descend: false, inherit: nil) }
            if firstMatch(options.include) != nil { return .pack }
            let mayInclude = !options.include.isEmpty
            if case .defaults(let reason)? = inherited { return .leaveOut(reason: reason, descend: mayInclude, inherit: inherited) }
            if let d = ModulePacker.defaultExclusions.first(where: { d in forms.contains { d.pattern.matches($0) } }) {
                return .leaveOut(reason: d.reason, descend: mayInclude, inherit: .defaults(d.reason))
            }
            let name = rules.source == .terraformignore ? ".terraformignore" : ".gitignore"
            if case .ignoreFile? = inherited, rules.source == .gitignore {
                // Git never brings anything back below an excluded directory.
                return .leaveOut(reason: name, descend: mayInclude, inherit: inherited)
            }
            var verdict = rules.excludes(forms[0])
            if !verdict.excluded, forms.count == 2 {
                let slash = rules.excludes(forms[1])
                if slash.excluded || !verdict.matched { verdict = slash }
            }
            // Below an excluded directory a path stays out unless a `!` pattern brings it back (as in
            // git; go-slug would pack a path no pattern matches, which leaks a directory's files when
            // it is written without its trailing `/`).
            let excluded = verdict.excluded || (inherited != nil && !verdict.matched)
            guard excluded else { return .pack }
            let dominating = verdict.matched ? verdict.dominating : !rules.hasNegations
            return .leaveOut(reason: name, descend: !dominating || mayInclude, inherit: .ignoreFile(name))
        }

        /// Walks one directory; returns whether anything below it was packed, nil when it is empty.
        mutating func walk(relative: String, rules parentRules: IgnoreRules, inherited: Inherited?) throws(ArchiveError) -> Bool? {
            let dirPath = relative.isEmpty ? root : root + "/" + relative
            var rules = parentRules
            if useNestedGitignore, !relative.isEmpty, inherited == nil, let text = try readIfPresent(dirPath + "/.gitignore") {
                rules.append(IgnoreRules.parse(text, source: .gitignore, base: relative))
                usedNestedGitignore = true
            }
            var packedSomething = false
            let names = try ModulePacker.names(in: dirPath)
            if names.isEmpty { return nil }
            for name in names {
                let rel = relative.isEmpty ? name : relative + "/" + name
                let full = root + "/" + rel
                var st = stat()
                guard lstat(full, &st) == 0 else { throw ArchiveError("cannot stat \(full)") }
                let isDirectory = st.st_mode & S_IFMT == S_IFDIR
                switch decide(rel, isDirectory: isDirectory, rules: rules, inherited: inherited) {
                case .pack:
                    if try add(rel, full: full, st: st, rules: rules) { packedSomething = true }
                case .leaveOut(let reason, let descend, let inherit):
                    if isDirectory && descend {
                        let mark = leftOut.count
                        if try walk(relative: rel, rules: rules, inherited: inherit) == true {
                            // Something below was packed: keep the directory entry, and report
                            // only what was left out inside it.
                            entries.append(TarEntry(path: rel, kind: .directory))
                            packedSomething = true
                            continue
                        }
                        // Nothing below was packed: report the directory alone, not its contents.
                        leftOut.removeSubrange(mark...)
                    }
                    leftOut.append(LeftOut(path: isDirectory ? rel + "/" : rel, reason: reason))
                }
            }
            return packedSomething
        }

        /// Adds one path decided `.pack`; false for a directory left with nothing in it.
        mutating func add(_ rel: String, full: String, st: stat, rules: IgnoreRules) throws(ArchiveError) -> Bool {
            switch st.st_mode & S_IFMT {
            case S_IFDIR:
                // A directory whose every entry was left out is not packed either (an empty one is).
                guard try walk(relative: rel, rules: rules, inherited: nil) != false else { return false }
                entries.append(TarEntry(path: rel, kind: .directory))
            case S_IFREG:
                let data = options.deferContents ? [] : try ModulePacker.readFile(full)
                let exec = st.st_mode & 0o111 != 0
                entries.append(TarEntry(path: rel, kind: .file(data), mode: exec ? 0o755 : 0o644))
            case S_IFLNK:
                var buf = [CChar](repeating: 0, count: 4097)
                let n = readlink(full, &buf, 4096)
                guard n > 0 else { throw ArchiveError("cannot read link \(full)") }
                let target = String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                let directory = rel.split(separator: "/").dropLast().map { Array($0.utf8) }
                if target.hasPrefix("/") || LexicalPath.resolve(target.utf8, in: directory) == nil {
                    throw ArchiveError("symlink \(rel) points outside the module directory")
                }
                entries.append(TarEntry(path: rel, kind: .symlink(target: target), mode: 0o755))
            default:
                throw ArchiveError("\(rel) is not a regular file, directory or symlink")
            }
            return true
        }
    }

    static func names(in dirPath: String) throws(ArchiveError) -> [String] {
        guard let dir = opendir(dirPath) else { throw ArchiveError("cannot read directory \(dirPath)") }
        defer { closedir(dir) }
        var names: [String] = []
        while let ent = readdir(dir) {
            let name = withUnsafePointer(to: ent.pointee.d_name) {
                $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            names.append(name)
        }
        return names
    }

    /// The file's text, or nil when it does not exist (an ignore file that cannot be read is an error:
    /// packing without it could publish what it hides).
    static func readIfPresent(_ path: String) throws(ArchiveError) -> String? {
        var st = stat()
        guard stat(path, &st) == 0 else {
            if errno == ENOENT || errno == ENOTDIR { return nil }
            throw ArchiveError("cannot stat \(path)")
        }
        guard st.st_mode & S_IFMT == S_IFREG else { return nil }
        return String(decoding: try readFile(path), as: UTF8.self)
    }

    /// The whole file, or an error naming the step that failed (`cannot open …`, `cannot read …`).
    /// `noFollow`: refuse a symlink (a file decided as regular must still be one when it is read).
    static func readFile(_ path: String, noFollow: Bool = false) throws(ArchiveError) -> [UInt8] {
        do { return try FileSystem.readAll(path, noFollow: noFollow) } catch { throw ArchiveError("cannot \(error.operation) \(path)") }
    }
}
