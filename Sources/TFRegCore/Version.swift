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
        let s = String(text)
        guard !s.isEmpty, s.utf8.count <= 128 else { throw Self.invalid }
        var core = Substring(s)
        var build: [String] = []
        if let plus = core.firstIndex(of: "+") {
            let parts = core[core.index(after: plus)...].split(separator: ".", omittingEmptySubsequences: false)
            guard !parts.isEmpty else { throw Self.invalid }
            for p in parts {
                guard !p.isEmpty, p.utf8.allSatisfy(Self.isIdentChar) else { throw Self.invalid }
                build.append(String(p))
            }
            core = core[..<plus]
        }
        var pre: [Identifier] = []
        if let dash = core.firstIndex(of: "-") {
            let parts = core[core.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false)
            for p in parts {
                guard !p.isEmpty, p.utf8.allSatisfy(Self.isIdentChar) else { throw Self.invalid }
                if p.utf8.allSatisfy(ASCII.isDigit) {
                    guard p == "0" || p.first != "0", let n = UInt64(p) else { throw Self.invalid }
                    pre.append(.numeric(n))
                } else {
                    pre.append(.alphanumeric(String(p)))
                }
            }
            core = core[..<dash]
        }
        let nums = core.split(separator: ".", omittingEmptySubsequences: false)
        guard nums.count == 3 else { throw Self.invalid }
        var values: [UInt64] = []
        for n in nums {
            guard !n.isEmpty, n.utf8.allSatisfy(ASCII.isDigit), n == "0" || n.first != "0",
                let v = UInt64(n)
            else { throw Self.invalid }
            values.append(v)
        }
        (major, minor, patch) = (values[0], values[1], values[2])
        prerelease = pre
        self.build = build
        description = s
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
