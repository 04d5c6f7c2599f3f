import Foundation
import TFRegAWS
import Testing

/// Issue 13, operator safety: a command run against the wrong store, or with a setting it would
/// ignore, refuses and says what to do; nothing is created on the way.
@Suite struct OperatorSafetyTests {
    /// A clean HOME (so the default data dir is inside it) and nothing else.
    static func isolated() -> (home: String, env: [String: String]) {
        let home = makeTemporaryDirectory("tfreg-ops")
        return (home, ["HOME": home])
    }

    static func exists(_ path: String) -> Bool { FileManager.default.fileExists(atPath: path) }

    @Test func backupAndRestoreRefuseDynamoDBAndS3InsteadOfBackingUpTheLocalStore() throws {
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let dest = home + "/backup"
        for (args, extra) in [
            (["backup", dest, "--table", "registry"], [String: String]()),
            (["backup", dest], ["TABLE_NAME": "registry"]),
            (["backup", dest, "--storage", "s3://bucket/prefix"], [:]),
            (["backup", dest], ["TFREG_STORAGE": "s3://bucket"]),
            (["restore", home, "--table", "registry"], [:]),
            (["restore", home], ["TFREG_STORAGE": "s3://bucket"]),
        ] {
            let r = try runCommand(TFRegBinary.path, args, env: env.merging(extra) { a, _ in a })
            #expect(r.status == 78, "\(args) \(extra): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("local data directory only"), "\(args) \(extra): \(r.stderr)")
            #expect(r.stderr.contains("point-in-time recovery") && r.stderr.contains("S3 versioning"), "\(args): \(r.stderr)")
            #expect(!r.stdout.contains("checksums verified"))
            #expect(!Self.exists(dest), "\(args): no backup directory written")
            #expect(!Self.exists(home + "/.local/share/tfreg"), "\(args): no local store created")
        }
    }

    @Test func commandsOtherThanServeRefuseToCreateAStore() throws {
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let defaultDir = home + "/.local/share/tfreg"
        for args in [
            ["grant", "create", "-n", "acme", "--new-token", "ci", "-d"], ["grant", "list", "-n", "acme"],
            ["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:role/ci", "-d"],
            ["grant", "revoke-token", "--token-name", "ci"],
            ["backup", home + "/backup"], ["gc", "--dry-run"], ["import-legacy", "--dry-run"],
        ] {
            let r = try runCommand(TFRegBinary.path, args, env: env)
            #expect(r.status == 78, "\(args): \(r.status) \(r.stderr)")
            #expect(r.stderr.contains("no registry in data dir \(defaultDir)") && r.stderr.contains("--init"), "\(args): \(r.stderr)")
            #expect(r.stdout.isEmpty, "\(args): no token printed: \(r.stdout)")
            #expect(!Self.exists(defaultDir), "\(args): nothing created")
            #expect(!Self.exists(home + "/backup"))
        }
        // A mistyped --data-dir is named, with where it came from.
        let typo = try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme", "--data-dir", home + "/dta"], env: env)
        #expect(typo.status == 78 && typo.stderr.contains("data dir \(home)/dta (no registry.db; from --data-dir)"), "\(typo.stderr)")
        #expect(!Self.exists(home + "/dta"))
        // --init creates one, and the store is named on standard error.
        let created = try runCommand(TFRegBinary.path, ["grant", "create", "--init", "-n", "acme", "--new-token", "ci", "-d"], env: env)
        #expect(created.status == 0, "\(created.stderr)")
        #expect(created.stderr.contains("data dir \(defaultDir)"), "\(created.stderr)")
        #expect(Self.exists(defaultDir + "/registry.db"))
        let listed = try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme"], env: env)
        #expect(listed.status == 0 && listed.stdout.contains("token:ci#") && listed.stderr.contains("data dir \(defaultDir)"), "\(listed.stderr)")
    }

    /// The Debian package's environment file: root and the service user read it, so
    /// `sudo -u tfreg tfreg grant …` uses the service's data dir; the process environment wins, and a
    /// file others may write is ignored.
    @Test(.enabled(if: geteuid() == 0, "the environment file is read by root and the tfreg user only"))
    func theServiceEnvironmentFileNamesTheDataDir() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        _ = try server.token("ci", namespace: "acme", flags: ["-d"])
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let file = home + "/tfreg.env"
        try "# the service's settings\nTFREG_DATA_DIR=\(server.dataDir)\n#TABLE_NAME=\nLOG_LEVEL=\"info\"\n".write(
            toFile: file,
            atomically: true,
            encoding: .utf8
        )
        chmod(file, 0o640)
        let viaFile = try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme"], env: env.merging(["TFREG_ENV_FILE": file]) { a, _ in a })
        #expect(viaFile.status == 0 && viaFile.stdout.contains("token:ci#"), "\(viaFile.stderr)")
        #expect(viaFile.stderr.contains("data dir \(server.dataDir) (TFREG_DATA_DIR in \(file))"), "\(viaFile.stderr)")
        // The process environment wins over the file.
        let other = home + "/other"
        let overridden = try runCommand(
            TFRegBinary.path,
            ["grant", "list", "-n", "acme"],
            env: env.merging(["TFREG_ENV_FILE": file, "TFREG_DATA_DIR": other]) { a, _ in a }
        )
        #expect(overridden.status == 78 && overridden.stderr.contains("no registry in data dir \(other) (no registry.db; from TFREG_DATA_DIR)"))
        // A group-writable file is not trusted.
        chmod(file, 0o660)
        let writable = try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme"], env: env.merging(["TFREG_ENV_FILE": file]) { a, _ in a })
        #expect(writable.status == 78 && writable.stderr.contains("ignoring \(file)"), "\(writable.stderr)")
        #expect(!Self.exists(home + "/.local/share/tfreg"))
    }
}

