import Foundation
import TFRegCore
import TFRegCrypto
import TFRegTesting
import Testing

@testable import TFRegArchive

/// Issue "Trust I", items 1-3: every hostile payload is refused with a clear reason, or accepted only
/// as a canonical archive that GNU tar and Python list exactly as the reader did and that extracts
/// inside the module.
@Suite final class HostilePayloadTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    @Test(arguments: HostilePayloads.names)
    func payload(_ name: String) throws {
        let p = HostilePayloads.named(name)
        #expect(!p.bytes.isEmpty)
        #expect(ArchiveFuzzProperties.check(p.bytes) == nil)
        switch p.outcome {
        case .refused(let reason):
            let error = #expect(throws: ArchiveError.self) {
                try ArchiveCanonicalization.canonicalize(bytes: p.bytes, limits: ArchiveFuzzProperties.limits)
            }
            #expect(error?.message.contains(reason) == true, "\(name): \(error?.message ?? "accepted")")
        case .accepted(let names):
            let result = try ArchiveCanonicalization.canonicalize(bytes: p.bytes, limits: ArchiveFuzzProperties.limits)
            #expect(result.entries.map(\.archiveName) == names)
            try checkWithConsumers(result.archive, entries: result.entries)
        }
    }

    /// GNU tar and Python list the canonical archive as the reader did, and extracting it with either
    /// (no safety filter) leaves nothing outside the module directory.
    func checkWithConsumers(_ archive: [UInt8], entries: [CanonicalEntry]) throws {
        let path = dir.path + "/c-\(UInt64.random(in: 0...UInt64.max)).tar.gz"
        writeFile(path, archive)
        #expect(Consumers.gnuTarNames(path) == entries.map(\.archiveName))
        #expect(Consumers.pythonNames(path) == entries.map(\.path))
        #expect(Consumers.pythonListing(path) == Consumers.listing(entries))
        #expect(Consumers.gnuTarListing(path) == Consumers.gnuListing(entries))
        #expect(Consumers.extractionEscapes(path) == nil)
    }

    // MARK: Large payloads (generated, not in the corpus)

    /// A tar stream split over gzip members, compressed as it is generated (so no big buffer).
    final class StreamingArchive {
        let sink = MemoryByteSink()
        var writer: GzipWriter
        init() throws { writer = try GzipWriter(sink: sink) }
        func add(_ bytes: [UInt8]) throws { try writer.write(bytes) }
        func zeros(_ count: Int64) throws {
            let block = [UInt8](repeating: 0, count: 1 << 16)
            var left = count
            while left > 0 {
                let n = Int(min(left, Int64(block.count)))
                try writer.write(Array(block[0..<n]))
                left -= Int64(n)
            }
        }
        /// Ends the current member and starts another.
        func newMember() throws {
            try writer.finish()
            writer = try GzipWriter(sink: sink)
        }
        func finish() throws -> [UInt8] {
            try writer.finish()
            return sink.bytes
        }
    }

    func canonicalizeFile(_ bytes: [UInt8]) throws(RegistryError) -> CanonicalArchive {
        let input = dir.path + "/in-\(UInt64.random(in: 0...UInt64.max)).tar.gz"
        writeFile(input, bytes)
        return try TarGzCanonicalizer().canonicalize(input: input, output: input + ".canonical")
    }

    @Test func bombInSecondMemberDeclaredSize() throws {
        // One entry declaring just over 512 MiB: refused from its header, before any data is inflated.
        let a = try StreamingArchive()
        try a.add(Raw.main)
        try a.newMember()
        let size = 512 * 1024 * 1024 + 1
        try a.add(Raw.header("big.tf", size: size))
        try a.zeros(Int64(size) + 511)
        try a.add(Raw.end)
        let bytes = try a.finish()
        #expect(bytes.count < 2_000_000)
        let error = #expect(throws: RegistryError.self) { try canonicalizeFile(bytes) }
        #expect(error?.message.contains("expand to more than 536870912 bytes") == true, "\(String(describing: error))")
    }

    @Test func bombInSecondMemberManyFiles() throws {
        // Nine 64 MiB zero files in a second member: each fits, together they pass the limit while inflating.
        let a = try StreamingArchive()
        try a.add(Raw.main)
        try a.newMember()
        for i in 0..<9 {
            try a.add(Raw.header("zero\(i).tf", size: 64 << 20))
            try a.zeros(64 << 20)
        }
        try a.add(Raw.end)
        let bytes = try a.finish()
        #expect(bytes.count < 2_000_000)
        let error = #expect(throws: RegistryError.self) { try canonicalizeFile(bytes) }
        #expect(error?.message.contains("expand to more than 536870912 bytes") == true, "\(String(describing: error))")
    }

    @Test func thirtyThousandEntriesInSecondMember() throws {
        let a = try StreamingArchive()
        try a.add(Raw.main)
        try a.newMember()
        for i in 0..<30_002 { try a.add(Raw.header("f\(i).tf")) }
        try a.add(Raw.end)
        let error = #expect(throws: RegistryError.self) { try canonicalizeFile(try a.finish()) }
        #expect(error?.message.contains("more than 20000 entries") == true, "\(String(describing: error))")
    }

    /// Found by review: 19 990 empty files 505 levels deep (a 262 KB upload, within every other limit)
    /// made the parent check hold ~10 M one-byte arrays and run ~10 M quadratic steps. Paths deeper
    /// than 64 levels are refused, and the check is linear in the depth.
    @Test func deepPathsAreRefusedAndDeepTreesStayCheap() throws {
        let deep = (0..<65).map { _ in "a" }.joined(separator: "/") + "/f.tf"
        let tooDeep = #expect(throws: ArchiveError.self) {
            try ArchiveCanonicalization.canonicalize(bytes: Raw.gz(Raw.main + Raw.pax([("path", deep)]) + Raw.header("placeholder") + Raw.end))
        }
        #expect(tooDeep?.message.contains("more than 64 levels deep") == true, "\(String(describing: tooDeep))")
        // 5 000 files at the deepest allowed level (63 directories): accepted, and the planned
        // directories are exactly the 63 shared parents.
        let parents = (0..<63).map { _ in "a" }.joined(separator: "/")
        let a = try StreamingArchive()
        try a.add(Raw.main)
        for i in 0..<5_000 { try a.add(Raw.pax([("path", parents + "/f\(i)")]) + Raw.header("placeholder")) }
        try a.add(Raw.end)
        let c = try canonicalizeFile(try a.finish())
        #expect(c.entries == 1 + 63 + 5_000)
    }

    @Test func impliedDirectoriesCountTowardsTheEntryLimit() throws {
        let tar = Raw.file("a/b/c/d/e/f.tf") + Raw.end
        let error = #expect(throws: ArchiveError.self) {
            try ArchiveCanonicalization.canonicalize(bytes: Raw.gz(tar), limits: ArchiveLimits(maximumEntries: 3))
        }
        #expect(error?.message.contains("implied directories") == true)
    }

    @Test func aModuleUnderTheLimitsIsAcceptedFromAFile() throws {
        let c = try canonicalizeFile(Raw.gz(Raw.main + Raw.file("sub/x.tf") + Raw.end))
        #expect(c.entries == 3)
        let input = dir.path + "/check.tar.gz"
        writeFile(input, Raw.gz(Raw.main + Raw.file("sub/x.tf") + Raw.end))
        let memory = try ArchiveCanonicalization.canonicalize(bytes: Raw.gz(Raw.main + Raw.file("sub/x.tf") + Raw.end))
        #expect(c.size == Int64(memory.archive.count))
        #expect(c.sha256 == Hex.encode(SHA256Reference.hash(memory.archive)))
    }

    @Test func refusesModulesWithoutTerraformFiles() throws {
        let error = #expect(throws: RegistryError.self) {
            try canonicalizeFile(Raw.gz(Raw.file("README.md") + Raw.end))
        }
        #expect(error?.message.contains("no Terraform files") == true)
    }

    @Test func outputIsExclusiveAndRemovedOnRefusal() throws {
        let input = dir.path + "/bad.tar.gz"
        writeFile(input, Raw.gz(Raw.main + Raw.file("../x.tf") + Raw.end))
        #expect(throws: RegistryError.self) {
            try TarGzCanonicalizer().canonicalize(input: input, output: input + ".canonical")
        }
        #expect(access(input + ".canonical", F_OK) != 0)
        #expect(access(input + ".canonical.spool", F_OK) != 0)
        // An existing output is never overwritten.
        writeFile(input + ".canonical", [1])
        writeFile(input, Raw.gz(Raw.main + Raw.end))
        #expect(throws: RegistryError.self) {
            try TarGzCanonicalizer().canonicalize(input: input, output: input + ".canonical")
        }
        let out = dir.path + "/mode.tar.gz"
        _ = try TarGzCanonicalizer().canonicalize(input: input, output: out)
        var st = stat()
        #expect(stat(out, &st) == 0 && st.st_mode & 0o777 == 0o640)
    }
}

/// The canonical form: fixed, idempotent, the same as `tfreg publish` packs, and read by consumers
/// exactly as the reader reports it.
@Suite final class CanonicalFormTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    func makeTree(_ root: String) {
        mkdirs(root)
        mkdirs(root + "/modules")
        mkdirs(root + "/modules/net")
        mkdirs(root + "/empty")
        writeFile(root + "/main.tf", Array("module \"net\" { source = \"./modules/net\" }\n".utf8))
        writeFile(root + "/modules/net/main.tf", Array("variable \"cidr\" {}\n".utf8))
        writeFile(root + "/run.sh", Array("#!/bin/sh\n".utf8))
        _ = chmod(root + "/run.sh", 0o750)
        writeFile(root + "/" + String(repeating: "l", count: 120) + ".tf", Array("locals {}\n".utf8))
        _ = symlink("../../main.tf", root + "/modules/net/root.tf")
    }

    /// Archives from real writers: GNU tar in its formats, Python's tarfile, and the packer.
    func validArchives() throws -> [(String, [UInt8])] {
        let tree = dir.path + "/tree"
        makeTree(tree)
        var out: [(String, [UInt8])] = []
        for format in ["gnu", "posix", "ustar", "oldgnu"] {
            let file = dir.path + "/gnu-\(format).tar.gz"
            // ustar cannot hold the 123-byte name (GNU tar leaves it out and says so); the rest is kept.
            _ = run(["tar", "--format=\(format)", "-czf", file, "-C", tree, "."])
            if let data = FileManager.default.contents(atPath: file) {
                out.append(("gnu tar --format=\(format)", Array(data)))
            }
        }
        let py = dir.path + "/py.tar.gz"
        _ = run([
            "python3", "-c",
            "import sys, tarfile\nwith tarfile.open(sys.argv[1], 'w:gz', format=tarfile.PAX_FORMAT) as t: t.add(sys.argv[2], arcname='.')",
            py, tree,
        ])
        if let data = FileManager.default.contents(atPath: py) { out.append(("python pax", Array(data))) }
        out.append(("packer", try ModulePacker.pack(directory: tree)))
        for p in HostilePayloads.all {
            if case .accepted = p.outcome { out.append((p.name, p.bytes)) }
        }
        return out
    }

    @Test func realWritersAreAcceptedAndIdempotent() throws {
        let archives = try validArchives()
        #expect(archives.count >= 8)
        var expected: [CanonicalEntry]?
        for (name, bytes) in archives {
            let first = try ArchiveCanonicalization.canonicalize(bytes: bytes)
            let second = try ArchiveCanonicalization.canonicalize(bytes: first.archive)
            #expect(second.archive == first.archive, "\(name)")
            #expect(second.entries == first.entries, "\(name)")
            #expect(ArchiveFuzzProperties.check(bytes) == nil, "\(name)")
            let path = dir.path + "/canon.tar.gz"
            writeFile(path, first.archive)
            #expect(Consumers.gnuTarNames(path) == first.entries.map(\.archiveName), "\(name)")
            #expect(Consumers.pythonNames(path) == first.entries.map(\.path), "\(name)")
            #expect(Consumers.pythonListing(path) == Consumers.listing(first.entries), "\(name)")
            #expect(Consumers.gnuTarListing(path) == Consumers.gnuListing(first.entries), "\(name)")
            #expect(Consumers.extractionEscapes(path) == nil, "\(name)")
            if ["gnu tar --format=gnu", "gnu tar --format=posix", "gnu tar --format=oldgnu", "python pax", "packer"]
                .contains(name)
            {
                // The same tree through any writer gives the same canonical archive.
                if let expected { #expect(first.entries == expected, "\(name)") } else { expected = first.entries }
            }
        }
        #expect(
            expected?.map(\.description) == [
                "empty/", String(repeating: "l", count: 120) + ".tf (10 bytes)", "main.tf (42 bytes)", "modules/",
                "modules/net/",
                "modules/net/main.tf (19 bytes)", "modules/net/root.tf -> ../../main.tf",
                "run.sh (10 bytes, executable)",
            ]
        )
    }

    @Test func packedModuleIsAlreadyCanonical() throws {
        let tree = dir.path + "/tree2"
        makeTree(tree)
        let packed = try ModulePacker.pack(directory: tree)
        #expect(try ArchiveCanonicalization.canonicalize(bytes: packed).archive == packed)
        // GNU tar of the same tree canonicalizes to the packer's exact bytes.
        let file = dir.path + "/t.tar.gz"
        _ = run(["tar", "--format=posix", "-czf", file, "-C", tree, "."])
        let gnu = try #require(FileManager.default.contents(atPath: file))
        #expect(try ArchiveCanonicalization.canonicalize(bytes: Array(gnu)).archive == packed)
    }

    @Test func canonicalBytesAreFixed() throws {
        let c = try ArchiveCanonicalization.canonicalize(
            bytes: Raw.gz(
                Raw.header("run.sh", size: 1, mode: "0100700") + Raw.data([65])
                    + Raw.header("d/l", type: "2", link: "../run.sh") + Raw.end
            )
        )
        // One gzip member: magic, deflate, no flags, mtime 0, XFL 0, OS 255.
        #expect(Array(c.archive.prefix(10)) == [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255])
        var tar: [UInt8] = []
        let gz = try GzipReader(source: MemoryByteSource(c.archive), maximumOutput: 1 << 20)
        while true {
            let chunk = try gz.read(4096)
            if chunk.isEmpty { break }
            tar += chunk
        }
        #expect(gz.members == 1)
        let expected =
            TarFormat.ustar(name: Array("d/".utf8), prefix: [], type: UInt8(ascii: "5"), mode: 0o755, size: 0, link: [])
            + TarFormat.ustar(
                name: Array("d/l".utf8),
                prefix: [],
                type: UInt8(ascii: "2"),
                mode: 0o755,
                size: 0,
                link: Array("../run.sh".utf8)
            )
            + TarFormat.ustar(
                name: Array("run.sh".utf8),
                prefix: [],
                type: UInt8(ascii: "0"),
                mode: 0o755,
                size: 1,
                link: []
            )
            + Raw.data([65])
            + Raw.end
        #expect(tar == expected)
        // Header fields spelled out once: mode, uid, gid, size, mtime, checksum, magic, empty names.
        let h = Array(tar[1024..<1536])
        #expect(Array(h[100..<108]) == Array("0000755\u{0}".utf8))
        #expect(Array(h[108..<124]) == Array("0000000\u{0}0000000\u{0}".utf8))
        #expect(Array(h[124..<148]) == Array("00000000001\u{0}00000000000\u{0}".utf8))
        #expect(Array(h[257..<265]) == Array("ustar\u{0}00".utf8))
        #expect(h[265..<345].allSatisfy { $0 == 0 })
        #expect(h[154] == 0 && h[155] == 32)
    }

    @Test func longPathsAndLinksUsePaxOnlyWhereNeeded() throws {
        let prefixPath = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/main.tf"
        let paxPath = String(repeating: "p", count: 200) + ".tf"
        let longTarget = String(repeating: "t", count: 150) + ".tf"
        let tar =
            Raw.pax([("path", paxPath)]) + Raw.file("x") + Raw.pax([("path", longTarget)]) + Raw.file("t")
            + Raw.pax([("path", prefixPath)]) + Raw.file("y") + Raw.pax([("linkpath", longTarget)])
            + Raw.header("link", type: "2", link: "z") + Raw.end
        let c = try ArchiveCanonicalization.canonicalize(bytes: Raw.gz(tar))
        #expect(
            c.entries.map(\.archiveName) == [
                String(repeating: "d", count: 90) + "/",
                String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/", prefixPath, "link",
                paxPath, longTarget,
            ]
        )
        let path = dir.path + "/long.tar.gz"
        writeFile(path, c.archive)
        #expect(Consumers.gnuTarNames(path) == c.entries.map(\.archiveName))
        #expect(Consumers.pythonNames(path) == c.entries.map(\.path))
        #expect(Consumers.extractionEscapes(path) == nil)
        #expect(ArchiveFuzzProperties.check(c.archive) == nil)
    }
}

/// SHA-256 via the crypto target, for comparing digests in tests.
enum SHA256Reference {
    static func hash(_ bytes: [UInt8]) -> [UInt8] { TFRegCrypto.SHA256.hash(bytes) }
}
