import TFRegArchive
import TFRegCore
import TFRegHCL
import TFRegJSON
import TFRegSystem

/// Extracts a module version's documentation from its canonical archive (issue 19, section 1):
/// the root module, each `modules/NAME` and each `examples/NAME` directory, following the rules of
/// hashicorp/terraform-config-inspect and Terraform's own configuration loader:
/// - files: `*.tf` and `*.tf.json` directly in the directory, except names Terraform ignores (leading
///   `.`, trailing `~`, `#…#`); primary files in name order, then override files (`override.tf`,
///   `*_override.tf`, and their `.tf.json` forms) in name order;
/// - override files merge as Terraform merges them: a `variable`, `output` or `module` block replaces
///   the same-named primary block's arguments one by one (the others are kept); `terraform` blocks
///   replace `required_version` and each named `required_providers` entry; an override of a block no
///   primary file declares is a problem (Terraform refuses it) and is ignored;
/// - inputs in declaration order; `required` = no `default` argument; `default` JSON-encoded (a
///   literal's value, else its source text as a JSON string).
/// It never fails: what cannot be read is named in `problems` (`main.tf:12: …`). Bounds: see `Limits`.
public struct HCLModuleDocumenter: ModuleDocumenter {
    public struct Limits: Sendable {
        /// One `.tf`, `.tf.json` or README file; larger ones are named in `problems` and not read.
        public var maximumFileBytes: Int
        /// All selected files of the archive together.
        public var maximumTotalBytes: Int
        /// Wall time for the parsing (checked before each file); the files left are named in `problems`.
        public var timeLimit: Duration
        /// The archive reader's own limits (the canonical archive was already read with them).
        public var archive: ArchiveLimits
        public var hcl: HCLLimits

        public init(
            maximumFileBytes: Int = 1 << 20,
            maximumTotalBytes: Int = 32 << 20,
            timeLimit: Duration = .seconds(10),
            archive: ArchiveLimits = ArchiveLimits(),
            hcl: HCLLimits = HCLLimits()
        ) {
            self.maximumFileBytes = maximumFileBytes
            self.maximumTotalBytes = maximumTotalBytes
            self.timeLimit = timeLimit
            self.archive = archive
            self.hcl = hcl
        }
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Off the cooperative pool (`Blocking.run`): reading and parsing are blocking CPU and file work.
    public func documentation(ofArchiveAt path: String) async -> ModuleDocs {
        let documenter = self
        return await Blocking.run { () -> ModuleDocs in documenter.documentation(archiveAt: path) }
    }

    public func documentation(archiveAt path: String) -> ModuleDocs {
        do throws(ArchiveError) {
            let contents = try ArchiveFiles.read(
                archiveAt: path,
                limits: limits.archive,
                maximumFileBytes: limits.maximumFileBytes,
                maximumTotalBytes: limits.maximumTotalBytes,
                select: Self.isDocumentationFile
            )
            return documentation(contents)
        } catch {
            return ModuleDocs(root: ModuleDocs.Part(path: "", problems: ["the archive could not be read: \(error.message)"]))
        }
    }

    public func documentation(archiveBytes: [UInt8]) -> ModuleDocs {
        do throws(ArchiveError) {
            let contents = try ArchiveFiles.read(
                bytes: archiveBytes,
                limits: limits.archive,
                maximumFileBytes: limits.maximumFileBytes,
                maximumTotalBytes: limits.maximumTotalBytes,
                select: Self.isDocumentationFile
            )
            return documentation(contents)
        } catch {
            return ModuleDocs(root: ModuleDocs.Part(path: "", problems: ["the archive could not be read: \(error.message)"]))
        }
    }

    // MARK: Layout

    /// The directory of a part a path belongs to ("" for the root, `modules/NAME`, `examples/NAME`),
    /// and the file's name in it; nil for files elsewhere.
    static func place(_ path: String) -> (directory: String, name: String)? {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if parts.count == 1 { return ("", parts[0]) }
        if parts.count == 3 && (parts[0] == "modules" || parts[0] == "examples") && !parts[1].isEmpty {
            return (parts[0] + "/" + parts[1], parts[2])
        }
        return nil
    }

    static func isTerraformFile(_ name: String) -> Bool {
        guard !name.hasPrefix("."), !name.hasSuffix("~"), !(name.hasPrefix("#") && name.hasSuffix("#")) else {
            return false
        }
        return name.hasSuffix(".tf") || name.hasSuffix(".tf.json")
    }

    static func isReadme(_ name: String) -> Bool { name.lowercased() == "readme.md" }

    static func isOverride(_ name: String) -> Bool {
        let stem: Substring
        if name.hasSuffix(".tf.json") {
            stem = name.dropLast(8)
        } else if name.hasSuffix(".tf") {
            stem = name.dropLast(3)
        } else {
            return false
        }
        return stem == "override" || stem.hasSuffix("_override")
    }

    static func isDocumentationFile(_ path: String) -> Bool {
        guard let p = place(path) else { return false }
        return isTerraformFile(p.name) || isReadme(p.name)
    }

    // MARK: Extraction

    func documentation(_ contents: ArchiveFiles.Contents) -> ModuleDocs {
        var directories: Set<String> = [""]
        for path in contents.paths {
            let parts = path.split(separator: "/")
            if parts.count >= 3 && (parts[0] == "modules" || parts[0] == "examples") {
                directories.insert(parts[0] + "/" + parts[1])
            }
        }
        var byDirectory: [String: [(name: String, bytes: [UInt8])]] = [:]
        for file in contents.files {
            guard let p = Self.place(file.path) else { continue }
            byDirectory[p.directory, default: []].append((p.name, file.bytes))
        }
        var leftOut: [String: [String]] = [:]
        for path in contents.leftOut {
            guard let p = Self.place(path) else { continue }
            leftOut[p.directory, default: []].append(p.name)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: limits.timeLimit)
        func part(_ directory: String) -> ModuleDocs.Part {
            var extractor = PartExtractor(path: directory, limits: limits.hcl)
            for name in leftOut[directory] ?? [] {
                extractor.problems.append(
                    "\(name): larger than \(limits.maximumFileBytes) bytes (or over the module's total of \(limits.maximumTotalBytes)), not read"
                )
            }
            return extractor.run(files: byDirectory[directory] ?? [], deadline: deadline, clock: clock)
        }
        let sorted = directories.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        return ModuleDocs(
            root: part(""),
            submodules: sorted.filter { $0.hasPrefix("modules/") }.map(part),
            examples: sorted.filter { $0.hasPrefix("examples/") }.map(part)
        )
    }
}
