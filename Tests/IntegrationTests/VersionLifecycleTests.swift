import Foundation
import TFRegCrypto
import TFRegHTTPClient
import Testing

/// Trust I over a real socket: deprecate, delete with tombstones, gc, and what `kill -9` leaves.
@Suite(.serialized) struct VersionLifecycleTests {
    func publish(_ server: ServerProcess, _ dir: String, _ version: String, token: String) throws -> CommandResult {
        try server.tfreg([
            "publish", dir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", version, "--token", token,
        ])
    }

    @Test func deprecateDeleteAndGCThroughTheCLI() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let mod = server.dir + "/mod"
        try writeModule(at: mod, version: "1.3.0")
        #expect(try publish(server, mod, "1.3.0", token: rw).status == 0)
        let target = ["--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--module-version", "1.3.0", "--token", rw]

        // Deprecated: still listed and downloadable, with the mark.
        let dep = try server.tfreg(["deprecate"] + target + ["--reason", "security group too open", "--replacement", "1.3.1", "--yes"])
        #expect(dep.status == 0 && dep.stdout.contains("deprecated acme/net/aws 1.3.0"), "\(dep.stderr)")
        let auth = [(name: "Authorization", value: "Bearer \(rw)")]
        let versions = try await server.client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/versions", headers: auth))
        #expect(
            versions.bodyText.contains(#""version":"1.3.0","deprecation":{"reason":"security group too open","replacement":"1.3.1""#),
            "\(versions.bodyText)"
        )
        #expect(
            try await server.client.send(HTTPRequest(url: server.baseURL + "/v1/modules/acme/net/aws/1.3.0/download", headers: auth)).status == 204
        )

        // Destructive commands refuse without a terminal unless --yes.
        let unconfirmed = try server.tfreg(["delete"] + target)
        #expect(unconfirmed.status != 0 && unconfirmed.stderr.contains("--yes"), "\(unconfirmed.stderr)")
        let deleted = try server.tfreg(["delete"] + target + ["--yes"])
        #expect(deleted.status == 0, "\(deleted.stderr)")

        // The number is never reused, whatever the bytes.
        try "output \"other\" { value = 2 }\n".write(toFile: mod + "/main.tf", atomically: true, encoding: .utf8)
        let reuse = try publish(server, mod, "1.3.0", token: rw)
        #expect(reuse.status != 0 && reuse.stderr.contains("HTTP 409") && reuse.stderr.contains("was deleted on"), "\(reuse.stderr)")

        // gc: the deleted version's archive is unreferenced; a dry run lists it, a run removes it.
        let dry = try server.tfreg(["gc", "--dry-run", "--grace-seconds", "0"])
        #expect(
            dry.status == 0 && dry.stdout.contains("unreferenced archives/sha256/") && !dry.stdout.contains("data dir")
                && dry.stderr.contains("data dir \(server.dataDir)"),
            "\(dry.stdout)\(dry.stderr)"
        )
        // serve --check-config runs the same listing (with gc's default one-hour grace: nothing yet).
        let check = try server.tfreg(["serve", "--check-config"])
        #expect(
            check.status == 0 && check.stdout.contains("unreferenced archives: 0 (0 bytes, older than an hour)"),
            "\(check.stdout)\(check.stderr)"
        )
        let gc = try server.tfreg(["gc", "--grace-seconds", "0"])
        // The deleted version's archive and its documentation blob.
        #expect(gc.status == 0 && gc.stdout.contains("removed 2 stored file(s)"), "\(gc.stdout)\(gc.stderr)")
        #expect(try publish(server, mod, "1.3.1", token: rw).status == 0)
        let again = try server.tfreg(["gc", "--grace-seconds", "0"])
        #expect(again.stdout.contains("removed 0 stored file(s)"), "a referenced archive must stay: \(again.stdout)")
        #expect(server.stop() == 0)
    }

    /// Archives an older tfreg stored as uploaded (before canonical archives) are not what the
    /// registry wrote: `import-legacy` re-reads each through the strict reader and swaps in the
    /// canonical copy; a hostile one (here: a second gzip member hiding `../escape.tf`) is refused and left.
    @Test func importLegacyCanonicalizesArchivesStoredAsUploaded() async throws {
        let dir = makeTemporaryDirectory("tfreg-old-archives")
        let data = dir + "/data"
        _ = try runCommand(
            TFRegBinary.path,
            ["grant", "create", "--init", "--data-dir", data, "--namespace", "acme", "--new-token", "x", "--download"],
            env: ["HOME": dir]
        )
        try writeModule(at: dir + "/mod", version: "1.0.0")
        #expect(try runCommand("/bin/tar", ["-czf", dir + "/old.tar.gz", "-C", dir + "/mod", "."]).status == 0)
        // The hostile one: gzip(main.tf) + gzip(../escape.tf), which the old inspector accepted.
        let evil = try runCommand(
            "/bin/bash",
            [
                "-c",
                """
                set -e; cd \(dir); mkdir -p e/a; echo 'locals {}' > e/main.tf; echo 'locals {}' > e/a/escape.tf
                tar -cf - -C e main.tf | head -c 1536 | gzip > evil.tar.gz
                tar -cf - -C e/a --transform 's,^,../,' escape.tf | gzip >> evil.tar.gz
                """,
            ]
        )
        #expect(evil.status == 0, "\(evil.stderr)")
        var rows: [String] = []
        for (name, file) in [("old", "old.tar.gz"), ("evil", "evil.tar.gz")] {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: dir + "/" + file)))
            let digest = Hex.encode(SHA256.hash(bytes))
            let key = "acme/\(name)/aws/1.0.0/\(digest).tar.gz"
            try FileManager.default.createDirectory(atPath: data + "/archives/acme/\(name)/aws/1.0.0", withIntermediateDirectories: true)
            try Data(bytes).write(to: URL(fileURLWithPath: data + "/archives/" + key))
            rows.append("('acme','\(name)','aws','1.0.0',NULL,'\(key)','\(digest)',\(bytes.count),1,'token:old')")
        }
        let insert = try runCommand(
            which("python3")!,
            [
                "-c",
                """
                import sqlite3; c = sqlite3.connect("\(data)/registry.db")
                c.execute("INSERT INTO module_versions (namespace,name,system,version,bucket,key,sha256,size,published_at,published_by) VALUES \(rows.joined(separator: ","))")
                c.commit()
                """,
            ]
        )
        #expect(insert.status == 0, "\(insert.stderr)")
        let env = ["HOME": dir]
        let dry = try runCommand(TFRegBinary.path, ["import-legacy", "--data-dir", data, "--dry-run"], env: env)
        #expect(
            dry.stdout.contains("would import acme/old/aws 1.0.0 from acme/old/aws/1.0.0/") && dry.stdout.contains("2 version(s) would be imported"),
            "\(dry.stdout)\(dry.stderr)"
        )
        let run = try runCommand(TFRegBinary.path, ["import-legacy", "--data-dir", data, "--yes"], env: env)
        #expect(run.status != 0 && run.stdout.contains("imported acme/old/aws 1.0.0: sha256:"), "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("left acme/evil/aws 1.0.0: invalid module archive"), "\(run.stdout)")
        let again = try runCommand(TFRegBinary.path, ["import-legacy", "--data-dir", data, "--dry-run"], env: env)
        #expect(again.stdout.contains("1 version(s) would be imported") && !again.stdout.contains("acme/old"), "\(again.stdout)")
        try? FileManager.default.removeItem(atPath: dir)
    }

    @Test func databaseFilesAreOwnerOnly() async throws {
        let dataDir = makeTemporaryDirectory("tfreg-modes")
        // An existing, world-readable data directory (as an admin might create it).
        try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let server = try ServerProcess(dataDir: dataDir)
        _ = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        for file in ["registry.db", "registry.db-wal", "registry.db-shm"] where FileManager.default.fileExists(atPath: dataDir + "/" + file) {
            let mode = try FileManager.default.attributesOfItem(atPath: dataDir + "/" + file)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        #expect(server.stop() == 0)
        try? FileManager.default.removeItem(atPath: dataDir)
    }

    @Test func killNineDuringUploadsLeavesNothingAfterRestart() async throws {
        let first = try ServerProcess()
        let rw = try first.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let mod = first.dir + "/big"
        try writeModule(at: mod, version: "1.0.0")
        var blob = [UInt8](repeating: 0, count: 20 << 20)
        var x: UInt64 = 0x2545_F491_4F6C_DD1D
        for i in blob.indices {
            x ^= x << 13
            x ^= x >> 7
            x ^= x << 17
            blob[i] = UInt8(truncatingIfNeeded: x)
        }
        try Data(blob).write(to: URL(fileURLWithPath: mod + "/blob.bin"))
        let archive = first.dir + "/big.tar.gz"
        let pack = try runCommand(
            TFRegBinary.path,
            [
                "publish", mod, "-n", "acme", "--name", "big", "--system", "aws", "--version", "1.0.0", "--registry", first.host, "--dry-run",
                "--archive-file", archive,
            ]
        )
        #expect(pack.status == 0, "\(pack.stderr)")
        // Uploads paced by curl (1 MB/s, well above the server's minimum body rate): each takes ~20 s, so
        // the kill lands in one however late this task is scheduled. (Unpaced `tfreg publish` uploads of
        // the same archive finish in well under a second; under a loaded CI run the poller once missed them.)
        // Child processes, not tasks that block on them: nothing here may hold a cooperative thread.
        let curl = which("curl") ?? "/usr/bin/curl"
        let uploads = try (0..<3).map { i in
            let p = Process()
            p.executableURL = URL(fileURLWithPath: curl)
            p.arguments = [
                "-s", "-o", "/dev/null", "--cacert", first.cert, "--limit-rate", "1M", "-X", "POST",
                "-H", "Authorization: Bearer \(rw)", "-H", "Content-Type: application/gzip", "--data-binary", "@" + archive,
                "https://\(first.host)/v1/modules/acme/big\(i)/aws/1.0.0/upload",
            ]
            p.standardOutput = FileHandle.nullDevice
            p.standardError = FileHandle.nullDevice
            try p.run()
            return p
        }
        let staging = first.dataDir + "/tmp"
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline,
            !((try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []).contains(where: { $0.hasSuffix(".partial") })
        {
            try await Task.sleep(for: .milliseconds(2))  // not usleep: the upload tasks need a cooperative thread
        }
        kill(first.process.processIdentifier, SIGKILL)
        first.process.waitUntilExit()
        for u in uploads { u.waitUntilExit() }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        #expect(left.contains { $0.hasSuffix(".partial") }, "the kill must have interrupted an upload: \(left)")

        let second = try ServerProcess(dataDir: first.dataDir)
        let after = (try? FileManager.default.contentsOfDirectory(atPath: staging)) ?? []
        #expect(after.isEmpty, "partials left after restart: \(after)")
        #expect(second.logText.contains("removed stale staged uploads"))
        #expect(second.stop() == 0)
    }
}
