import Glibc
import TFRegCore
import TFRegCrypto
import TFRegTesting
import Testing

@testable import TFRegArchive

func writeFile(_ path: String, _ bytes: [UInt8]) {
    let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
    precondition(fd >= 0, "open \(path)")
    bytes.withUnsafeBytes { _ = write(fd, $0.baseAddress, $0.count) }
    close(fd)
}

func mkdirs(_ path: String) { _ = mkdir(path, 0o755) }

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
        // The packed archive is what the server keeps.
        writeFile(dir.path + "/a.tar.gz", first)
        let listed = try TarGzCanonicalizer().entries(path: dir.path + "/a.tar.gz")
        #expect(listed.map(\.archiveName) == ["README.md", "main.tf", "sub/", "sub/util.tf"])
        #expect(try TarGzCanonicalizer().canonicalize(input: dir.path + "/a.tar.gz", output: dir.path + "/b.tar.gz").entries == 4)
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

    @Test func symlinkChainIsRefusedWhenPacking() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        makeModule(dir)
        _ = symlink("sub", dir.path + "/m/l1")
        _ = symlink("l1/util.tf", dir.path + "/m/l2")
        let error = #expect(throws: ArchiveError.self) { try ModulePacker.pack(directory: dir.path + "/m") }
        #expect(error?.message.contains("through the symlink l1") == true)
    }

    @Test func longPathsUseUstarPrefix() throws {
        let long = String(repeating: "d", count: 90) + "/" + String(repeating: "e", count: 60) + "/main.tf"
        let tar = try TarWriter.archive([TarEntry(path: long, kind: .file(Array("x".utf8)))])
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        writeFile(dir.path + "/a.tar.gz", try Gzip.compress(tar))
        #expect(try TarGzCanonicalizer().entries(path: dir.path + "/a.tar.gz").last?.path == long)
    }

    /// `publish` streams: packing to a file gives exactly the in-memory archive (so the local digest
    /// still equals the server's), the file is the owner's only, and the intermediate file is gone.
    @Test func packingToAFileGivesTheSameBytesPrivately() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        makeModule(dir)
        writeFile(dir.path + "/m/big.bin", (0..<300_000).map { UInt8(truncatingIfNeeded: $0 &* 2_654_435_761 >> 13) })
        let plan = try ModulePacker.plan(directory: dir.path + "/m")
        let inMemory = try ModulePacker.pack(plan, directory: dir.path + "/m")
        let path = dir.path + "/out.tar.gz"
        let (size, sha256) = try ModulePacker.pack(plan, directory: dir.path + "/m", toFile: path)
        let fd = open(path, O_RDONLY)
        #expect(fd >= 0)
        var onDisk = [UInt8](repeating: 0, count: inMemory.count + 1)
        let n = onDisk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        close(fd)
        #expect(Array(onDisk[0..<max(0, n)]) == inMemory)
        #expect(size == Int64(inMemory.count))
        #expect(sha256 == Hex.encode(SHA256.hash(inMemory)))
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        #expect(access(path + ".raw", F_OK) != 0, "the uncanonical intermediate is removed")
        // An existing file is never overwritten.
        #expect(throws: ArchiveError.self) { try ModulePacker.pack(plan, directory: dir.path + "/m", toFile: path) }

        // A plan that did not read the files packs to the same bytes, reading each file as it goes.
        var options = ModulePacker.Options()
        options.deferContents = true
        let light = try ModulePacker.plan(directory: dir.path + "/m", options: options)
        #expect(light.entries.map(\.path) == plan.entries.map(\.path))
        let lightPath = dir.path + "/light.tar.gz"
        #expect(try ModulePacker.pack(light, directory: dir.path + "/m", toFile: lightPath).sha256 == sha256)
        #expect(throws: ArchiveError.self) { try ModulePacker.pack(light, directory: dir.path + "/m") }
    }
}
