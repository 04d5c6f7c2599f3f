import Glibc
import TFRegSystem
import TFRegTesting
import Testing

@Suite struct FileSystemTests {
    func temporaryDirectory() -> String { TemporaryDirectory("tfreg-system").path }

    @Test func writeAtomicallyThenRead() throws {
        let dir = temporaryDirectory()
        let path = dir + "/a/b/file"
        try FileSystem.makeDirectories(dir + "/a/b", mode: 0o700)
        try FileSystem.writeAtomically(path, Array("hello".utf8), mode: 0o600)
        #expect(FileSystem.read(path) == Array("hello".utf8))
        #expect(FileSystem.readText(path) == "hello")
        #expect(FileSystem.read(path, exactly: 5) == Array("hello".utf8))
        #expect(FileSystem.read(path, exactly: 6) == nil)
        #expect(FileSystem.list(dir + "/a/b") == ["file"])
        var st = stat()
        #expect(stat(path, &st) == 0 && st.st_mode & 0o777 == 0o600)
        // Replacing is atomic and leaves no temporary file behind.
        try FileSystem.writeAtomically(path, Array("again".utf8), mode: 0o600)
        #expect(FileSystem.read(path) == Array("again".utf8))
        #expect(FileSystem.list(dir + "/a/b") == ["file"])
        try FileSystem.fsyncDirectory(dir + "/a/b")
    }

    @Test func limits() throws {
        let dir = temporaryDirectory()
        let path = dir + "/big"
        try FileSystem.writeAtomically(path, [UInt8](repeating: 7, count: 100_000), mode: 0o600)
        #expect(FileSystem.read(path, limit: 100_000)?.count == 100_000)
        #expect(FileSystem.read(path, limit: 99_999) == nil)
        #expect((FileSystem.readPrefix(path, limit: 10)?.count ?? 0) >= 10)
        #expect(try FileSystem.readAll(path).count == 100_000)
    }

    @Test func writeExclusiveNeverReplaces() throws {
        let dir = temporaryDirectory()
        let path = dir + "/once"
        try FileSystem.writeExclusive(path, [1, 2, 3], mode: 0o640)
        #expect(throws: SystemError.self) { try FileSystem.writeExclusive(path, [4], mode: 0o640) }
        #expect(FileSystem.read(path) == [1, 2, 3])
    }

    @Test func errorsNameTheCall() throws {
        let dir = temporaryDirectory()
        #expect(FileSystem.read(dir + "/missing") == nil)
        #expect(!FileSystem.exists(dir + "/missing"))
        #expect(FileSystem.list(dir + "/missing").isEmpty)
        do {
            _ = try FileSystem.readAll(dir + "/missing")
            Issue.record("read a missing file")
        } catch {
            #expect(error.operation == "open")
            #expect(error.description == "open \(dir)/missing: errno \(ENOENT)")
        }
        do {
            try FileSystem.writeAtomically(dir + "/no/such/dir/file", [1], mode: 0o600)
            Issue.record("wrote into a missing directory")
        } catch {
            #expect(error.operation == "create")
        }
    }

    @Test func writeToDescriptor() throws {
        var fds: [Int32] = [0, 0]
        #expect(pipe(&fds) == 0)
        defer { close(fds[0]) }
        #expect(FileSystem.write(fd: fds[1], Array("through a pipe".utf8)))
        close(fds[1])
        let got = try #require(FileSystem.read(fd: fds[0], limit: 1 << 20))
        #expect(got.complete && got.bytes == Array("through a pipe".utf8))
    }
}

@Suite struct BlockingTests {
    struct Refused: Error {}

    @Test func resultsAndErrorsCrossTheBridge() async throws {
        #expect(await Blocking.run { 6 * 7 } == 42)
        await #expect(throws: Refused.self) { try await Blocking.run { () throws(Refused) -> Int in throw Refused() } }
    }
}
