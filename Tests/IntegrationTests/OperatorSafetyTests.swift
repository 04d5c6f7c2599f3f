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
            ["grant", "revoke-token", "--token-name", "ci", "--yes"],
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

    static func mode(_ path: String) -> Int {
        var st = stat()
        return lstat(path, &st) == 0 ? Int(st.st_mode & 0o7777) : -1
    }

    /// Issue 17, finding 7: a data directory (or its keys) another user could change is refused with
    /// exit 78, naming it and the fix, by the CLI, `serve` and `serve --check-config`. A new one is 0700.
    @Test(.enabled(if: geteuid() == 0, "chown needs root; administrators run the CLI as root"))
    func aDataDirectoryOthersCouldChangeIsRefused() throws {
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let data = home + "/data"
        let created = try runCommand(
            TFRegBinary.path,
            ["grant", "create", "--init", "--data-dir", data, "-n", "acme", "--new-token", "ci", "-d"],
            env: env
        )
        #expect(created.status == 0, "\(created.stderr)")
        #expect(Self.mode(data) == 0o700, "a new data directory is the owner's only")
        let list = ["grant", "list", "-n", "acme", "--data-dir", data]
        let check = ["serve", "--check-config", "--data-dir", data]
        // Under timeout(1): a serve that accepted the directory would run until killed (exit 124).
        let serve = ["serve", "--data-dir", data, "--port", "0"]
        #expect(try runCommand(TFRegBinary.path, list, env: env).status == 0)

        chmod(data, 0o777)
        func run(_ args: [String]) throws -> CommandResult {
            try runCommand("/usr/bin/timeout", ["20", TFRegBinary.path] + args, env: env)
        }
        for args in [list, check, serve, ["gc", "--dry-run", "--data-dir", data]] {
            let r = try run(args)
            #expect(r.status == 78 && r.stderr.contains("chmod 700 \(data)"), "\(args): \(r.status) \(r.stderr)")
            #expect(!r.stdout.contains("configuration OK"))
        }
        chmod(data, 0o750)
        chown(data, 65534, 65534)
        let foreign = try runCommand(TFRegBinary.path, list, env: env)
        #expect(
            foreign.status == 78 && foreign.stderr.contains("\(data) is owned by uid 65534") && foreign.stderr.contains("chown"),
            "\(foreign.stderr)"
        )
        chown(data, 0, 0)
        #expect(try runCommand(TFRegBinary.path, list, env: env).status == 0)

        // Another user replaced the archive-link key: refused by serve and by --check-config.
        let keys = data + "/keys"
        try FileManager.default.createDirectory(atPath: keys, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        let key = keys + "/archive-url.key"
        FileManager.default.createFile(atPath: key, contents: Data(repeating: 7, count: 32), attributes: [.posixPermissions: 0o600])
        chown(key, 65534, 65534)
        for args in [check, serve] {
            let r = try run(args)
            #expect(r.status == 78 && r.stderr.contains(key), "\(args): \(r.status) \(r.stderr)")
        }
        chown(key, 0, 0)
        chmod(key, 0o644)
        let readable = try runCommand(TFRegBinary.path, check, env: env)
        #expect(readable.status == 78 && readable.stderr.contains("chmod 600 \(key)"), "\(readable.stderr)")
        chmod(key, 0o600)
        let ok = try runCommand(TFRegBinary.path, check, env: env)
        #expect(ok.status == 0 && ok.stdout.contains("configuration OK"), "\(ok.stderr)")

        // The database and SQLite's files beside it belong to the data directory too.
        let db = data + "/registry.db"
        chown(db, 65534, 65534)
        let foreignDB = try run(list)
        #expect(foreignDB.status == 78 && foreignDB.stderr.contains("\(db) is owned by uid 65534"), "\(foreignDB.stderr)")
        chown(db, 0, 0)
        let shm = data + "/registry.db-shm"
        unlink(shm)
        #expect(symlink("/etc/passwd", shm) == 0)
        let linked = try run(list)
        #expect(linked.status == 78 && linked.stderr.contains("\(shm) is a symbolic link"), "\(linked.stderr)")
        unlink(shm)
        // A directory above it that others may write (no sticky bit): they could swap the whole data directory.
        chmod(home, 0o777)
        let parent = try run(list)
        #expect(parent.status == 78 && parent.stderr.contains("\(home) has mode 0777"), "\(parent.stderr)")
        chmod(home, 0o1777)
        #expect(try run(list).status == 0, "a sticky directory (as /tmp is) is fine")
        chmod(home, 0o700)
        #expect(try run(list).status == 0)
    }

    /// Issue 17, finding 5: the service user (who owns the data directory) links `registry.db-shm` to
    /// a root-owned file; an administrator's `tfreg grant list` as root must not chmod it (it used to
    /// turn a setuid file 0600) and refuses, naming the link.
    @Test(.enabled(if: geteuid() == 0, "the attack is on a CLI run as root"))
    func aRootRunCommandNeverChmodsThroughAPlantedLink() throws {
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let data = home + "/data"
        let created = try runCommand(
            TFRegBinary.path,
            ["grant", "create", "--init", "--data-dir", data, "-n", "acme", "--new-token", "ci", "-d"],
            env: env
        )
        #expect(created.status == 0, "\(created.stderr)")
        let target = home + "/x"
        FileManager.default.createFile(atPath: target, contents: Data("root's program".utf8), attributes: [.posixPermissions: 0o4755])
        let before = Self.mode(target)
        for suffix in ["-shm", "-wal"] {
            let link = data + "/registry.db" + suffix
            try? FileManager.default.removeItem(atPath: link)
            try FileManager.default.createSymbolicLink(atPath: link, withDestinationPath: target)
            let r = try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme", "--data-dir", data], env: env)
            #expect(Self.mode(target) == before, "\(suffix): the link's target was chmodded")
            #expect(r.status == 78 && r.stderr.contains(link) && r.stderr.contains("symbolic link"), "\(suffix): \(r.status) \(r.stderr)")
            try FileManager.default.removeItem(atPath: link)
        }
        #expect(try runCommand(TFRegBinary.path, ["grant", "list", "-n", "acme", "--data-dir", data], env: env).status == 0)
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

    @Test func serveAndCheckConfigRefuseUnknownLogSettings() throws {
        let (home, env) = Self.isolated()
        defer { try? FileManager.default.removeItem(atPath: home) }
        let data = home + "/data"
        for (args, extra, message) in [
            (
                ["--log-level", "verbose"], [String: String](),
                "--log-level (LOG_LEVEL) must be one of trace, debug, info, notice, warning, error, critical, got 'verbose'"
            ),
            ([], ["LOG_LEVEL": "verbose"], "--log-level (LOG_LEVEL) must be one of trace, debug"),
            (["--log-format", "yaml"], [:], "--log-format (TFREG_LOG_FORMAT) must be one of json, text, got 'yaml'"),
            ([], ["TFREG_LOG_FORMAT": "yaml"], "--log-format (TFREG_LOG_FORMAT) must be one of json, text, got 'yaml'"),
        ] {
            for mode in [["--check-config"], ["--port", "0"]] {
                // Under timeout(1): a serve that accepted the value would run, and fail the test, not hang it.
                let r = try runCommand(
                    which("timeout") ?? "/usr/bin/timeout",
                    ["60", TFRegBinary.path, "serve", "--data-dir", data] + mode + args,
                    env: env.merging(extra) { a, _ in a }
                )
                #expect(r.status != 0 && r.stderr.contains(message), "\(mode) \(args) \(extra): \(r.status) \(r.stderr)")
                #expect(!r.stdout.contains("configuration OK"))
                #expect(!Self.exists(data), "serve refused before creating its data dir")
            }
        }
        let ok = try runCommand(
            TFRegBinary.path,
            ["serve", "--data-dir", data, "--check-config", "--log-level", "DEBUG", "--log-format", "text"],
            env: env
        )
        #expect(ok.status == 0 && ok.stdout.contains("log: level debug, format text"), "\(ok.stdout) \(ok.stderr)")
    }

    @Test func grantsThatDoNothingOrRemoveRightsAreRefusedOrConfirmed() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let arn = "arn:aws:iam::123456789012:role/ci"
        func grants() throws -> String {
            try server.tfreg(["grant", "list", "-n", "acme", "--json"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        }

        let none = try server.tfreg(["grant", "create", "-n", "acme", "-r", arn])
        #expect(none.status != 0 && none.stderr.contains("at least one permission"), "\(none.stderr)")
        let noneToken = try server.tfreg(["grant", "create", "-n", "acme", "--new-token", "empty"])
        #expect(noneToken.status != 0 && noneToken.stdout.isEmpty, "no token made for a grant that allows nothing")
        #expect(try grants() == "[]")

        #expect(try server.tfreg(["grant", "create", "-n", "acme", "-r", arn, "-d", "-u"]).status == 0)
        let nothing = try server.tfreg(["grant", "update", "-n", "acme", "-r", arn])
        #expect(nothing.status != 0 && nothing.stderr.contains("nothing to change"), "\(nothing.stderr)")
        #expect(try grants().contains("\"download\":true,\"upload\":true"))

        // Adding rights needs no confirmation; removing them does (no terminal here: --yes).
        let add = try server.tfreg(["grant", "update", "-n", "acme", "-r", arn, "-d", "-u", "-c"])
        #expect(add.status == 0, "\(add.stderr)")
        let remove = try server.tfreg(["grant", "update", "-n", "acme", "-r", arn, "-d"])
        #expect(
            remove.status != 0 && remove.stderr.contains("remove upload,create_grant") && remove.stderr.contains("pass --yes"),
            "\(remove.stderr)"
        )
        #expect(try grants().contains("\"upload\":true,\"create_grant\":true"), "unchanged without confirmation")
        #expect(try server.tfreg(["grant", "update", "-n", "acme", "-r", arn, "-d", "--yes"]).status == 0)
        #expect(try grants().contains("\"download\":true,\"upload\":false,\"create_grant\":false"))

        let delete = try server.tfreg(["grant", "delete", "-n", "acme", "-r", arn])
        #expect(delete.status != 0 && delete.stderr.contains("pass --yes"), "\(delete.stderr)")
        #expect(try grants().contains(arn))
        #expect(try server.tfreg(["grant", "delete", "-n", "acme", "-r", arn, "-y"]).status == 0)
        #expect(try grants() == "[]")

        _ = try server.token("ci", namespace: "acme", flags: ["-d"])
        let revoke = try server.tfreg(["grant", "revoke-token", "--token-name", "ci"])
        #expect(revoke.status != 0 && revoke.stderr.contains("revoke token:ci#") && revoke.stderr.contains("pass --yes"), "\(revoke.stderr)")
        #expect(try grants().contains("token:ci#"))
        #expect(try server.tfreg(["grant", "revoke-token", "--token-name", "ci", "--yes"]).status == 0)
        #expect(try grants() == "[]")
    }
}

extension MotoBackedTests {
    /// check-config asks AWS whether the table (DescribeTable) and the bucket (HeadBucket) exist.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct CheckConfigAWSTests {
        @Test func checkConfigFindsAMissingTableAndBucket() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let aws = moto.client()
            try await DynamoDBClient(client: aws).createTable("registry")
            try await S3Client(client: aws).createBucket("tfreg-archives")
            let (home, base) = OperatorSafetyTests.isolated()
            defer { try? FileManager.default.removeItem(atPath: home) }
            let env = base.merging([
                "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey, "AWS_REGION": "us-east-1",
                "AWS_ENDPOINT_URL": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true", "TFREG_DATA_DIR": home + "/data",
            ]) { a, _ in a }
            let missingTable = try runCommand(TFRegBinary.path, ["serve", "--check-config", "--table", "absent"], env: env)
            #expect(missingTable.status == 78 && missingTable.stderr.contains("table absent does not exist"), "\(missingTable.stderr)")
            let missingBucket = try runCommand(
                TFRegBinary.path,
                ["serve", "--check-config", "--table", "registry"],
                env: env.merging(["TFREG_STORAGE": "s3://no-such-bucket/p"]) { a, _ in a }
            )
            #expect(missingBucket.status == 78 && missingBucket.stderr.contains("S3 bucket no-such-bucket does not exist"), "\(missingBucket.stderr)")
            let ok = try runCommand(
                TFRegBinary.path,
                ["serve", "--check-config", "--table", "registry", "--storage", "s3://tfreg-archives/registry"],
                env: env
            )
            #expect(
                ok.status == 0 && ok.stdout.contains("DynamoDB table registry") && ok.stdout.contains("bucket exists"),
                "\(ok.stdout) \(ok.stderr)"
            )
        }
    }
}
