import TFRegSystem
import Testing

@testable import TFRegCore

/// `Version.init` parses UTF-8 bytes (issue 17: the Character search it replaced ran grapheme
/// breaking on every download request). The Character parser it replaced is the oracle: on
/// generated texts over an alphabet of separators, digits, leading zeros, UInt64's edge, letters
/// and non-ASCII (a combining mark after a separator, é, CRLF, a space), both accept the same texts
/// and give the same parts.
@Suite struct VersionParserOracleTests {
    struct Parts: Equatable {
        var major, minor, patch: UInt64
        var prerelease: [Version.Identifier]
        var build: [String]
    }

    /// The parser as it was (Characters, Substring splits).
    static func oracle(_ s: String) -> Parts? {
        guard !s.isEmpty, s.utf8.count <= 128 else { return nil }
        let ident = { (c: UInt8) in ASCII.isAlnum(c) || c == UInt8(ascii: "-") }
        var core = Substring(s)
        var build: [String] = []
        if let plus = core.firstIndex(of: "+") {
            for p in core[core.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false) {
                guard !p.isEmpty, p.utf8.allSatisfy(ident) else { return nil }
                build.append(String(p))
            }
            core = core[..<plus]
        }
        var pre: [Version.Identifier] = []
        if let dash = core.firstIndex(of: "-") {
            for p in core[core.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false) {
                guard !p.isEmpty, p.utf8.allSatisfy(ident) else { return nil }
                if p.utf8.allSatisfy(ASCII.isDigit) {
                    guard p == "0" || p.first != "0", let n = UInt64(p) else { return nil }
                    pre.append(.numeric(n))
                } else {
                    pre.append(.alphanumeric(String(p)))
                }
            }
            core = core[..<dash]
        }
        let nums = core.split(separator: ".", omittingEmptySubsequences: false)
        guard nums.count == 3 else { return nil }
        var values: [UInt64] = []
        for n in nums {
            guard !n.isEmpty, n.utf8.allSatisfy(ASCII.isDigit), n == "0" || n.first != "0", let v = UInt64(n) else { return nil }
            values.append(v)
        }
        return Parts(major: values[0], minor: values[1], patch: values[2], prerelease: pre, build: build)
    }

    static let alphabet = [
        "0", "1", "9", "00", "01", "10", ".", ".", ".", "-", "-", "+", "a", "Z", "rc", "x-y", "é", "\u{301}", " ", "\r\n", "\u{0}",
        "18446744073709551615", "18446744073709551616", "99999999999999999999",
    ]

    @Test func agreesWithTheCharacterParser() {
        var texts = [
            "1.2.3", "0.0.0", "1.2.3-rc.1", "1.2.3-rc.01", "1.2.3-0", "1.2.3-00", "1.2.3+b.1", "1.2.3-a.b+c.d", "1.2.3-+b", "1.2.3+",
            "1.2.3-", "1.2", "1.2.3.4", "01.2.3", "1.2.3-a..b", "1.2.3+.b", "1.2.3-\u{301}", "1.2.3+\u{301}", "1.2.3-.\u{301}a",
            "1.2.3+a.\u{301}", "18446744073709551615.0.0", "18446744073709551616.0.0", "1.2.3-18446744073709551616",
            String(repeating: "1", count: 129), "1.2.3-" + String(repeating: "a", count: 122), "1.2.3-" + String(repeating: "a", count: 123),
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 1...12, using: &rng)
            texts.append((0..<n).map { _ in Self.alphabet.randomElement(using: &rng)! }.joined())
            let base = ["1.2.3", "0.1.0", "10.20.30"].randomElement(using: &rng)!
            texts.append(base + (0..<Int.random(in: 0...5, using: &rng)).map { _ in Self.alphabet.randomElement(using: &rng)! }.joined())
        }
        var accepted = 0
        for text in texts {
            let got = try? Version(text)
            let want = Self.oracle(text)
            let parts = got.map { Parts(major: $0.major, minor: $0.minor, patch: $0.patch, prerelease: $0.prerelease, build: $0.build) }
            #expect(parts == want, "\(text.debugDescription)")
            if let got { #expect(got.description == text) }
            if want != nil { accepted += 1 }
        }
        // The generator reaches both sides.
        #expect(accepted > 1000 && accepted < texts.count - 1000)
    }
}
