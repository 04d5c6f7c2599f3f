import Foundation
import TFRegCore
import TFRegTesting
import Testing

@testable import TFRegArchive

/// Issue "Trust III", finding 1: an archive's implied directories are counted against the entry limit
/// while they are recorded, so a small upload that implies millions of them is refused after work
/// bounded by the limit (the review's 222 KB upload took 2.2 GiB and 30 s of CPU before its 400).
@Suite struct ImpliedDirectoryAmplificationTests {
    /// `cNNNNN/` + 62 levels of `xxxxxxxxxxxxxxx/` + `a.tf`: 64 components, 63 implied directories each.
    static func chain(_ i: Int) -> [[UInt8]] {
        let head = Array("c\(String(100_000 + i).dropFirst())".utf8)
        return [head] + Array(repeating: Array("xxxxxxxxxxxxxxx".utf8), count: 62) + [Array("a.tf".utf8)]
    }

    static func file(_ components: [[UInt8]]) -> ReadEntry {
        ReadEntry(components: components, kind: .file(offset: 0, size: 0, executable: false))
    }

    @Test func impliedDirectoriesAreCountedWhileTheyAreRecorded() throws {
        // 2 000 entries, 126 000 implied directories, limit 2 000.
        let entries = (0..<2_000).map { Self.file(Self.chain($0)) }
        var recorded = 0
        let error = #expect(throws: ArchiveError.self) {
            try ArchiveCanonicalization.plan(entries, limits: ArchiveLimits(maximumEntries: 2_000), pathsRecorded: &recorded)
        }
        #expect(error?.message.contains("more than 2000 entries") == true, "\(String(describing: error))")
        #expect(recorded <= 2_001, "recorded \(recorded) paths before refusing")
    }

    /// The review's upload: 20 000 pax entries, one deep chain each (222 KB gzipped there, about
    /// 320 KB with these headers). Refused after recording at most the limit's 20 000 paths, where the
    /// old plan materialised 1.26 M implied directories first.
    @Test func twentyThousandDeepChainsAreRefusedAfterBoundedWork() throws {
        let a = try HostilePayloadTests.StreamingArchive()
        for i in 0..<20_000 {
            let path = Self.chain(i).map { String(decoding: $0, as: UTF8.self) }.joined(separator: "/")
            try a.add(Raw.pax([("path", path)]) + Raw.header("placeholder"))
        }
        try a.add(Raw.end)
        let upload = try a.finish()
        #expect(upload.count < 400_000, "\(upload.count) bytes")
        let gz = try GzipReader(source: MemoryByteSource(upload), maximumOutput: ArchiveLimits().maximumExpandedBytes)
        let reader = StrictTarReader(gzip: gz, limits: ArchiveLimits(), spool: MemorySpool())
        try reader.readAll()
        #expect(reader.entries.count == 20_000)
        var recorded = 0
        let error = #expect(throws: ArchiveError.self) {
            try ArchiveCanonicalization.plan(reader.entries, limits: ArchiveLimits(), pathsRecorded: &recorded)
        }
        // The server answers this message with a 400 (`TarGzCanonicalizer`, as in
        // `thirtyThousandEntriesInSecondMember`).
        #expect(error?.message.contains("more than 20000 entries") == true, "\(String(describing: error))")
        #expect(recorded <= 20_001, "recorded \(recorded) paths before refusing")
    }

    @Test func anArchiveAtTheLimitIsStillAccepted() throws {
        // 1 entry + 63 implied directories = 64 paths: accepted at a limit of 64, refused at 63.
        let entries = [Self.file(Self.chain(0))]
        var recorded = 0
        let planned = try ArchiveCanonicalization.plan(entries, limits: ArchiveLimits(maximumEntries: 64), pathsRecorded: &recorded)
        #expect(planned.count == 64 && recorded == 64)
        #expect(throws: ArchiveError.self) {
            try ArchiveCanonicalization.plan(entries, limits: ArchiveLimits(maximumEntries: 63))
        }
    }
}

/// Finding 3: names that a case-insensitive file system (APFS, NTFS) folds together but `lowercased()`
/// does not. Non-ASCII characters that change under Unicode case folding are refused, so the names
/// that remain fold by ASCII lowercasing alone.
@Suite struct CaseFoldTests {
    static func archive(_ tar: [UInt8]) -> [UInt8] { Raw.gz(Raw.main + tar + Raw.end) }

    static func refusal(_ tar: [UInt8]) -> String? {
        do {
            _ = try ArchiveCanonicalization.canonicalize(bytes: archive(tar))
            return nil
        } catch {
            return error.message
        }
    }

    /// (refused, its case fold, the code point named in the refusal).
    static let pairs: [(String, String, String)] = [
        ("\u{3c2}", "\u{3c3}", "U+03C2"),  // ς σ
        ("\u{b5}", "\u{3bc}", "U+00B5"),  // µ μ
        ("\u{17f}", "s", "U+017F"),  // ſ s
        ("\u{df}", "ss", "U+00DF"),  // ß ss
        ("\u{fb00}", "ff", "U+FB00"),  // ﬀ ff
        ("\u{3a3}", "\u{3c3}", "U+03A3"),  // Σ σ
        ("\u{212a}", "k", "U+212A"),  // Kelvin sign
    ]

    @Test(arguments: 0..<CaseFoldTests.pairs.count)
    func foldedPairsCannotBothAppear(_ i: Int) throws {
        let (name, folded, code) = Self.pairs[i]
        let both = Self.refusal(Raw.file("x\(name).tf") + Raw.file("x\(folded).tf"))
        #expect(both != nil, "x\(name).tf and x\(folded).tf were both accepted")
        let alone = Self.refusal(Raw.file("d\(name)/x.tf"))
        #expect(alone?.contains(code) == true, "\(code): \(alone ?? "accepted")")
        // The folded spelling alone is an ordinary name.
        #expect(Self.refusal(Raw.file("d\(folded)/x.tf")) == nil)
    }

    @Test func symlinkTargetsAreCheckedToo() {
        let r = Self.refusal(Raw.file("\u{3c3}/x.tf") + Raw.header("l", type: "2", link: "\u{3c2}/x.tf"))
        #expect(r?.contains("U+03C2") == true, "\(r ?? "accepted")")
    }

    /// The served exploit: on a case-insensitive file system `ς` is `σ`, so `σ/µ` passes through the
    /// link `ς`, and `σ/μ` through the link `σ/µ`: PWNED.tf lands four levels above the module.
    @Test func theExploitLayoutIsRefused() {
        let tar =
            Raw.header("d1/d2/d3/\u{3c2}", type: "2", link: "../../..")
            + Raw.header("d1/d2/d3/\u{3c3}/\u{b5}", type: "2", link: "../../../..")
            + Raw.file("d1/d2/d3/\u{3c3}/\u{3bc}/PWNED.tf")
        let r = Self.refusal(tar)
        #expect(r != nil, "accepted")
    }

    @Test func lowercaseNonASCIIAndNormalizationStillWork() throws {
        // Lowercase Greek and accented names are accepted; NFC and NFD spellings of one name collide.
        #expect(Self.refusal(Raw.file("\u{3c3}/\u{3bc}.tf") + Raw.file("caf\u{e9}.tf")) == nil)
        let nfd = Self.refusal(Raw.file("caf\u{e9}.tf") + Raw.file("cafe\u{301}.tf"))
        #expect(nfd?.contains("Unicode normalization") == true, "\(nfd ?? "accepted")")
        // An ASCII capital with a combining mark folds to the precomposed lowercase letter.
        let combined = Self.refusal(Raw.file("\u{e5}.tf") + Raw.file("A\u{30a}.tf"))
        #expect(combined?.contains("letter case") == true, "\(combined ?? "accepted")")
    }
}

/// Finding 10 (archive parts): symlinks are written with mode 0755, not 0777; links to their own
/// directory, to one of its ancestors or to the module root (loops for anything that follows links)
/// are refused.
@Suite final class SymlinkModeAndLoopTests {
    let dir = TemporaryDirectory()
    deinit { dir.remove() }

    @Test func symlinksAreWrittenWithMode0755() throws {
        let first = try ArchiveCanonicalization.canonicalize(
            bytes: Raw.gz(Raw.main + Raw.header("sub/l", type: "2", link: "../main.tf", mode: "0000777") + Raw.end)
        )
        let path = dir.path + "/links.tar.gz"
        writeFile(path, first.archive)
        #expect(Consumers.pythonListing(path)?.contains("sub/l|2|../main.tf|0|755") == true, "\(String(describing: Consumers.pythonListing(path)))")
        // The canonical form is a fixed point.
        let second = try ArchiveCanonicalization.canonicalize(bytes: first.archive)
        #expect(second.archive == first.archive && second.entries == first.entries)
    }

    static let loops: [(String, String)] = [
        ("l", "."),
        ("a/b/l", "../.."),
        ("a/b/l", ".."),
        ("a/b/l", "."),
        ("a/b/l", "../../a"),
        ("modules/root", ".."),
        ("A/b/l", "../../a"),
    ]

    @Test(arguments: 0..<SymlinkModeAndLoopTests.loops.count)
    func linksToTheirOwnDirectoryOrAnAncestorAreRefused(_ i: Int) {
        let (link, target) = Self.loops[i]
        let r = CaseFoldTests.refusal(Raw.header(link, type: "2", link: target))
        #expect(r?.contains("loop") == true, "\(link) -> \(target): \(r ?? "accepted")")
    }

    @Test func twoLinksThatPointAtEachOthersDirectoriesAreRefused() {
        let r = CaseFoldTests.refusal(
            Raw.file("a/x.tf") + Raw.file("b/y.tf") + Raw.header("a/l", type: "2", link: "../b")
                + Raw.header("b/m", type: "2", link: "../a")
        )
        #expect(r?.contains("loop") == true, "\(r ?? "accepted")")
    }

    @Test func linksToSiblingsAndFilesAreAccepted() throws {
        let tar =
            Raw.file("a/x.tf") + Raw.file("b/y.tf") + Raw.header("a/l", type: "2", link: "../b")
            + Raw.header("a/f.tf", type: "2", link: "../main.tf") + Raw.header("a/s", type: "2", link: "x.tf")
        #expect(CaseFoldTests.refusal(tar) == nil)
    }
}

/// The invisible and bidi-control set is one class (TFRegSystem) for archive paths and deprecation
/// reasons: the isolates U+2066–2069 and other format characters were missing from the path check.
@Suite struct InvisibleCharacterPathTests {
    @Test(arguments: ["\u{2066}", "\u{2067}", "\u{2068}", "\u{2069}", "\u{ad}", "\u{61c}", "\u{2060}", "\u{e0001}"])
    func formatCharactersInNamesAreRefused(_ c: String) {
        let r = CaseFoldTests.refusal(Raw.file("x\(c)y.tf"))
        #expect(r?.contains("invisible") == true, "\(r ?? "accepted")")
    }
}
