import Foundation
import Testing
@testable import TFRegArchive

/// The hostile payloads are the archive fuzzer's seed corpus (`Fuzz/archive/corpus/`, one file each).
@Suite struct SeedCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fuzz/archive/corpus").path

    /// `TFREG_WRITE_CORPUS=1 swift test --filter SeedCorpusTests` rewrites the corpus from `HostilePayloads`.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["TFREG_WRITE_CORPUS"] != nil))
    func writeCorpus() throws {
        try FileManager.default.createDirectory(atPath: Self.corpus, withIntermediateDirectories: true)
        for p in HostilePayloads.all {
            #expect(p.bytes.count < 64 * 1024, "\(p.name)")
            writeFile(Self.corpus + "/\(p.name).tar.gz", p.bytes)
        }
    }

    /// Every committed seed satisfies the fuzzer's properties, and every payload has its seed.
    @Test func corpusSatisfiesTheFuzzProperties() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.corpus).sorted()
        #expect(Set(files) == Set(HostilePayloads.names.map { $0 + ".tar.gz" }))
        for f in files {
            let data = try #require(FileManager.default.contents(atPath: Self.corpus + "/" + f))
            #expect(data.count < 64 * 1024, "\(f)")
            #expect(ArchiveFuzzProperties.check(Array(data)) == nil, "\(f)")
        }
    }
}
