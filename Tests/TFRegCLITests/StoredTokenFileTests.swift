import Foundation
import Testing

@testable import TFRegCLI

/// Issue 17, finding 8: the stored-token file (`credentials.json`) wins over IAM, so it gets the IAM
/// token cache's checks (one home: `FileSystem.Trust`) and is refused, with its cause, otherwise.
@Suite struct StoredTokenFileTests {
    let dir = NSTemporaryDirectory() + "tfreg-stored-\(UUID().uuidString.prefix(8))"
    var path: String { dir + "/tfreg/credentials.json" }
    let planted = #"{"hosts":{"registry.example.com":{"token":"tfr_planted"}}}"#

    func plant(mode: mode_t) throws {
        try FileManager.default.createDirectory(atPath: dir + "/tfreg", withIntermediateDirectories: true)
        try planted.write(toFile: path, atomically: false, encoding: .utf8)
        chmod(path, mode)
    }

    @Test func anOwnPrivateFileIsRead() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try plant(mode: 0o600)
        #expect(try CredentialsFile(path: path).load() == ["registry.example.com": "tfr_planted"])
        #expect(try CredentialsFile(path: dir + "/missing.json").load() == [:])
    }

    @Test(arguments: [0o666, 0o644, 0o620, 0o604] as [mode_t])
    func aFileOthersCanReadOrWriteIsRefused(_ mode: mode_t) throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try plant(mode: mode)
        #expect {
            _ = try CredentialsFile(path: path).load()
        } throws: { error in
            let e = error as? CLIError
            return e?.exitCode == 78 && e?.message.contains(path) == true && e?.message.contains("chmod 600") == true
        }
    }

    @Test func aSymbolicLinkIsRefusedNotFollowed() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try plant(mode: 0o600)
        try FileManager.default.moveItem(atPath: path, toPath: dir + "/elsewhere.json")
        try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: dir + "/elsewhere.json")
        #expect {
            _ = try CredentialsFile(path: path).load()
        } throws: { error in
            (error as? CLIError)?.message.contains("symbolic link") == true
        }
    }

    @Test(.enabled(if: geteuid() == 0, "chown needs root"))
    func aFileOwnedBySomeoneElseIsRefused() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try plant(mode: 0o600)
        chown(path, 65534, 65534)
        #expect {
            _ = try CredentialsFile(path: path).load()
        } throws: { error in
            (error as? CLIError)?.message.contains("owned by uid 65534") == true
        }
    }

    /// The IAM token cache keeps its rule (not a link, own, nobody else may write) through the same check.
    @Test func theTokenCacheRefusesALink() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cache = IAMTokenCache(path: dir + "/cache/tokens.json")
        cache.put(key: "k", IAMTokenCache.Entry(host: "h.example.com", principal: nil, token: "t", expires_at: 4_000_000_000), now: 0)
        #expect(cache.load()?["k"]?.token == "t")
        try FileManager.default.moveItem(atPath: cache.path, toPath: dir + "/cache/real.json")
        try FileManager.default.createSymbolicLink(atPath: cache.path, withDestinationPath: dir + "/cache/real.json")
        #expect(cache.load() == nil)
    }
}
