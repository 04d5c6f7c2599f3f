import TFRegCore
import TFRegTesting
import Testing
@testable import TFRegArchive

#if canImport(Glibc)
import Glibc
#endif

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "open \(path)")
    bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func mkdirs(_ path: String) { _ = mkdir(path, 0o755) }

/// Changes one header's type flag and fixes its checksum (to forge entry kinds the writer never makes).
func retype(_ tar: [UInt8], headerAt offset: Int, to type: UInt8) -> [UInt8] {
    var t = tar
    t[offset + 156] = type
    for i in 148..<156 { t[offset + i] = 32 }
    let sum = t[offset..<offset + 512].reduce(0) { $0 + Int($1) }
    let digits = Array(String(sum, radix: 8).utf8)
    let padded = [UInt8](repeating: 48, count: 6 - digits.count) + digits
    for (i, b) in padded.enumerated() { t[offset + 148 + i] = b }
    t[offset + 154] = 0
    return t
}

@Suite struct PackerTests {
    func makeModule(_ dir: TemporaryDirectory) {
        mkdirs(dir.path + "/m")
        mkdirs(dir.path + "/m/sub")
        mkdirs(dir.path + "/m/.git")
        mkdirs(dir.path + "/m/.terraform")
        writeFile(dir.path + "/m/main.tf", Array("variable \"x\" {}\n".utf8))
        writeFile(dir.path + "/m/sub/util.tf", Array("locals {}\n".utf8))
        writeFile(dir.path + "/m/README.md", Array("# hi\n".utf8))
        writeFile(dir.path + "/m/.git/HEAD", Array("ref\n".utf8))
        writeFile(dir.path + "/m/.terraform/x", Array("x".utf8))
        writeFile(dir.path + "/m/terraform.tfstate", Array("{}".utf8))
        writeFile(dir.path + "/m/terraform.tfstate.backup", Array("{}".utf8))
    }

    @Test func packingIsDeterministicAndExcludes() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        makeModule(dir)
        let first = try ModulePacker.pack(directory: dir.path + "/m")
        // Change mtimes and permissions' irrelevant bits; output must not change.
        var times = [timespec(tv_sec: 12345, tv_nsec: 0), timespec(tv_sec: 12345, tv_nsec: 0)]
        _ = utimensat(AT_FDCWD, dir.path + "/m/main.tf", &times, 0)
        _ = chmod(dir.path + "/m/README.md", 0o600)
        let second = try ModulePacker.pack(directory: dir.path + "/m")
        #expect(first == second)
        let entries = try ModulePacker.entries(ofDirectory: dir.path + "/m").map(\.path)
        #expect(entries == ["README.md", "main.tf", "sub", "sub/util.tf"])
        // The packed archive passes the server's inspection.
        writeFile(dir.path + "/a.tar.gz", first)
        let summary = try TarGzInspector().summarize(path: dir.path + "/a.tar.gz")
        #expect(summary.entries == ["README.md", "main.tf", "sub/", "sub/util.tf"])
        #expect(summary.terraformFiles == ["main.tf", "sub/util.tf"])
    }

    @Test func refusesDirectoryWithoutTerraformFiles() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        mkdirs(dir.path + "/m")
        writeFile(dir.path + "/m/README.md", Array("x".utf8))
        #expect(throws: ArchiveError.self) { try ModulePacker.pack(directory: dir.path + "/m") }
    }

    @Test func refusesSymlinkOutOfModule() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        makeModule(dir)
        _ = symlink("../../etc/passwd", dir.path + "/m/sub/evil")
        #expect(throws: ArchiveError.self) { try ModulePacker.pack(directory: dir.path + "/m") }
    }

    @Test func longPathsUseUstarPrefix() throws {
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/main.tf"
        let tar = try TarWriter.archive([TarEntry(path: long, kind: .file(Array("x".utf8)))])
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        writeFile(dir.path + "/a.tar.gz", try Gzip.compress(tar))
        #expect(try TarGzInspector().summarize(path: dir.path + "/a.tar.gz").terraformFiles == [long])
    }
}

@Suite final class InspectorTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    func inspect(_ bytes: [UInt8], limits: ArchiveLimits = ArchiveLimits()) throws(RegistryError) {
        let path = dir.path + "/x-\(bytes.count)-\(SecureRandomName.next()).tar.gz"
        writeFile(path, bytes)
        try TarGzInspector(limits: limits).inspect(path: path)
    }

    func tgz(_ entries: [TarEntry]) throws -> [UInt8] { try Gzip.compress(TarWriter.archive(entries)) }

    let main = TarEntry(path: "main.tf", kind: .file(Array("output \"x\" { value = 1 }\n".utf8)))

    @Test func acceptsAModule() throws {
        try inspect(try tgz([main, TarEntry(path: "modules", kind: .directory), TarEntry(path: "modules/link.tf", kind: .symlink(target: "../main.tf"))]))
    }

    @Test(arguments: ["/etc/passwd", "../escape.tf", "a/../../b.tf", "ok/../../../x"])
    func rejectsEscapingPaths(_ path: String) throws {
        #expect(throws: RegistryError.badRequest("")) { try inspect(try tgz([main, TarEntry(path: path, kind: .file([1]))])) }
    }

    @Test(arguments: ["/etc/passwd", "../../x", "../x", "a/../../x"])
    func rejectsSymlinksLeavingTheRoot(_ target: String) throws {
        #expect(throws: RegistryError.badRequest("")) {
            try inspect(try tgz([main, TarEntry(path: "evil", kind: .symlink(target: target))]))
        }
    }

    @Test func rejectsHardlinkOutside() throws {
        #expect(throws: RegistryError.badRequest("")) { try inspect(try tgz([main, TarEntry(path: "h", kind: .hardlink(target: "../../etc/shadow"))])) }
    }

    @Test(arguments: [UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6")])
    func rejectsDevicesAndFifos(_ type: UInt8) throws {
        let tar = try TarWriter.archive([main, TarEntry(path: "dev", kind: .file([]))])
        // second header: after main.tf's header (512) and its one data block (512)
        let path = dir.path + "/dev-\(type).tar.gz"
        writeFile(path, try Gzip.compress(retype(tar, headerAt: 1024, to: type)))
        let error = #expect(throws: ArchiveError.self) { try TarGzInspector().summarize(path: path) }
        #expect(error?.message == "entry dev is not a regular file, directory or link")
    }

    @Test func rejectsNoTerraformFiles() throws {
        #expect(throws: RegistryError.badRequest("")) { try inspect(try tgz([TarEntry(path: "README.md", kind: .file([65]))])) }
    }

    @Test func rejectsNonGzipAndTruncatedAndCorrupt() throws {
        #expect(throws: RegistryError.badRequest("")) { try inspect(Array("just some text, not gzip".utf8)) }
        let good = try tgz([main])
        #expect(throws: RegistryError.badRequest("")) { try inspect(Array(good.prefix(good.count / 2))) }
        var corrupt = good
        corrupt[corrupt.count - 6] ^= 0xff  // CRC/length trailer
        #expect(throws: RegistryError.badRequest("")) { try inspect(corrupt) }
        // A plain (uncompressed) tar is not accepted either.
        #expect(throws: RegistryError.badRequest("")) { try inspect(try TarWriter.archive([main])) }
        // gzip of something that is not a tar
        #expect(throws: RegistryError.badRequest("")) { try inspect(try Gzip.compress(Array(repeating: 65, count: 2000))) }
        // bad header checksum
        var tar = try TarWriter.archive([main])
        tar[0] = UInt8(ascii: "x")
        #expect(throws: RegistryError.badRequest("")) { try inspect(try Gzip.compress(tar)) }
    }

    @Test func rejectsGzipBombs() throws {
        let big = TarEntry(path: "big.tf", kind: .file([UInt8](repeating: 0, count: 3 << 20)))
        let bomb = try tgz([big])
        #expect(bomb.count < 20_000)
        #expect(throws: RegistryError.badRequest("")) { try inspect(bomb, limits: ArchiveLimits(maximumExpandedBytes: 1 << 20)) }
        try inspect(bomb, limits: ArchiveLimits(maximumExpandedBytes: 8 << 20))
    }

    @Test func rejectsTooManyEntries() throws {
        let many = (0..<30).map { TarEntry(path: "f\($0).tf", kind: .file([])) }
        #expect(throws: RegistryError.badRequest("")) { try inspect(try tgz(many), limits: ArchiveLimits(maximumEntries: 10)) }
    }
}

enum SecureRandomName {
    nonisolated(unsafe) static var counter = 0
    static func next() -> Int {
        counter += 1
        return counter &+ Int(getpid()) &* 1000 &+ Int.random(in: 0..<1_000_000)
    }
}

/// Found in the trap review for `make fuzz` (the uploaded archive is input): a pax record length
/// near Int.max after a first record made `i + len` overflow and trapped the server on upload.
@Suite struct PaxRecordTests {
    @Test func hugeRecordLengthIsMalformed() {
        #expect(throws: ArchiveError.self) { try TarGzInspector.paxRecords(Array("6 a=b\n9223372036854775807 path=x\n".utf8)) }
        #expect(throws: ArchiveError.self) { try TarGzInspector.paxRecords(Array("9223372036854775807 path=x\n".utf8)) }
        #expect(throws: ArchiveError.self) { try TarGzInspector.paxRecords(Array("6 a=b\n-5 path=x\n".utf8)) }
    }

    /// Found in the same review: a GNU base-256 size just below Int64.max (accepted by `octal`) made
    /// `size + 511` overflow while rounding to 512-byte blocks, before any limit was checked.
    @Test func base256SizeNearInt64MaxIsRejected() throws {
        var tar = try TarWriter.archive([TarEntry(path: "main.tf", kind: .file(Array("x".utf8)))])
        let size: [UInt8] = [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff]
        tar.replaceSubrange(124..<136, with: size)
        #expect(TarGzInspector.octal(tar[124..<136]) == 0x7fff_ffff_ffff_feff)
        var sum = 0
        for (i, b) in tar[0..<512].enumerated() { sum += (148..<156).contains(i) ? 32 : Int(b) }
        let checksum = Array(String(sum, radix: 8).utf8)
        tar.replaceSubrange(148..<156, with: Array(repeating: UInt8(ascii: "0"), count: 6 - checksum.count) + checksum + [0, 32])
        #expect(TarGzInspector.checksumMatches(Array(tar[0..<512])))
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        let path = dir.path + "/huge-size.tar.gz"
        writeFile(path, try Gzip.compress(tar))
        #expect(throws: RegistryError.self) { try TarGzInspector(limits: ArchiveLimits()).inspect(path: path) }
    }

    @Test func readsRecords() throws {
        #expect(try TarGzInspector.paxRecords(Array("10 path=x\n6 a=b\n".utf8)) == ["path": "x", "a": "b"])
    }
}
