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
}

