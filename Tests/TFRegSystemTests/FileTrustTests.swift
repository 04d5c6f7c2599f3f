import Glibc
import TFRegSystem
import TFRegTesting
import Testing

/// Issue 17, findings 5, 7 and 8: the one home of "may tfreg trust this file" and of a chmod that
/// never follows a link.
@Suite struct FileTrustTests {
    func mode(_ path: String) -> mode_t {
        var st = stat()
        return lstat(path, &st) == 0 ? st.st_mode & 0o7777 : 0
    }

    @Test func restrictModeNeverFollowsALink() throws {
        let tmp = TemporaryDirectory("tfreg-trust")
        defer { tmp.remove() }
        let dir = tmp.path
        let target = dir + "/target"
        try FileSystem.writeExclusive(target, Array("x".utf8), mode: 0o755)
        let before = mode(target)
        #expect(symlink(target, dir + "/registry.db-shm") == 0)
        #expect(throws: UntrustedPath.self) { try FileSystem.restrictMode(dir + "/registry.db-shm", to: 0o600) }
        #expect(mode(target) == before, "the link's target was changed")
        // A regular file is tightened; a missing one is no error.
        try FileSystem.writeExclusive(dir + "/own", Array("x".utf8), mode: 0o644)
        #expect(try FileSystem.restrictMode(dir + "/own", to: 0o600))
        #expect(mode(dir + "/own") == 0o600)
        #expect(try !FileSystem.restrictMode(dir + "/missing", to: 0o600))
        #expect(throws: UntrustedPath.self) { try FileSystem.restrictMode(dir, to: 0o600) }
    }

    @Test func checksOwnerModeTypeAndLinks() throws {
        let tmp = TemporaryDirectory("tfreg-trust")
        defer { tmp.remove() }
        let dir = tmp.path
        let secret = FileSystem.Trust.privateToCaller
        try FileSystem.writeExclusive(dir + "/key", Array("k".utf8), mode: 0o600)
        #expect(try secret.check(dir + "/key", kind: .file))
        #expect(try secret.read(dir + "/key", limit: 10) == Array("k".utf8))
        #expect(try !secret.check(dir + "/none", kind: .file))
        #expect(try secret.read(dir + "/none", limit: 10) == nil)
        _ = chmod(dir + "/key", 0o640)
        #expect(throws: UntrustedPath(path: dir + "/key", reason: .mode(0o100640), kind: .file, fixMode: 0o600)) {
            try secret.read(dir + "/key", limit: 10)
        }
        // Group-readable is fine where only writing matters.
        #expect(try FileSystem.Trust.writableByCallerOnly.read(dir + "/key", limit: 10) != nil)
        #expect(symlink(dir + "/key", dir + "/link") == 0)
        #expect(throws: UntrustedPath(path: dir + "/link", reason: .symbolicLink, kind: .file, fixMode: 0o600)) {
            try FileSystem.Trust.writableByCallerOnly.read(dir + "/link", limit: 10)
        }
        #expect(throws: UntrustedPath.self) { try secret.check(dir + "/link", kind: .file) }
        #expect(throws: UntrustedPath.self) { try secret.check(dir, kind: .file) }
        // A directory others may write is refused, with the fix in the message.
        let open = dir + "/open"
        try FileSystem.makeDirectories(open, mode: 0o700)
        _ = chmod(open, 0o777)
        let directories = FileSystem.Trust(forbiddenMode: 0o022)
        #expect {
            try directories.check(open, kind: .directory)
        } throws: { error in
            "\(error)".contains("chmod 700 \(open)")
        }
        _ = chmod(open, 0o750)
        #expect(try directories.check(open, kind: .directory))
        // A link to a directory: refused unless the administrator chose the path (followingLink).
        #expect(symlink(open, dir + "/dirlink") == 0)
        #expect(throws: UntrustedPath.self) { try directories.check(dir + "/dirlink", kind: .directory) }
        #expect(try directories.check(dir + "/dirlink", kind: .directory, followingLink: true))
    }

    @Test(.enabled(if: geteuid() == 0, "chown needs root"))
    func aForeignOwnerIsRefusedUnlessAllowed() throws {
        let tmp = TemporaryDirectory("tfreg-trust")
        defer { tmp.remove() }
        let dir = tmp.path
        try FileSystem.writeExclusive(dir + "/key", Array("k".utf8), mode: 0o600)
        #expect(chown(dir + "/key", 65534, 65534) == 0)
        #expect {
            try FileSystem.Trust.privateToCaller.check(dir + "/key", kind: .file)
        } throws: { error in
            "\(error)".contains("owned by uid 65534") && "\(error)".contains("chown")
        }
        #expect(try FileSystem.Trust(otherOwners: [65534], forbiddenMode: 0o077).check(dir + "/key", kind: .file))
    }
}
