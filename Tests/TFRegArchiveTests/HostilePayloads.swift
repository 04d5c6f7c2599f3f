@testable import TFRegArchive

/// The hostile review's payloads (issue "Trust I", items 1-3) and their neighbours, each small enough
/// for the fuzzer's seed corpus (`Fuzz/archive/corpus/<name>.tar.gz`).
struct Payload: Sendable {
    enum Outcome: Sendable {
        /// Refused; the reason contains this text.
        case refused(String)
        /// Accepted, with the canonical entries listed as `tar -t` names.
        case accepted([String])
    }
    let name: String
    let bytes: [UInt8]
    let outcome: Outcome
}

enum HostilePayloads {
    static let all: [Payload] = build()
    static var names: [String] { all.map(\.name) }
    static func named(_ name: String) -> Payload {
        all.first { $0.name == name } ?? Payload(name: name, bytes: [], outcome: .refused("?"))
    }

    private static func build() -> [Payload] {
        typealias R = Raw
        var p: [Payload] = []
        func add(_ name: String, _ bytes: [UInt8], _ outcome: Payload.Outcome) {
            p.append(Payload(name: name, bytes: bytes, outcome: outcome))
        }

        // 1. A second gzip member carries the evil entries.
        let evil =
            R.file("../../../x.tf") + R.header("passwd", type: "2", link: "/etc/passwd") + R.header("dev", type: "3")
            + R.end
        add("multi-member-evil", R.gz(R.main + R.end) + R.gz(evil), .refused("data after its end-of-archive marker"))
        add("multi-member-evil-continued", R.gz(R.main) + R.gz(evil), .refused("leaves the module"))
        add(
            "multi-member-symlink-only",
            R.gz(R.main + R.end) + R.gz(R.header("passwd", type: "2", link: "/etc/passwd") + R.end),
            .refused("data after its end-of-archive marker")
        )
        add("multi-member-benign", R.gz(R.main) + R.gz(R.file("b.tf") + R.end), .accepted(["b.tf", "main.tf"]))
        // Many entries in a second member (the full 30 002-entry case is in the tests; this one uses a
        // smaller limit in the fuzzer, 2 000).
        var many: [UInt8] = []
        for i in 0..<2_100 { many += R.header("f\(i).tf") }
        add("multi-member-many-entries", R.gz(R.main) + R.gz(many + R.end), .refused("entries"))
        // Trust III, finding 1: 2 000 entries 64 levels deep imply 126 000 directories; refused after
        // recording at most the fuzzer's limit of 2 000 paths (the full 20 000-entry case is in the tests).
        var chains: [UInt8] = []
        for i in 0..<2_000 {
            let path = "c\(String(100_000 + i).dropFirst())/" + String(repeating: "xxxxxxxxxxxxxxx/", count: 62) + "a.tf"
            chains += R.pax([("path", path)]) + R.header("placeholder")
        }
        add("implied-directory-amplification", R.gz(chains + R.end), .refused("more than 2000 entries"))

        // gzip framing.
        let good = R.gz(R.main + R.end)
        add("trailing-garbage", good + Array("GARBAGE".utf8), .refused("data after its last gzip member"))
        add("trailing-zeros", good + [0, 0, 0, 0], .refused("data after its last gzip member"))
        add("truncated-trailer", Array(good.dropLast(4)), .refused("truncated"))
        add("truncated-half", Array(good.prefix(good.count / 2)), .refused("truncated"))
        var badCRC = good
        badCRC[badCRC.count - 8] ^= 0x01
        add("bad-crc", badCRC, .refused("CRC-32"))
        var badSize = good
        badSize[badSize.count - 4] ^= 0x01
        add("bad-isize", badSize, .refused("ISIZE"))
        add("not-gzip", Array("just some text, not gzip".utf8), .refused("not gzip"))
        add("plain-tar", R.main + R.end, .refused("not gzip"))

        // 2. Arithmetic that used to trap.
        let base256: [UInt8] = [0x80, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff]
        add(
            "base256-size-overflow",
            R.gz(R.main + R.header("big.tf", sizeField: base256) + R.end),
            .refused("expand to more than")
        )
        add(
            "base256-size-too-large",
            R.gz(R.main + R.header("big.tf", sizeField: [0x80] + [UInt8](repeating: 0xff, count: 11)) + R.end),
            .refused("too large")
        )
        add(
            "base256-negative",
            R.gz(R.main + R.header("big.tf", sizeField: [0xff] + [UInt8](repeating: 0xff, count: 11)) + R.end),
            .refused("negative")
        )
        let paxOverflow = Array("8 a=bcd\n".utf8) + Array("9223372036854775807 x=y\n".utf8)
        add(
            "pax-length-overflow",
            R.gz(R.header("././@PaxHeader", type: "x", size: paxOverflow.count) + R.data(paxOverflow) + R.main + R.end),
            .refused("length exceeds")
        )
        let paxHuge = Array("99999999999999999999999 x=y\n".utf8)
        add(
            "pax-length-huge",
            R.gz(R.header("././@PaxHeader", type: "x", size: paxHuge.count) + R.data(paxHuge) + R.main + R.end),
            .refused("length exceeds")
        )
        add(
            "octal-size-garbage",
            R.gz(R.header("x.tf", sizeField: Array("0000000001x\u{0}".utf8)) + R.data([65]) + R.end),
            .refused("not an octal number")
        )

        // 3. Headers read differently by different readers.
        let gnuPrefix =
            R.headerBytes(Array("c".utf8), type: UInt8(ascii: "5"), magic: .gnu, patches: [(345, Array("a/b".utf8))])
            + R.headerBytes(
                Array("l".utf8),
                type: UInt8(ascii: "2"),
                link: Array("../../..".utf8),
                magic: .gnu,
                patches: [(345, Array("a/b/c".utf8))]
            )
        add("gnu-prefix-in-atime", R.gz(R.main + gnuPrefix + R.end), .refused("atime/ctime"))
        add(
            "gnu-numeric-atime-ctime",
            R.gz(
                R.main
                    + R.header(
                        "t.tf",
                        magic: .gnu,
                        patches: [(345, Array("14712345671\u{0}".utf8)), (357, Array("14712345671\u{0}".utf8))]
                    ) + R.end
            ),
            .refused("atime/ctime")
        )
        add(
            "gnu-offset-field-path",
            R.gz(R.main + R.header("t.tf", magic: .gnu, patches: [(369, Array("/a/b".utf8))]) + R.end),
            .refused("atime/ctime")
        )
        add(
            "gnu-plain-accepted",
            R.gz(R.file("main.tf", magic: .gnu) + R.header("d/", type: "5", magic: .gnu) + R.end),
            .accepted(["d/", "main.tf"])
        )
        add(
            "star-prefix",
            R.gz(R.main + R.header("t.tf", magic: .star, patches: [(345, Array("a".utf8))]) + R.end),
            .refused("padding")
        )
        add("v7-header", R.gz(R.header("main.tf", magic: .none) + R.end), .refused("neither POSIX ustar nor GNU"))
        // GNU sparse pax keys rename the entry for GNU tar, Python and Go.
        add(
            "pax-gnu-sparse-name-0.0",
            R.gz(
                R.main
                    + R.pax([
                        ("GNU.sparse.size", "1"), ("GNU.sparse.numblocks", "1"), ("GNU.sparse.offset", "0"),
                        ("GNU.sparse.numbytes", "1"), ("GNU.sparse.name", "../../../x.tf"),
                    ]) + R.file("harmless.tf", "x") + R.end
            ),
            .refused("GNU sparse")
        )
        add(
            "pax-gnu-sparse-name-1.0",
            R.gz(
                R.main
                    + R.pax([
                        ("GNU.sparse.major", "1"), ("GNU.sparse.minor", "0"), ("GNU.sparse.name", "../../../x.tf"),
                        ("GNU.sparse.realsize", "1"),
                    ]) + R.file("harmless.tf", "x") + R.end
            ),
            .refused("GNU sparse")
        )
        add(
            "pax-path-dotdot",
            R.gz(R.main + R.pax([("path", "../../x.tf")]) + R.file("ok.tf") + R.end),
            .refused("leaves the module")
        )
        add(
            "pax-unknown-key",
            R.gz(R.main + R.pax([("SUN.holesdata", "0 1")]) + R.file("ok.tf") + R.end),
            .refused("unsupported key")
        )
        add(
            "pax-duplicate-key",
            R.gz(R.main + R.pax([("path", "a.tf"), ("path", "b.tf")]) + R.file("ok.tf") + R.end),
            .refused("repeats")
        )
        add(
            "pax-global-path",
            R.gz(R.pax([("path", "../x.tf")], type: "g") + R.main + R.end),
            .refused("global pax header")
        )
        add(
            "pax-global-comment",
            R.gz(R.pax([("comment", "0123456789abcdef")], type: "g") + R.main + R.end),
            .accepted(["main.tf"])
        )
        add("pax-then-end", R.gz(R.main + R.pax([("path", "a.tf")]) + R.end), .refused("not followed by an entry"))
        let longName = String(repeating: "n", count: 150) + ".tf"
        add(
            "pax-long-path-accepted",
            R.gz(R.main + R.pax([("path", "dir/" + longName)]) + R.file("ignored") + R.end),
            .accepted(["dir/", "dir/" + longName, "main.tf"])
        )
        add(
            "gnu-longname-dotdot",
            R.gz(
                R.main + R.header("././@LongLink", type: "L", size: 9, magic: .gnu)
                    + R.data(Array("../x.tf\u{0}\u{0}".utf8)) + R.file("ok.tf", magic: .gnu) + R.end
            ),
            .refused("leaves the module")
        )
        add(
            "gnu-longname-and-pax",
            R.gz(
                R.pax([("path", "a.tf")]) + R.header("././@LongLink", type: "L", size: 5, magic: .gnu)
                    + R.data(Array("b.tf\u{0}".utf8)) + R.file("ok.tf", magic: .gnu) + R.end
            ),
            .refused("mixes pax and GNU long-name headers")
        )
        add(
            "gnu-sparse-type",
            R.gz(R.main + R.header("s.tf", type: "S", magic: .gnu) + R.end),
            .refused("GNU sparse file")
        )
        add("gnu-multivolume", R.gz(R.main + R.header("m.tf", type: "M", magic: .gnu) + R.end), .refused("multivolume"))

        // Symlinks.
        add(
            "symlink-chain",
            R.gz(
                R.main + R.header("a/b/c/l", type: "2", link: "../../..")
                    + R.header("a/b/c/l/esc", type: "2", link: "../../..") + R.file("a/b/c/l/esc/x.tf") + R.end
            ),
            .refused("passes through the symlink")
        )
        add(
            "symlink-to-symlink",
            R.gz(R.main + R.header("l1", type: "2", link: "l2") + R.header("l2", type: "2", link: "main.tf") + R.end),
            .refused("links to links")
        )
        add(
            "symlink-through-symlink",
            R.gz(
                R.main + R.header("d", type: "2", link: "sub") + R.header("sub/x.tf")
                    + R.header("l", type: "2", link: "d/x.tf") + R.end
            ),
            .refused("points through the symlink")
        )
        add(
            "symlink-absolute",
            R.gz(R.main + R.header("passwd", type: "2", link: "/etc/passwd") + R.end),
            .refused("absolute")
        )
        add(
            "symlink-escape",
            R.gz(R.main + R.header("sub/l", type: "2", link: "../../etc") + R.end),
            .refused("outside the module")
        )
        add(
            "symlink-case-through",
            R.gz(R.main + R.header("L", type: "2", link: "sub") + R.header("sub/x.tf") + R.header("l/y.tf") + R.end),
            .refused("letter case")
        )
        // macOS merges canonically equivalent names (NFC "s\u{e9}" and NFD "se\u{301}"): through the first
        // link, the second lands at the root and its "../x" would leave the module.
        add(
            "symlink-unicode-alias",
            R.gz(
                R.main + R.header("s\u{e9}", type: "2", link: ".") + R.header("se\u{301}/l", type: "2", link: "../x")
                    + R.end
            ),
            .refused("Unicode normalization")
        )
        add(
            "symlink-windows-alias",
            R.gz(R.main + R.header("s.", type: "2", link: ".") + R.header("s/l", type: "2", link: "../x") + R.end),
            .refused("ending in '.'")
        )
        add("zero-width-name", R.gz(R.main + R.file("main\u{200c}.tf") + R.end), .refused("invisible"))
        add("bidi-name", R.gz(R.main + R.file("x\u{202e}ft.sh") + R.end), .refused("bidirectional"))
        add("c1-control-name", R.gz(R.main + R.file("x\u{9b}2J.tf") + R.end), .refused("control character"))
        add(
            "unicode-name-accepted",
            R.gz(R.main + R.file("caf\u{e9}/na\u{ef}ve.tf") + R.end),
            .accepted(["caf\u{e9}/", "caf\u{e9}/na\u{ef}ve.tf", "main.tf"])
        )
        add(
            "symlink-normalized",
            R.gz(
                R.main + R.header("modules/a/link.tf", type: "2", link: "./../..//main.tf")
                    + R.header("modules/b", type: "2", link: "./a/..//../modules/a") + R.end
            ),
            .accepted(["main.tf", "modules/", "modules/a/", "modules/a/link.tf", "modules/b"])
        )
        // Trust III, finding 10: links to their own directory or an ancestor are loops.
        add("symlink-loop-root", R.gz(R.main + R.header("modules/root", type: "2", link: "..") + R.end), .refused("loop"))
        add("symlink-loop-self", R.gz(R.main + R.header("l", type: "2", link: ".") + R.end), .refused("loop"))
        add(
            "symlink-loop-pair",
            R.gz(
                R.main + R.file("a/x.tf") + R.file("b/y.tf") + R.header("a/l", type: "2", link: "../b")
                    + R.header("b/m", type: "2", link: "../a") + R.end
            ),
            .refused("loop")
        )
        // Trust III, finding 3: APFS and NTFS fold ς to σ and µ to μ; lowercased() does not.
        add(
            "case-fold-final-sigma",
            R.gz(
                R.main + R.header("d1/d2/d3/\u{3c2}", type: "2", link: "../../..")
                    + R.header("d1/d2/d3/\u{3c3}/\u{b5}", type: "2", link: "../../../..")
                    + R.file("d1/d2/d3/\u{3c3}/\u{3bc}/PWNED.tf") + R.end
            ),
            .refused("U+03C2")
        )
        add("case-fold-sharp-s", R.gz(R.main + R.file("stra\u{df}e.tf") + R.file("strasse.tf") + R.end), .refused("U+00DF"))
        add("bidi-isolate-name", R.gz(R.main + R.file("x\u{2067}ft.sh") + R.end), .refused("invisible"))

        // End of archive.
        add(
            "lone-zero-block-then-entries",
            R.gz(R.main + [UInt8](repeating: 0, count: 512) + R.file("../evil.tf") + R.end),
            .refused("data after its end-of-archive marker")
        )
        add(
            "data-after-end",
            R.gz(R.main + R.end + R.file("late.tf") + R.end),
            .refused("data after its end-of-archive marker")
        )
        add("no-end-marker", R.gz(R.main), .refused("without an end-of-archive marker"))
        add("partial-block", R.gz(R.main + R.end + [0, 0, 0]), .refused("middle of a block"))
        add("end-padded-to-record", R.gz(R.main + [UInt8](repeating: 0, count: 10240 - 1024)), .accepted(["main.tf"]))

        // Paths and kinds.
        add("absolute-path", R.gz(R.main + R.file("/etc/cron.d/x") + R.end), .refused("absolute path"))
        add("dotdot-path", R.gz(R.main + R.file("a/../../b.tf") + R.end), .refused("leaves the module"))
        add("backslash-path", R.gz(R.main + R.file("..\\x.tf") + R.end), .refused("backslash"))
        add("control-char-path", R.gz(R.main + R.file("a\u{1b}[2J.tf") + R.end), .refused("control character"))
        add(
            "invalid-utf8-path",
            R.gz(R.main + R.headerBytes([0x61, 0xff, 0x2e, 0x74, 0x66], type: UInt8(ascii: "0")) + R.end),
            .refused("UTF-8")
        )
        add("device-char", R.gz(R.main + R.header("dev", type: "3") + R.end), .refused("device"))
        add("device-block", R.gz(R.main + R.header("dev", type: "4") + R.end), .refused("device"))
        add("fifo", R.gz(R.main + R.header("fifo", type: "6") + R.end), .refused("FIFO"))
        add(
            "hardlink-outside",
            R.gz(R.main + R.header("h", type: "1", link: "../../etc/shadow") + R.end),
            .refused("hard link")
        )
        add(
            "hardlink-inside",
            R.gz(R.main + R.header("h.tf", type: "1", link: "main.tf") + R.end),
            .refused("hard link")
        )
        add("duplicate-entry", R.gz(R.main + R.file("main.tf", "evil") + R.end), .refused("more than once"))
        add("duplicate-by-case", R.gz(R.main + R.file("MAIN.tf", "evil") + R.end), .refused("letter case"))
        add("file-under-file", R.gz(R.main + R.file("main.tf/x.tf") + R.end), .refused("which is a file"))
        add("file-with-slash", R.gz(R.main + R.file("x.tf/") + R.end), .refused("ends with '/'"))
        add(
            "directory-with-data",
            R.gz(R.main + R.header("d/", type: "5", size: 1) + R.data([1]) + R.end),
            .refused("has data")
        )
        add("regular-with-link", R.gz(R.main + R.header("x.tf", link: "main.tf") + R.end), .refused("link target"))
        add(
            "bad-checksum",
            R.gz(
                {
                    var t = R.main + R.end
                    t[0] = UInt8(ascii: "x")
                    return t
                }()
            ),
            .refused("checksum")
        )
        add(
            "root-dir-and-dot-paths",
            R.gz(R.header("./", type: "5") + R.file("./main.tf") + R.file(".//sub/./x.tf") + R.end),
            .accepted(["main.tf", "sub/", "sub/x.tf"])
        )
        add(
            "unsorted-implied-dirs",
            R.gz(R.file("z/y/x.tf") + R.main + R.header("a/", type: "5") + R.end),
            .accepted(["a/", "main.tf", "z/", "z/y/", "z/y/x.tf"])
        )
        add(
            "executable-modes",
            R.gz(R.header("run.sh", size: 3, mode: "0104750") + R.data(Array("#!\n".utf8)) + R.main + R.end),
            .accepted(["main.tf", "run.sh"])
        )
        return p
    }
}
