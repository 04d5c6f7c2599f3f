import Foundation
import TFRegAWS
import Testing

@testable import TFRegCLI

/// The credentials helper's token cache: keyed by host and credentials, no secrets on disk, 0600 in a
/// 0700 directory, expired entries dropped, an untrusted file ignored.
@Suite struct IAMTokenCacheTests {
    let dir = NSTemporaryDirectory() + "tfreg-cache-\(UUID().uuidString.prefix(8))"
    var cache: IAMTokenCache { IAMTokenCache(path: dir + "/tfreg/tokens.json") }
    let now: Int64 = 2_000_000_000
    let dev = AWSCredentials(
        accessKeyID: "ASIADEVDEVDEVDEV",
        secretAccessKey: "devSecret/abcdefghijklmnopqrstuvwxyz012345",
        sessionToken: "devSessionToken=="
    )
    let intruder = AWSCredentials(
        accessKeyID: "ASIAINTRUDERINTR",
        secretAccessKey: "intruderSecret/abcdefghijklmnopqrstuvwxyz",
        sessionToken: "intruderSession=="
    )

    func entry(_ token: String, expires: Int64, host: String = "registry.example.com") -> IAMTokenCache.Entry {
        IAMTokenCache.Entry(host: host, principal: "arn:aws:iam::123456789012:role/dev", token: token, expires_at: expires)
    }

    func mode(_ path: String) throws -> Int { try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) }

    @Test func aTokenIsOnlyReturnedForTheCredentialsItWasObtainedWith() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let host = "registry.example.com"
        let devKey = IAMTokenCache.key(host: host, description: "profile:dev", credentials: dev)
        cache.put(key: devKey, entry("tfi_dev", expires: now + 900), now: now)
        #expect(cache.token(key: devKey, host: host, now: now)?.token == "tfi_dev")
        // Another profile, other keys, the same access key id with another secret, another host: no match.
        #expect(cache.token(key: IAMTokenCache.key(host: host, description: "profile:intruder", credentials: dev), host: host, now: now) == nil)
        #expect(cache.token(key: IAMTokenCache.key(host: host, description: "profile:dev", credentials: intruder), host: host, now: now) == nil)
        let forged = AWSCredentials(accessKeyID: dev.accessKeyID, secretAccessKey: "guessed")
        #expect(cache.token(key: IAMTokenCache.key(host: host, description: "profile:dev", credentials: forged), host: host, now: now) == nil)
        #expect(cache.token(key: devKey, host: "other.example.com", now: now) == nil)
        #expect(
            cache.token(
                key: IAMTokenCache.key(host: "other.example.com", description: "profile:dev", credentials: dev),
                host: "other.example.com",
                now: now
            ) == nil
        )
        // Reused until a minute before it expires.
        #expect(cache.token(key: devKey, host: host, now: now + 839) != nil)
        #expect(cache.token(key: devKey, host: host, now: now + 840) == nil)

        let intruderKey = IAMTokenCache.key(host: host, description: "profile:intruder", credentials: intruder)
        cache.put(key: intruderKey, entry("tfi_intruder", expires: now + 900), now: now)
        #expect(cache.token(key: intruderKey, host: host, now: now)?.token == "tfi_intruder")
        #expect(cache.token(key: devKey, host: host, now: now)?.token == "tfi_dev")
        #expect(cache.load()?.count == 2)

        let text = try String(contentsOfFile: cache.path, encoding: .utf8)
        for secret in [
            dev.accessKeyID, dev.secretAccessKey, dev.sessionToken!, intruder.accessKeyID, intruder.secretAccessKey, intruder.sessionToken!,
        ] {
            #expect(!text.contains(secret))
        }
        #expect(try mode(cache.path) == 0o600)
        #expect(try mode(dir + "/tfreg") == 0o700)

        IAMTokenCache(path: cache.path).forget(host: host, now: now)
        #expect(cache.load()?.isEmpty == true)
    }

    @Test func expiredEntriesAreDroppedOnEveryWrite() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        cache.put(key: "old", entry("tfi_old", expires: now + 10), now: now)
        cache.put(key: "live", entry("tfi_live", expires: now + 3600), now: now)
        #expect(cache.load()?.count == 2)
        cache.put(key: "new", entry("tfi_new", expires: now + 3600), now: now + 11)
        #expect(Set(cache.load()?.keys.map { $0 } ?? []) == ["live", "new"])
        #expect(!(try String(contentsOfFile: cache.path, encoding: .utf8)).contains("tfi_old"))
    }

    @Test func anUntrustedFileIsIgnoredAndReplaced() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        cache.put(key: "k", entry("tfi_planted", expires: now + 3600), now: now)
        #expect(cache.token(key: "k", host: "registry.example.com", now: now) != nil)

        // Group- or world-writable: someone else could have planted the token.
        for loose in [0o666, 0o620] {
            chmod(cache.path, mode_t(loose))
            #expect(cache.load() == nil, "mode \(String(loose, radix: 8))")
            #expect(cache.token(key: "k", host: "registry.example.com", now: now) == nil)
        }
        // The next write replaces it, 0600, without the untrusted entries.
        cache.put(key: "mine", entry("tfi_mine", expires: now + 3600), now: now)
        #expect(try mode(cache.path) == 0o600)
        #expect(cache.load().map { Array($0.keys) } == ["mine"])

        // Owned by another user (needs root to arrange).
        if geteuid() == 0 {
            chown(cache.path, 65534, 65534)
            #expect(cache.load() == nil)
            cache.put(key: "again", entry("tfi_again", expires: now + 3600), now: now)
            #expect(cache.load().map { Array($0.keys) } == ["again"])
        }

        // A symbolic link is not followed, a version 1 (host-keyed) file is not read.
        try FileManager.default.removeItem(atPath: cache.path)
        try #"{"version":2,"entries":{}}"#.write(toFile: dir + "/elsewhere.json", atomically: true, encoding: .utf8)
        try FileManager.default.createSymbolicLink(atPath: cache.path, withDestinationPath: dir + "/elsewhere.json")
        #expect(cache.load() == nil)
        try FileManager.default.removeItem(atPath: cache.path)
        try #"{"registry.example.com":{"token":"tfi_v1","expires_at":4000000000}}"#.write(toFile: cache.path, atomically: true, encoding: .utf8)
        chmod(cache.path, 0o600)
        #expect(cache.load() == nil)
    }

    @Test func aLooseDirectoryIsTightened() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try FileManager.default.createDirectory(atPath: dir + "/tfreg", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        cache.put(key: "k", entry("t", expires: now + 100), now: now)
        #expect(try mode(dir + "/tfreg") == 0o700)
    }

    @Test func aLinkedDirectoryIsNeitherTightenedNorWrittenThrough() throws {
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let elsewhere = dir + "/elsewhere"
        try FileManager.default.createDirectory(atPath: elsewhere, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        #expect(symlink(elsewhere, dir + "/tfreg") == 0)
        cache.put(key: "k", entry("t", expires: now + 100), now: now)
        #expect(try mode(elsewhere) == 0o755, "the link's target is not chmodded")
        #expect(try FileManager.default.contentsOfDirectory(atPath: elsewhere).isEmpty, "nothing written through the link")
    }
}
