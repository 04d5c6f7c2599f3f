import Foundation
import TFRegCrypto
import Testing

@testable import TFRegArchive

/// The strict zip reader of provider packages and the `h1:` hash: real zips (Python's zipfile, Info-ZIP),
/// Go-style data descriptors, Terraform's own hashes, and each hostile form refused.
@Suite("Zip reader and provider package hash")
struct ZipReaderTests {
    static let binary = "#!/bin/sh\necho demo\n"

    @Test("Stored, deflated and data-descriptor entries read back with their content's SHA-256")
    func wellFormed() throws {
        var big = ZipBuilder.Item("README.md", String(repeating: "b\n", count: 100_000))
        big.descriptor = true
        var stored = ZipBuilder.Item("LICENSE", "MIT\n")
        stored.deflate = false
        let zip = ZipBuilder.build([ZipBuilder.Item("terraform-provider-demo_v1.0.0", Self.binary), stored, big, ZipBuilder.Item("docs/", "")])
        let entries = try ZipReader.read(bytes: zip)
        #expect(entries.map(\.name) == ["terraform-provider-demo_v1.0.0", "LICENSE", "README.md", "docs/"])
        #expect(entries[0].sha256 == SHA256.hash(Array(Self.binary.utf8)))
        #expect(entries[2].size == 200_000)
        #expect(entries[0].executable)
        #expect(entries[3].isDirectory)
        try ProviderPackage.checkContainsProvider(entries, type: "demo")
        #expect(throws: ArchiveError.self) { try ProviderPackage.checkContainsProvider(entries, type: "other") }
        #expect(throws: ArchiveError.self) { try ProviderPackage.checkContainsProvider(entries, type: "dem") }
        #expect(try ZipReader.read(bytes: ZipBuilder.build([])).isEmpty)
    }

    /// Recorded from `terraform providers lock -fs-mirror=… -platform=linux_amd64` (Terraform 1.x) on zips
    /// with these contents; the second has a `docs/` directory entry, which Terraform's hash skips.
    @Test("h1: equals the hash Terraform wrote in .terraform.lock.hcl")
    func hash1MatchesTerraform() throws {
        let flat = try ZipReader.read(
            bytes: ZipBuilder.build([
                ZipBuilder.Item("terraform-provider-demo_v1.0.0", Self.binary), ZipBuilder.Item("LICENSE", "MIT\n"),
                ZipBuilder.Item("README.md", String(repeating: "b\n", count: 1000)),
            ])
        )
        #expect(ProviderPackage.hash1(flat) == "h1:ciTMRP/fMB1g13XkXOe44yxuNMjbikjs+LnWxesPn04=")
        let nested = try ZipReader.read(
            bytes: ZipBuilder.build([
                ZipBuilder.Item("terraform-provider-demo_v1.0.0", Self.binary), ZipBuilder.Item("docs/", ""),
                ZipBuilder.Item("docs/index.md", "hello\n"), ZipBuilder.Item("LICENSE", "MIT\n"),
            ])
        )
        #expect(ProviderPackage.hash1(nested) == "h1:G5rFj7StmQyufkq0Wb/k0ljqZKAqQS+2yG2lbVliKFo=")
    }

    @Test("h1: of a zip written by Python's zipfile equals Terraform's lock-file hash, computed live when terraform is installed")
    func hash1AgainstLiveTerraform() throws {
        let dir = NSTemporaryDirectory() + "tfreg-h1-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let mirror = dir + "/mirror/example.com/ns/demo"
        try FileManager.default.createDirectory(atPath: mirror, withIntermediateDirectories: true)
        let zipPath = mirror + "/terraform-provider-demo_1.0.0_linux_amd64.zip"
        let script = """
            import zipfile, sys
            with zipfile.ZipFile(sys.argv[1], 'w', zipfile.ZIP_DEFLATED) as z:
                z.writestr('terraform-provider-demo_v1.0.0', '#!/bin/sh\\necho demo\\n')
                z.writestr('sub/', '')
                z.writestr('sub/b.txt', 'x' * 70000)
                z.writestr('a b.txt', 'spaces\\n')
            """
        let made = run(["python3", "-c", script, zipPath])
        try #require(made.status == 0, "\(made.stderr)")
        let entries = try ZipReader.read(path: zipPath)
        try ProviderPackage.checkContainsProvider(entries, type: "demo")
        guard run(["terraform", "version"]).status == 0 else { return }  // test-deps installs it; the vectors above still hold
        try "terraform {\n  required_providers {\n    demo = { source = \"example.com/ns/demo\", version = \"1.0.0\" }\n  }\n}\n"
            .write(toFile: dir + "/main.tf", atomically: true, encoding: .utf8)
        let lock = run(["terraform", "providers", "lock", "-fs-mirror=mirror", "-platform=linux_amd64"], cwd: dir)
        try #require(lock.status == 0, "\(lock.stderr)")
        let lockFile = try String(contentsOfFile: dir + "/.terraform.lock.hcl", encoding: .utf8)
        #expect(lockFile.contains("\"\(ProviderPackage.hash1(entries))\""), "\(lockFile)")
    }

    static func item(_ name: String, _ change: (inout ZipBuilder.Item) -> Void = { _ in }) -> ZipBuilder.Item {
        var i = ZipBuilder.Item(name)
        change(&i)
        return i
    }

    static let good = ZipBuilder.build([item("terraform-provider-demo"), item("b")])

    @Test(
        "Hostile zips are refused with an ArchiveError",
        arguments: [
            ("empty file", []),
            ("not a zip", Array(repeating: 0x41, count: 100)),
            ("truncated", Array(good.dropLast(1))),
            ("trailing bytes after the end record", ZipBuilder.build([item("a")], trailer: [0])),
            ("prepended data", ZipBuilder.build([item("a")], prefix: Array(repeating: 0, count: 8))),
            ("gap before the directory", ZipBuilder.build([item("a")], gap: [1, 2, 3])),
            ("absolute path", ZipBuilder.build([item("/etc/passwd")])),
            ("dot-dot", ZipBuilder.build([item("../evil")])),
            ("inner dot-dot", ZipBuilder.build([item("a/../../evil")])),
            ("dot component", ZipBuilder.build([item("./a")])),
            ("empty component", ZipBuilder.build([item("a//b")])),
            ("backslash", ZipBuilder.build([item("..\\evil")])),
            ("drive letter", ZipBuilder.build([item("C:/evil")])),
            ("NUL in name", ZipBuilder.build([item("a\u{0}b")])),
            ("newline in name (h1: lines)", ZipBuilder.build([item("a\nb")])),
            ("name not UTF-8", ZipBuilder.build([item("a")]).replacingFirst([0x61, 0x50, 0x4B, 0x05], with: [0xFF, 0x50, 0x4B, 0x05])),
            ("duplicate names", ZipBuilder.build([item("a"), item("a")])),
            ("file and directory", ZipBuilder.build([item("a"), item("a/", { $0.data = [] })])),
            ("file used as a directory", ZipBuilder.build([item("a"), item("a/b")])),
            ("symlink", ZipBuilder.build([item("link", { $0.mode = 0o120777 })])),
            ("device", ZipBuilder.build([item("dev", { $0.mode = 0o020644 })])),
            ("directory with data", ZipBuilder.build([item("d/", { $0.data = [1] })])),
            ("encrypted", ZipBuilder.build([item("a", { $0.flags = 1 })])),
            ("bzip2 method", ZipBuilder.build([item("a", { $0.method = 12 })])),
            ("wrong CRC", ZipBuilder.build([item("a", { $0.crc = 1 })])),
            ("declared size too small (bomb)", ZipBuilder.build([item("a", { $0.size = 3 })])),
            ("declared size too large", ZipBuilder.build([item("a", { $0.size = 100 })])),
            (
                "stored sizes differ",
                ZipBuilder.build([
                    item(
                        "a",
                        {
                            $0.deflate = false
                            $0.size = 2
                        }
                    )
                ])
            ),
            ("local name differs", ZipBuilder.build([item("a", { $0.localName = "b" })])),
            (
                "overlapping entries",
                ZipBuilder.build([
                    item("a"),
                    item(
                        "b",
                        {
                            $0.localOffset = 0
                            $0.localName = "a"
                        }
                    ),
                ])
            ),
            (
                "deflate data corrupt",
                ZipBuilder.build([item("a")]).replacingFirst(ZipBuilder.deflate(Array("content\n".utf8)), with: [0xFF, 0xFF, 0xFF])
            ),
        ] as [(String, [UInt8])]
    )
    func hostile(_ label: String, _ zip: [UInt8]) {
        #expect(throws: ArchiveError.self, "\(label)") { try ZipReader.read(bytes: zip) }
    }

    @Test("Limits: entries, expansion (declared and real), name length")
    func limits() throws {
        let many = ZipBuilder.build((0..<20).map { Self.item("f\($0)") })
        #expect(throws: ArchiveError.self) { try ZipReader.read(bytes: many, limits: ZipLimits(maximumEntries: 19)) }
        #expect(try ZipReader.read(bytes: many, limits: ZipLimits(maximumEntries: 20)).count == 20)
        // A 10 MB run of zeros compresses to ~10 kB: refused by the declared-size sum before inflating.
        let bomb = ZipBuilder.build([ZipBuilder.Item("zeros", String(repeating: "\u{0}", count: 10_000_000))])
        #expect(bomb.count < 20_000)
        #expect(throws: ArchiveError.self) { try ZipReader.read(bytes: bomb, limits: ZipLimits(maximumExpandedBytes: 1_000_000)) }
        let long = ZipBuilder.build([Self.item(String(repeating: "n", count: 2_000))])
        #expect(throws: ArchiveError.self) { try ZipReader.read(bytes: long) }
        // zip64 markers in the end record are refused, not followed.
        var z64 = ZipBuilder.build([Self.item("a")])
        z64.replaceSubrange((z64.count - 6)..<(z64.count - 2), with: [0xFF, 0xFF, 0xFF, 0xFF])
        #expect(throws: ArchiveError.self) { try ZipReader.read(bytes: z64) }
    }

    @Test("Every single-byte corruption of a real zip is refused or reads back the same content, never traps")
    func byteFlips() throws {
        let zip = Self.good
        let original = try ZipReader.read(bytes: zip)
        for i in zip.indices {
            var bad = zip
            bad[i] ^= 0x5A
            if let entries = try? ZipReader.read(bytes: bad) {
                // Only fields outside the content (times, versions, attributes' low bits) may change.
                #expect(entries.map(\.sha256) == original.map(\.sha256), "byte \(i)")
            }
        }
    }
}

extension Array where Element == UInt8 {
    /// The first occurrence of `target` replaced (test fixtures).
    fileprivate func replacingFirst(_ target: [UInt8], with replacement: [UInt8]) -> [UInt8] {
        guard let r = firstRange(of: target) else { return self }
        var copy = self
        copy.replaceSubrange(r, with: replacement)
        return copy
    }
}
