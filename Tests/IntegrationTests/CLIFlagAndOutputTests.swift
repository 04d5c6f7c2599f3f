import Foundation
import Testing

/// Issue 22 (items 5 and 6), on the real binary: one test per row of the README's exit-code table for
/// values typed on the command line, help and version, standard output carrying only data,
/// `--output json` and `--dry-run` on the commands that lacked them, and the smaller traps.
@Suite struct CLIFlagAndOutputTests {
    func tfreg(_ args: [String], env: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
        let home = makeTemporaryDirectory("tfreg-cli22-home")
        return try runCommand(TFRegBinary.path, args, env: ["HOME": home].merging(env) { $1 }, stdin: stdin)
    }

    let target = ["--registry", "127.0.0.1:9", "-n", "acme", "--name", "net", "--provider", "aws", "--module-version", "1.0.0"]

    func module() throws -> String {
        let dir = makeTemporaryDirectory("tfreg-cli22-mod")
        try writeModule(at: dir, version: "1.0.0")
        try "SECRET=1\n".write(toFile: dir + "/.env", atomically: true, encoding: .utf8)
        return dir
    }

    /// A new local registry (with a token `ci` granted download on acme) in a fresh data directory.
    func registry() throws -> (dir: String, env: [String: String]) {
        let dir = makeTemporaryDirectory("tfreg-cli22-data")
        let env = ["TFREG_DATA_DIR": dir]
        let r = try tfreg(["grant", "create", "--init", "-n", "acme", "--new-token", "ci", "-d"], env: env)
        #expect(r.status == 0, "\(r.stderr)")
        return (dir, env)
    }

    // MARK: 64 usage: a bad value typed as a flag

    @Test func badValuesTypedOnTheCommandLineExit64() throws {
        let dir = try module()
        let token = ["TFREG_TOKEN": "tfr_x"]
        for (flag, bad) in [("-n", "ac me"), ("--module-version", "1.0"), ("--name", "a/b"), ("--provider", "AWS")] {
            var args = ["publish", dir] + target
            args[args.firstIndex(of: flag)! + 1] = bad
            let r = try tfreg(args, env: token)
            #expect(r.status == 64, "\(flag) \(bad): \(r.stderr)")
            #expect(r.stderr.contains("Usage: tfreg publish"), "\(r.stderr)")
        }
        let s3 = try tfreg(["publish", dir] + target + ["--s3", "notanurl"], env: token)
        #expect(s3.status == 64 && s3.stderr.contains("--s3:"), "\(s3.stderr)")
        let arn = try tfreg(["grant", "show", "-n", "acme", "-r", "notanarn"])
        #expect(arn.status == 64 && arn.stderr.contains("--role-arn 'notanarn' is not an IAM ARN"), "\(arn.stderr)")
        let http = try tfreg(["publish", dir] + target.dropFirst(2) + ["--registry", "http://registry.example.com"], env: token)
        #expect(http.status == 64 && http.stderr.contains("http is not allowed"), "\(http.stderr)")
        #expect(!http.stderr.contains("without a path"), "\(http.stderr)")
        // `token … env` cannot name a host with a port: said before any connection (port 9 answers nothing).
        let env = try tfreg(["token", "--registry", "127.0.0.1:9", "env"])
        #expect(env.status == 64 && env.stderr.contains("cannot name a host with a port") && env.stdout.isEmpty, "\(env.status) \(env.stderr)")
    }

    @Test func aServeSettingIs64AsAFlagAnd78FromTheEnvironment() throws {
        let data = makeTemporaryDirectory("tfreg-cli22-serve")
        let base = ["serve", "--check-config", "--data-dir", data]
        let port = try tfreg(base + ["--port", "99999"])
        #expect(port.status == 64 && port.stderr.contains("--port (TFREG_PORT) must be 0...65535, got 99999"), "\(port.stderr)")
        let portEnv = try tfreg(base, env: ["TFREG_PORT": "99999"])
        #expect(portEnv.status == 78 && !portEnv.stderr.contains("Usage:"), "\(portEnv.stderr)")
        let storage = try tfreg(base + ["--storage", "gs://x"])
        #expect(storage.status == 64 && storage.stderr.contains("--storage (TFREG_STORAGE)"), "\(storage.stderr)")
        let storageEnv = try tfreg(base, env: ["TFREG_STORAGE": "gs://x"])
        #expect(storageEnv.status == 78, "\(storageEnv.stderr)")
    }

    // MARK: 66 not found: a file named on the command line

    @Test func aMissingFileNamedOnTheCommandLineExits66NamingTheFlag() throws {
        let dir = try module()
        let ca = try tfreg(["publish", dir] + target + ["--ca-bundle", dir + "/nonexist.pem"], env: ["TFREG_TOKEN": "tfr_x"])
        #expect(ca.status == 66, "\(ca.stderr)")
        #expect(ca.stderr.contains("--ca-bundle \(dir)/nonexist.pem") && !ca.stderr.contains("SSL_CERT_FILE"), "\(ca.stderr)")
        #expect(!ca.stderr.contains("retry"), "\(ca.stderr)")
        let tokenFile = try tfreg(["publish", dir] + target + ["--token-file", dir + "/nonexist"])
        #expect(tokenFile.status == 66 && tokenFile.stderr.contains("token file \(dir)/nonexist (--token-file): no such file"), "\(tokenFile.stderr)")
        let restore = try tfreg(["restore", dir + "/nonexist", "--data-dir", makeTemporaryDirectory("tfreg-cli22-restore")])
        #expect(restore.status == 66 && restore.stderr.contains("no backup at \(dir)/nonexist"), "\(restore.stderr)")
    }

    // MARK: 78 configuration: a registry that does not offer what was asked

    @Test(.timeLimit(.minutes(2))) func installHelperOnARegistryWithoutIAMExits78AndS3PublishSaysDropS3() throws {
        let server = try ServerProcess()
        let home = makeTemporaryDirectory("tfreg-cli22-helper")
        let r = try server.tfreg(["install-helper", "--registry", server.host], env: ["HOME": home])
        #expect(r.status == 78, "\(r.stderr)")
        #expect(r.stderr.contains("does not offer IAM tokens"), "\(r.stderr)")
        // Discovery offers create only with S3 storage; publish --s3 says what to do instead.
        let discovery = try runCommand("/usr/bin/curl", ["-sS", "--cacert", server.cert, server.baseURL + "/.well-known/terraform.json"])
        #expect(discovery.stdout.contains("\"upload\"") && !discovery.stdout.contains("\"create\""), "\(discovery.stdout)")
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = try module()
        var args = ["publish", dir] + target + ["--s3", "s3://my-modules/terraform", "--token-file", "-"]
        args[args.firstIndex(of: "127.0.0.1:9")!] = server.host
        let s3 = try server.tfreg(args, stdin: rw)
        #expect(s3.status == 78, "\(s3.stderr)")
        #expect(s3.stderr.contains("has no S3 storage") && s3.stderr.contains("drop --s3"), "\(s3.stderr)")
        #expect(!s3.stderr.contains("instead of create") && !s3.stderr.contains("left out"), "\(s3.stderr)")
    }

    // MARK: help, version

    @Test func theCredentialHelperPrintsItsHelp() throws {
        let r = try tfreg(["credential-helper", "--help"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("USAGE:") && r.stdout.contains("get|store|forget HOST"), "\(r.stdout)")
        let dir = makeTemporaryDirectory("tfreg-cli22-argv0")
        try FileManager.default.createSymbolicLink(atPath: dir + "/terraform-credentials-tfreg", withDestinationPath: TFRegBinary.path)
        let named = try runCommand(dir + "/terraform-credentials-tfreg", ["--help"], env: ["HOME": dir])
        #expect(named.status == 0 && named.stdout.contains("USAGE: terraform-credentials-tfreg"), "\(named.stdout)\(named.stderr)")
    }

    @Test func publishHelpHasNoShowTheVersionLineAndABareVersionIsRefused() throws {
        let help = try tfreg(["publish", "--help"])
        #expect(help.status == 0 && !help.stdout.contains("Show the version."), "\(help.stdout)")
        #expect(help.stdout.contains("--version VALUE"), "\(help.stdout)")
        let rootHelp = try tfreg(["--help"])
        #expect(rootHelp.stdout.contains("Show the version."), "\(rootHelp.stdout)")
        let bare = try tfreg(["publish", "d", "--registry", "r.example.com", "--version"])
        #expect(bare.status == 64, "\(bare.stdout)\(bare.stderr)")
        #expect(bare.stderr.contains("on publish, --version is the module version") && bare.stderr.contains("tfreg --version"), "\(bare.stderr)")
        #expect(!bare.stdout.contains("commit"), "\(bare.stdout)")
    }

    @Test func everyHelpPageHasExamples() throws {
        let pages = [
            ["serve"], ["lambda"], ["token"], ["grant"], ["grant", "create"], ["grant", "update"], ["grant", "delete"], ["grant", "list"],
            ["grant", "show"], ["grant", "revoke-token"], ["publish"], ["delete"], ["deprecate"], ["gc"], ["import-legacy"], ["backup"],
            ["restore"], ["credential-helper"], ["install-helper"], ["completion"], ["browse"],
        ]
        for page in pages {
            let r = try tfreg(page + ["--help"])
            #expect(r.status == 0 && r.stdout.contains("Examples:"), "\(page): \(r.stdout)")
        }
    }

    @Test func theVersionNamesTheBuildDateAndSwift() throws {
        let r = try tfreg(["--version"])
        let line = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let pattern =
            #"^\d+\.\d+\.\d+ \(commit ([0-9a-f]{7,40}(-dirty)?|unknown), built (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ|unknown), Swift 6\.\d( or later)?\)$"#
        #expect(r.status == 0 && line.range(of: pattern, options: .regularExpression) != nil, "\(line)")
    }

    @Test func aMistypedNestedSubcommandGetsASuggestion() throws {
        let r = try tfreg(["grant", "lst", "-n", "acme"])
        #expect(r.status == 64 && r.stderr.contains("unknown command 'lst' for tfreg grant; did you mean 'list'?"), "\(r.stderr)")
    }

    @Test func quietIsOfferedOnlyWhereThereIsProgress() throws {
        #expect(try tfreg(["publish", "--help"]).stdout.contains("--quiet"))
        #expect(try tfreg(["backup", "--help"]).stdout.contains("--quiet"))
        for page in [["token"], ["grant", "create"], ["grant", "list"], ["delete"], ["gc"]] {
            let help = try tfreg(page + ["--help"])
            #expect(!help.stdout.contains("--quiet"), "\(page): \(help.stdout)")
        }
        // Still accepted, hidden, where scripts pass it.
        let parsed = try tfreg(["token", "--registry", "registry.example.com", "--quiet"], env: ["TFREG_PARSE_ONLY": "1"])
        #expect(parsed.status == 0, "\(parsed.stderr)")
    }

    // MARK: standard output carries only data

    @Test func gcWritesOnlyItsResultToStandardOutput() throws {
        let (dir, env) = try registry()
        let r = try tfreg(["gc", "--dry-run"], env: env)
        #expect(r.status == 0, "\(r.stderr)")
        #expect(!r.stdout.contains("data dir"), "\(r.stdout)")
        #expect(r.stdout == "0 unreferenced stored file(s), 0 bytes; nothing removed (--dry-run)\n", "\(r.stdout)")
        #expect(r.stderr.contains("data dir \(dir)"), "\(r.stderr)")
        let json = try tfreg(["gc", "--dry-run", "--output", "json"], env: env)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any], "\(json.stdout)")
        #expect(doc["data_dir"] as? String == dir && doc["dry_run"] as? Bool == true && (doc["unreferenced"] as? [Any])?.isEmpty == true)
    }

    @Test func restoreAnswersInJSON() throws {
        let (dir, env) = try registry()
        let backup = makeTemporaryDirectory("tfreg-cli22-bk") + "/b"
        #expect(try tfreg(["backup", backup], env: env).status == 0)
        let into = makeTemporaryDirectory("tfreg-cli22-into")
        let r = try tfreg(["restore", backup, "--data-dir", into, "--output", "json"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout == "{\"data_dir\":\"\(into)\",\"versions\":0,\"provider_versions\":0,\"bytes\":0}\n", "\(r.stdout)")
        _ = dir
    }

    @Test func theLeftOutNoteIsNotPrintedBeforeAnError() throws {
        let dir = try module()
        let r = try tfreg(["publish", dir] + target)
        #expect(r.status == 77, "\(r.stderr)")
        #expect(!r.stderr.contains("left out"), "\(r.stderr)")
    }

    // MARK: grants: names, objects, dry runs

    @Test func grantMessagesShowAndDryRuns() throws {
        let (_, env) = try registry()
        let bad = try tfreg(["grant", "create", "-n", "acme", "--new-token", "bad name", "-d"], env: env)
        #expect(bad.status == 64 && bad.stderr.contains("is not a token name"), "\(bad.stderr)")
        #expect(!bad.stderr.contains("IAM ARN"), "\(bad.stderr)")

        let list = try tfreg(["grant", "list", "-n", "acme"], env: env)
        let listed = try #require(list.stdout.split(separator: "\n").dropFirst().first?.split(separator: "\t").dropFirst().first)
        #expect(listed.hasPrefix("token:ci#"), "\(list.stdout)")
        // Messages name the token as the listing does.
        let other = try tfreg(["grant", "create", "-n", "other", "--token-name", "ci", "-d"], env: env)
        #expect(other.stderr.contains("created grant: \(listed) on namespace 'other'"), "\(other.stderr)")
        let updated = try tfreg(["grant", "update", "-n", "other", "--token-name", "ci", "-d", "-u"], env: env)
        #expect(updated.stderr.contains("updated grant: \(listed) on namespace 'other'"), "\(updated.stderr)")

        // grant show --output json is one object.
        let show = try tfreg(["grant", "show", "-n", "acme", "--token-name", "ci", "--output", "json"], env: env)
        #expect(show.status == 0 && show.stdout.hasPrefix("{\"namespace\":\"acme\",\"identity\":\"\(listed)\""), "\(show.stdout)")

        // --dry-run changes nothing.
        let before = try tfreg(["grant", "list", "-n", "acme"], env: env).stdout
        let arn = "arn:aws:iam::123456789012:role/deployer"
        let create = try tfreg(["grant", "create", "-n", "acme", "-r", arn, "-d", "--dry-run"], env: env)
        #expect(create.status == 0 && create.stdout.hasPrefix("would create grant: \(arn) on namespace 'acme'"), "\(create.stdout)\(create.stderr)")
        let newToken = try tfreg(["grant", "create", "-n", "acme", "--new-token", "ci2", "-d", "--dry-run"], env: env)
        #expect(
            newToken.status == 0 && newToken.stdout.hasPrefix("would create token 'ci2' and create grant"),
            "\(newToken.stdout)\(newToken.stderr)"
        )
        let update = try tfreg(["grant", "update", "-n", "acme", "--token-name", "ci", "-u", "--dry-run"], env: env)
        #expect(update.status == 0 && update.stdout.contains("would update grant: \(listed)"), "\(update.stdout)\(update.stderr)")
        let delete = try tfreg(["grant", "delete", "-n", "acme", "--token-name", "ci", "--dry-run", "--output", "json"], env: env)
        #expect(delete.status == 0 && delete.stdout.contains("\"dry_run\":true"), "\(delete.stdout)\(delete.stderr)")
        let missing = try tfreg(["grant", "delete", "-n", "acme", "-r", arn, "--dry-run"], env: env)
        #expect(missing.status == 66, "\(missing.stderr)")
        #expect(try tfreg(["grant", "list", "-n", "acme"], env: env).stdout == before)
    }

    // MARK: delete and deprecate: --dry-run and --output json against a registry

    @Test(.timeLimit(.minutes(2))) func deleteAndDeprecateDryRunAndJSON() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let dir = try module()
        var t = target
        t[t.firstIndex(of: "127.0.0.1:9")!] = server.host
        let published = try server.tfreg(["publish", dir] + t + ["--token-file", "-"], stdin: rw)
        #expect(published.status == 0, "\(published.stderr)")
        // After success, the note names what was left out.
        #expect(published.stderr.contains("left out: .env"), "\(published.stderr)")

        let dryDelete = try server.tfreg(["delete"] + t + ["--dry-run", "--token-file", "-"], stdin: rw)
        #expect(dryDelete.status == 0 && dryDelete.stdout.hasPrefix("would delete acme/net/aws 1.0.0"), "\(dryDelete.stdout)\(dryDelete.stderr)")
        var missing = t
        missing[missing.firstIndex(of: "1.0.0")!] = "9.9.9"
        let dryMissing = try server.tfreg(["delete"] + missing + ["--dry-run", "--token-file", "-"], stdin: rw)
        #expect(dryMissing.status == 66, "\(dryMissing.stderr)")

        let dryDeprecate = try server.tfreg(["deprecate"] + t + ["--reason", "old", "--dry-run", "--output", "json", "--token-file", "-"], stdin: rw)
        #expect(
            dryDeprecate.stdout
                == "{\"module\":\"acme/net/aws\",\"version\":\"1.0.0\",\"deprecated\":true,\"reason\":\"old\",\"replacement\":null,\"dry_run\":true}\n",
            "\(dryDeprecate.stdout)\(dryDeprecate.stderr)"
        )
        let versions = try runCommand(
            "/usr/bin/curl",
            ["-sS", "--cacert", server.cert, "-H", "Authorization: Bearer \(rw)", server.baseURL + "/v1/modules/acme/net/aws/versions"]
        )
        #expect(!versions.stdout.contains("deprecat") && versions.stdout.contains("1.0.0"), "\(versions.stdout)")

        let deprecate = try server.tfreg(["deprecate"] + t + ["--reason", "old", "--yes", "--output", "json", "--token-file", "-"], stdin: rw)
        #expect(
            deprecate.status == 0 && deprecate.stdout.contains("\"deprecated\":true") && deprecate.stdout.contains("\"dry_run\":false"),
            "\(deprecate.stdout)"
        )
        let delete = try server.tfreg(["delete"] + t + ["--yes", "--output", "json", "--token-file", "-"], stdin: rw)
        #expect(
            delete.stdout == "{\"module\":\"acme/net/aws\",\"version\":\"1.0.0\",\"deleted\":true,\"dry_run\":false}\n",
            "\(delete.stdout)\(delete.stderr)"
        )
    }

    /// Issue 18 (item 7): grant and token changes made on the store go through the registry service and
    /// name the operator, `local:USER@HOST`; LOG_LEVEL=info shows the line, by default standard error
    /// keeps only the command's own messages. Never the token.
    @Test func changesOnTheStoreNameTheLocalOperator() throws {
        var (_, env) = try registry()
        let quiet = try tfreg(["grant", "create", "-n", "other", "--token-name", "ci", "-d"], env: env)
        #expect(quiet.status == 0 && !quiet.stderr.contains("by=local:"), "\(quiet.stderr)")
        env["LOG_LEVEL"] = "info"
        let role = ["-n", "acme", "-r", "arn:aws:iam::123456789012:role/ci"]
        for (args, line) in [
            (["grant", "create"] + role + ["-d"], "granted"),
            (["grant", "update"] + role + ["-d", "-u", "--yes"], "granted"),
            (["grant", "delete"] + role + ["--yes"], "revoked grant"),
            (["grant", "revoke-token", "--token-name", "ci", "--yes"], "revoked static token"),
        ] {
            let r = try tfreg(args, env: env)
            #expect(r.status == 0 && r.stderr.contains(line) && r.stderr.contains("by=local:"), "\(args): \(r.stderr)")
        }
        let created = try tfreg(["grant", "create", "-n", "acme", "--new-token", "ci2", "-d"], env: env)
        let token = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(created.status == 0 && token.hasPrefix("tfr_"), "\(created.stderr)")
        #expect(created.stderr.contains("created static token") && created.stderr.contains("by=local:"), "\(created.stderr)")
        #expect(!created.stderr.contains(token))
    }
}
