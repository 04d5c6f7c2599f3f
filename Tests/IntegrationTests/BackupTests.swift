import Foundation
import TFRegCrypto
import TFRegHTTPClient
import Testing

@Suite(.serialized) struct BackupTests {
    /// A backup taken while the server takes uploads restores to a store where every version downloads
    /// with its recorded SHA-256.
    @Test func backupDuringUploadsRestoresEveryVersion() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let publish: @Sendable (Int) throws -> CommandResult = { i in
            let dir = server.dir + "/mod-\(i)"
            try writeModule(at: dir, version: "1.0.\(i)")
            return try server.tfreg([
                "publish", dir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.\(i)", "--token", rw,
            ])
        }
        #expect(try publish(0).status == 0)
        let uploads = Task.detached { () throws -> Int in
            var ok = 0
            for i in 1...25 where try publish(i).status == 0 { ok += 1 }
            return ok
        }
        try await Task.sleep(for: .milliseconds(150))
        let backupDir = server.dir + "/backup"
        let backup = try server.tfreg(["backup", backupDir])
        #expect(backup.status == 0, "\(backup.stderr)")
        #expect(try await uploads.value == 25)
        #expect(server.stop() == 0)

        let restoredData = makeTemporaryDirectory("tfreg-restored")
        let restore = try runCommand(TFRegBinary.path, ["restore", backupDir, "--data-dir", restoredData])
        #expect(restore.status == 0, "\(restore.stderr)")
        let restored = try ServerProcess(dataDir: restoredData)
        let client = restored.client
        let auth = [(name: "Authorization", value: "Bearer \(rw)")]
        let versions = try await client.send(HTTPRequest(url: restored.baseURL + "/v1/modules/acme/net/aws/versions", headers: auth))
        #expect(versions.status == 200)
        let count = versions.bodyText.components(separatedBy: "\"version\":").count - 1
        #expect(count >= 1, "the backup holds at least the version published before it")
        for i in 0...25 {
            let detail = try await client.send(HTTPRequest(url: restored.baseURL + "/v1/modules/acme/net/aws/1.0.\(i)", headers: auth))
            guard detail.status == 200 else {
                #expect(detail.status == 404)
                continue
            }
            let recorded = try #require(detail.bodyText.components(separatedBy: "\"sha256\":\"").last?.prefix(64))
            let dl = try await client.send(HTTPRequest(url: restored.baseURL + "/v1/modules/acme/net/aws/1.0.\(i)/download", headers: auth))
            let url = try #require(dl.header("x-terraform-get"))
            let archive = try await client.send(HTTPRequest(url: url))
            #expect(archive.status == 200)
            #expect(Hex.encode(SHA256.hash(archive.body)) == String(recorded), "version 1.0.\(i)")
        }
        #expect(restored.stop() == 0)
        try? FileManager.default.removeItem(atPath: restoredData)
    }

    @Test func restoreRefusesACorruptBackup() throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        try writeModule(at: server.dir + "/m", version: "1.0.0")
        #expect(
            try server.tfreg([
                "publish", server.dir + "/m", "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0",
                "--token", rw,
            ]).status == 0
        )
        let backupDir = server.dir + "/backup"
        #expect(try server.tfreg(["backup", backupDir]).status == 0)
        #expect(try server.tfreg(["backup", backupDir]).status != 0, "a non-empty destination is refused")
        // Flip one byte of the archive in the backup.
        let archives = FileManager.default.enumerator(atPath: backupDir + "/archives")!.compactMap { $0 as? String }.filter {
            $0.hasSuffix(".tar.gz")
        }
        let path = backupDir + "/archives/" + archives[0]
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        bytes[bytes.count / 2] ^= 0x01
        try bytes.write(to: URL(fileURLWithPath: path))
        let target = makeTemporaryDirectory("tfreg-restore-bad")
        let r = try runCommand(TFRegBinary.path, ["restore", backupDir, "--data-dir", target])
        #expect(r.status != 0)
        #expect(r.stderr.contains("does not match its SHA-256"))
        #expect(!FileManager.default.fileExists(atPath: target + "/registry.db"), "nothing restored from a bad backup")
        #expect(server.stop() == 0)
    }
}
