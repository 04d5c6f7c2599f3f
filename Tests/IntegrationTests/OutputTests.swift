import Foundation
import TFRegCrypto
import Testing

/// `--output json|text`, progress lines and install-helper's check-before-write, with `tfreg` as a
/// process against a live `tfreg serve`.
@Suite struct MachineReadableOutputTests {
    static func json(_ text: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    static func publishArgs(_ dir: String, _ server: ServerProcess, name: String, version: String = "1.0.0") -> [String] {
        ["publish", dir, "--registry", server.host, "-n", "acme", "--name", name, "--system", "aws", "--version", version]
    }

    @Test func publishPrintsOneJSONDocumentWhoseDigestIsTheServers() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = server.dir + "/m"
        try writeModule(at: dir, version: "1.0.0")

        let dry = try server.tfreg(Self.publishArgs(dir, server, name: "net") + ["--dry-run", "--output", "json"])
        #expect(dry.status == 0, "\(dry.stderr)")
        let plan = try #require(try Self.json(dry.stdout) as? [String: Any])
        let packed = try #require(plan["packed"] as? [[String: Any]])
        #expect(packed.compactMap { $0["path"] as? String } == ["README.md", "main.tf"])

        let scratch = server.dir + "/cli-tmp"
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        let published = try server.tfreg(
            Self.publishArgs(dir, server, name: "net") + ["--output", "json"],
            env: ["TFREG_TOKEN": rw, "TMPDIR": scratch]
        )
        #expect(published.status == 0, "\(published.stderr)")
        let doc = try #require(try Self.json(published.stdout) as? [String: Any], "\(published.stdout)")
        #expect(doc["module"] as? String == "acme/net/aws")
        #expect(doc["version"] as? String == "1.0.0")
        #expect(doc["source"] as? String == "\(server.host)/acme/net/aws")
        #expect(doc["sha256"] as? String == plan["sha256"] as? String)
        #expect(doc["size"] as? Int == plan["size"] as? Int)
        #expect(doc["download_url"] as? String == "https://\(server.host)/v1/modules/acme/net/aws/1.0.0/download")
        // Not a terminal: no progress line, no carriage return on stderr.
        #expect(!published.stderr.contains("\r") && !published.stderr.contains("uploading"), "\(published.stderr)")

        // TFREG_OUTPUT is the default; text stays the human line.
        let viaEnv = try server.tfreg(Self.publishArgs(dir, server, name: "env"), env: ["TFREG_TOKEN": rw, "TFREG_OUTPUT": "json"])
        #expect((try? Self.json(viaEnv.stdout)) is [String: Any], "\(viaEnv.stdout) \(viaEnv.stderr)")
        let text = try server.tfreg(
            Self.publishArgs(dir, server, name: "txt") + ["--output", "text"],
            env: ["TFREG_TOKEN": rw, "TFREG_OUTPUT": "json"]
        )
        #expect(text.status == 0 && text.stdout.hasPrefix("published acme/txt/aws 1.0.0 ("), "\(text.stdout) \(text.stderr)")
        let bad = try server.tfreg(Self.publishArgs(dir, server, name: "bad"), env: ["TFREG_TOKEN": rw, "TFREG_OUTPUT": "yaml"])
        #expect(bad.status != 0 && bad.stderr.contains("TFREG_OUTPUT"), "\(bad.stderr)")

        // The streamed upload left no temporary file behind.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch).isEmpty)
    }

    @Test func grantCommandsPrintJSONFromTheStoreAndTheAPI() throws {
        let server = try ServerProcess()
        let admin = try server.token("admin", namespace: "acme", flags: ["-d", "-c", "-D"])
        let arn = "arn:aws:iam::123456789012:role/ci"
        let created = try server.tfreg(["grant", "create", "-n", "acme", "--role-arn", arn, "-d", "--output", "json"])
        #expect(created.status == 0, "\(created.stderr)")
        let grant = try #require(try Self.json(created.stdout) as? [String: Any], "\(created.stdout)")
        #expect(grant["namespace"] as? String == "acme" && grant["identity"] as? String == arn)
        #expect((grant["permissions"] as? [String: Bool]) == ["download": true, "upload": false, "create_grant": false, "delete_grant": false])

        let list = try server.tfreg(["grant", "list", "-n", "acme"], env: ["TFREG_OUTPUT": "json"])
        let listed = try #require(try Self.json(list.stdout) as? [[String: Any]], "\(list.stdout)")
        #expect(Set(listed.compactMap { $0["identity"] as? String }).contains(arn))

        // The same subcommands through the grants API (one GrantTarget): show, update, list.
        let remote = ["--registry", server.host, "--token-file", "-"]
        let shown = try server.tfreg(["grant", "show", "-n", "acme", "--role-arn", arn, "--output", "json"] + remote, stdin: admin)
        #expect(shown.status == 0, "\(shown.stderr)")
        // One grant, one object (issue 22: it was an array of one).
        #expect((try Self.json(shown.stdout) as? [String: Any])?["identity"] as? String == arn, "\(shown.stdout)")
        let updated = try server.tfreg(["grant", "update", "-n", "acme", "--role-arn", arn, "-d", "--output", "json"] + remote, stdin: admin)
        #expect(updated.status == 0, "\(updated.stderr)")
        #expect((try Self.json(updated.stdout) as? [String: Any])?["identity"] as? String == arn)
        let table = try server.tfreg(["grant", "list", "-n", "acme"] + remote, stdin: admin)
        #expect(table.status == 0 && table.stdout.hasPrefix("NAMESPACE\tIDENTITY\tPERMISSIONS\n") && table.stdout.contains(arn), "\(table.stdout)")
        let missing = try server.tfreg(["grant", "update", "-n", "acme", "--role-arn", arn + "x", "-d"] + remote, stdin: admin)
        #expect(missing.status != 0 && missing.stderr.contains("no grant"), "\(missing.stderr)")
    }

    @Test func backupPrintsCountsAndTheDatabaseDigest() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = server.dir + "/m"
        try writeModule(at: dir, version: "1.0.0")
        #expect(try server.tfreg(Self.publishArgs(dir, server, name: "net"), env: ["TFREG_TOKEN": rw]).status == 0)
        let dest = server.dir + "/backup"
        let backup = try server.tfreg(["backup", dest, "--output", "json"])
        #expect(backup.status == 0, "\(backup.stderr)")
        let doc = try #require(try Self.json(backup.stdout) as? [String: Any], "\(backup.stdout)")
        #expect(doc["versions"] as? Int == 1)
        #expect((doc["archive_bytes"] as? Int ?? 0) > 0)
        #expect(doc["destination"] as? String == dest)
        let db = try Data(contentsOf: URL(fileURLWithPath: dest + "/registry.db"))
        #expect(doc["database_sha256"] as? String == Hex.encode(SHA256.hash(Array(db))))
        #expect(!backup.stderr.contains("\r"), "\(backup.stderr)")
    }

    /// Under a pseudo-terminal (`script`) the progress line is drawn with `\r`; `--quiet` silences it.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/script")))
    func publishDrawsProgressOnATerminalOnly() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = server.dir + "/m"
        try writeModule(at: dir, version: "1.0.0")
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        let noise = (0..<(2 << 20)).map { _ -> UInt8 in
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return UInt8(truncatingIfNeeded: state)
        }
        try Data(noise).write(to: URL(fileURLWithPath: dir + "/blob.bin"))
        func quoted(_ s: String) -> String { "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'" }
        func underTerminal(_ args: [String]) throws -> CommandResult {
            // Standard output goes to /dev/null inside the terminal: what `script` records is standard error.
            let command = ([TFRegBinary.path] + args).map(quoted).joined(separator: " ") + " >/dev/null"
            return try runCommand(
                "/usr/bin/script",
                ["-qec", command, "/dev/null"],
                env: ["TFREG_DATA_DIR": server.dataDir, "SSL_CERT_FILE": server.cert, "HOME": server.dir, "TFREG_TOKEN": rw]
            )
        }
        let shown = try underTerminal(Self.publishArgs(dir, server, name: "tty"))
        #expect(shown.status == 0, "\(shown.stdout)")
        #expect(shown.stdout.contains("\ruploading acme/tty/aws 1.0.0  "), "\(shown.stdout.debugDescription)")
        #expect(shown.stdout.contains("100%") && shown.stdout.contains("done"), "\(shown.stdout.debugDescription)")

        let quiet = try underTerminal(Self.publishArgs(dir, server, name: "quiet") + ["--quiet"])
        #expect(quiet.status == 0, "\(quiet.stdout)")
        #expect(!quiet.stdout.contains("uploading") && !quiet.stdout.contains("\r"), "\(quiet.stdout.debugDescription)")

        // backup's archive copy, the same way.
        let backup = try underTerminal(["backup", server.dir + "/backup-tty"])
        #expect(backup.status == 0, "\(backup.stdout)")
        #expect(backup.stdout.contains("\rbacking up archives  ") && backup.stdout.contains("100%"), "\(backup.stdout.debugDescription)")
        let quietBackup = try underTerminal(["backup", server.dir + "/backup-quiet", "--quiet"])
        #expect(quietBackup.status == 0 && !quietBackup.stdout.contains("backing up"), "\(quietBackup.stdout.debugDescription)")
    }

    /// publish streams: a 30 MB module is never in memory as tar, gzip and canonical archive at once.
    /// Measured (debug build): 210 MB peak RSS packing in memory, 36 MB streaming (25 MB for
    /// `tfreg --version`); the bound sits well between, with room for noise.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/time")))
    func publishingThirtyMegabytesStaysFarBelowThreeCopiesInMemory() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = server.dir + "/big"
        try writeModule(at: dir, version: "1.0.0")
        let random = try #require(FileHandle(forReadingAtPath: "/dev/urandom"))
        for i in 0..<30 { try random.readData(ofLength: 1 << 20).write(to: URL(fileURLWithPath: dir + "/blob\(i).bin")) }
        let r = try runCommand(
            "/usr/bin/time",
            ["-v", TFRegBinary.path] + Self.publishArgs(dir, server, name: "big") + ["--output", "json"],
            env: ["SSL_CERT_FILE": server.cert, "HOME": server.dir, "TFREG_TOKEN": rw]
        )
        #expect(r.status == 0, "\(r.stderr)")
        let line = try #require(r.stderr.split(separator: "\n").first { $0.contains("Maximum resident set size") })
        let kilobytes = try #require(Int(line.split(separator: ":").last!.trimmingCharacters(in: .whitespaces)))
        #expect(kilobytes < 140 * 1024, "peak RSS \(kilobytes) kB")
    }

    /// A config naming another credentials helper stops install-helper before it writes anything.
    @Test func installHelperWritesNothingWhenItWillFail() throws {
        let home = makeTemporaryDirectory("tfreg-install-check")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let rc = home + "/other.tfrc"
        try "credentials_helper \"vault\" {}\n".write(toFile: rc, atomically: true, encoding: .utf8)
        let refused = try runCommand(
            TFRegBinary.path,
            ["install-helper", "--rc-file", rc, "--plugin-directory", home + "/plugins"],
            env: ["HOME": home]
        )
        #expect(refused.status != 0 && refused.stderr.contains("another credentials_helper"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: home + "/plugins"), "no plugin directory made")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: home + "/plugins/terraform-credentials-tfreg")) == nil)
        #expect(try String(contentsOfFile: rc, encoding: .utf8) == "credentials_helper \"vault\" {}\n")
    }
}
