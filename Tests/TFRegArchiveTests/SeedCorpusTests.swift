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

/// A small fuzz run inside the tests: seeded mutations of every payload's tar stream (then gzip'd, so
/// they get past the CRC) must never trap, and every accepted mutant must satisfy the fuzz properties.
@Suite struct SeededMutationTests {
    struct SplitMix: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    static func inflate(_ bytes: [UInt8]) -> [UInt8]? {
        guard let gz = try? GzipReader(source: MemoryByteSource(bytes), maximumOutput: 1 << 24) else { return nil }
        var out: [UInt8] = []
        while let chunk = try? gz.read(1 << 16), !chunk.isEmpty { out += chunk }
        return out.isEmpty ? nil : out
    }

    @Test func mutationsNeverTrapAndKeepTheProperties() throws {
        var rng = SplitMix(state: 0x7466_7265_67)
        let interesting: [UInt8] = [
            0, 0x80, 0xff, 0x7f, UInt8(ascii: "/"), UInt8(ascii: "."), UInt8(ascii: "0"), UInt8(ascii: "7"),
            UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "="),
        ]
        var accepted = 0
        var runs = 0
        for p in HostilePayloads.all {
            guard let tar = Self.inflate(p.bytes), tar.count < 1 << 20 else { continue }
            for _ in 0..<300 {
                var m = tar
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    let i = Int.random(in: 0..<m.count, using: &rng)
                    switch Int.random(in: 0..<4, using: &rng) {
                    case 0: m[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
                    case 1: m[i] = interesting[Int.random(in: 0..<interesting.count, using: &rng)]
                    case 2: m[i] = UInt8.random(in: 0...255, using: &rng)
                    default: m.removeSubrange(i..<min(m.count, i + 512))
                    }
                    if m.isEmpty { m = [0] }
                }
                // Fix the first header's checksum half the time, so mutations reach past it.
                if Bool.random(using: &rng), m.count >= 512 {
                    for j in 148..<156 { m[j] = 32 }
                    let sum = m[0..<512].reduce(0) { $0 + Int($1) }
                    let digits = Array(String(sum, radix: 8).utf8)
                    for (k, b) in ([UInt8](repeating: 48, count: max(0, 6 - digits.count)) + digits).prefix(6)
                        .enumerated()
                    { m[148 + k] = b }
                    m[154] = 0
                }
                let input = try Gzip.compress(m)
                runs += 1
                if let violation = ArchiveFuzzProperties.check(input) {
                    Issue.record("\(p.name) mutant: \(violation)")
                }
                if (try? ArchiveCanonicalization.canonicalize(bytes: input, limits: ArchiveFuzzProperties.limits))
                    != nil
                {
                    accepted += 1
                }
            }
        }
        #expect(runs > 15_000)
        #expect(accepted > 0, "\(accepted) of \(runs) mutants accepted")
    }
}
