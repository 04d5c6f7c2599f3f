import TFRegSystem

/// A semantic version (https://semver.org, 2.0.0), parsed strictly: `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`,
/// no leading zeros in numeric parts, no `v` prefix. At most 128 characters so it is safe as a key.
///
/// Ordering is SemVer precedence (§11): build metadata is ignored, a pre-release sorts before its release,
/// numeric identifiers compare numerically and sort before alphanumeric ones. Two versions that differ only
/// in build metadata have equal precedence; the registry treats them as the same release.
public struct Version: Sendable, Hashable, CustomStringConvertible, Comparable {
    public enum Identifier: Sendable, Hashable, Comparable {
        case numeric(UInt64)
        case alphanumeric(String)

        public static func < (a: Self, b: Self) -> Bool {
            switch (a, b) {
            case (.numeric(let x), .numeric(let y)): x < y
            case (.numeric, .alphanumeric): true
            case (.alphanumeric, .numeric): false
            case (.alphanumeric(let x), .alphanumeric(let y)): Array(x.utf8).lexicographicallyPrecedes(Array(y.utf8))
            }
        }
    }

    public let major: UInt64
    public let minor: UInt64
    public let patch: UInt64
    public let prerelease: [Identifier]
    public let build: [String]
    /// The exact text it was parsed from (canonical, since parsing is strict).
    public let description: String

    public init(_ text: some StringProtocol) throws(RegistryError) {
        var s = String(text)
        guard !s.isEmpty, s.utf8.count <= 128 else { throw Self.invalid }
        // On UTF-8 bytes: every character the grammar allows is ASCII, so a byte outside it is
        // refused wherever it stands (searching Characters ran grapheme breaking over the text: it
        // was 3.5 % of the instructions of a download request, which parses its path's version).
        guard let parts = s.withUTF8({ Self.parse($0) }) else { throw Self.invalid }
        (major, minor, patch, prerelease, build) = parts
        description = s
    }

    /// `MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD]`, or nil.
    private static func parse(
        _ b: UnsafeBufferPointer<UInt8>
    ) -> (UInt64, UInt64, UInt64, [Identifier], [String])? {
        let plus = b.firstIndex(of: UInt8(ascii: "+")) ?? b.endIndex
        var build: [String] = []
        if plus < b.endIndex {
            for part in b[(plus + 1)...].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                guard !part.isEmpty, part.allSatisfy(isIdentChar) else { return nil }
                build.append(String(decoding: part, as: UTF8.self))
            }
        }
        let dash = b[..<plus].firstIndex(of: UInt8(ascii: "-")) ?? plus
        var pre: [Identifier] = []
        if dash < plus {
            for part in b[(dash + 1)..<plus].split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false) {
                guard !part.isEmpty, part.allSatisfy(isIdentChar) else { return nil }
                if part.allSatisfy(ASCII.isDigit) {
                    guard let n = number(part) else { return nil }
                    pre.append(.numeric(n))
                } else {
                    pre.append(.alphanumeric(String(decoding: part, as: UTF8.self)))
                }
            }
        }
        let core = b[..<dash].split(separator: UInt8(ascii: "."), maxSplits: 3, omittingEmptySubsequences: false)
        guard core.count == 3, let major = number(core[0]), let minor = number(core[1]), let patch = number(core[2]) else { return nil }
        return (major, minor, patch, pre, build)
    }

    /// Decimal digits without a leading zero (except `0` itself) that fit in a UInt64.
    private static func number(_ digits: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard let first = digits.first, first != UInt8(ascii: "0") || digits.count == 1 else { return nil }
        var value: UInt64 = 0
        for d in digits {
            guard ASCII.isDigit(d) else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(d &- UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    private static let invalid = RegistryError.badRequest("invalid version: expected a semantic version such as 1.2.3 or 1.2.3-rc.1")

    private static func isIdentChar(_ c: UInt8) -> Bool { ASCII.isAlnum(c) || c == UInt8(ascii: "-") }

    public var isPrerelease: Bool { !prerelease.isEmpty }

    /// Precedence equality (build metadata ignored).
    /// The version without build metadata: equal for exactly the versions of the same precedence
    /// (SemVer 2.0.0 §10), so stores can keep it unique.
    public var precedenceKey: String {
        guard let plus = description.firstIndex(of: "+") else { return description }
        return String(description[..<plus])
    }

    public func hasSamePrecedence(as other: Version) -> Bool { !(self < other) && !(other < self) }

    public static func < (a: Version, b: Version) -> Bool {
        if a.major != b.major { return a.major < b.major }
        if a.minor != b.minor { return a.minor < b.minor }
        if a.patch != b.patch { return a.patch < b.patch }
        switch (a.prerelease.isEmpty, b.prerelease.isEmpty) {
        case (true, true): return false
        case (true, false): return false
        case (false, true): return true
        case (false, false): return a.prerelease.lexicographicallyPrecedes(b.prerelease)
        }
    }

    /// Hash/equality are on the exact text, so `1.0.0+a` and `1.0.0+b` are distinct values that compare equal in order.
    public static func == (a: Version, b: Version) -> Bool { a.description == b.description }
    public func hash(into h: inout Hasher) { h.combine(description) }
}
