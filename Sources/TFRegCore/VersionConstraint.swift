import TFRegSystem

/// A Terraform version constraint (`>= 1.2.0, < 2.0.0`, `~> 1.2`, `= 1.0.0`, `1.0.0`): comma-separated
/// conditions that must all hold, as hashicorp/go-version reads them for `required_providers`. A
/// pre-release version matches only a condition naming it exactly (`= 1.0.0-rc.1`), as in Terraform.
public struct VersionConstraint: Sendable, CustomStringConvertible {
    enum Op: String, Sendable {
        case eq = "="
        case ne = "!="
        case gt = ">"
        case ge = ">="
        case lt = "<"
        case le = "<="
        case pessimistic = "~>"
    }

    struct Condition: Sendable {
        let op: Op
        let version: Version
        /// How many of MAJOR.MINOR.PATCH the text gave (`~> 1.2` is 2).
        let parts: Int
    }

    let conditions: [Condition]
    public let description: String

    public init(_ given: some StringProtocol) throws(RegistryError) {
        let text = String(given)
        guard text.utf8.count <= 256 else { throw .badRequest("the version constraint is longer than 256 characters") }
        var conditions: [Condition] = []
        for raw in text.split(separator: ",", omittingEmptySubsequences: false) {
            var s = Substring(raw.trimmingSpaces())
            var op = Op.eq
            for candidate in [Op.pessimistic, .ge, .le, .ne, .gt, .lt, .eq] where s.hasPrefix(candidate.rawValue) {
                op = candidate
                s = Substring(s.dropFirst(candidate.rawValue.count).trimmingSpaces())
                break
            }
            if s.hasPrefix("v") { s = s.dropFirst() }
            let core = s.prefix { $0 != "-" && $0 != "+" }
            let parts = core.split(separator: ".", omittingEmptySubsequences: false).count
            guard !s.isEmpty, (1...3).contains(parts) else {
                throw .badRequest("invalid version constraint '\(String(text.prefix(64)))': each condition is an operator and a version")
            }
            let padded = String(core) + String(repeating: ".0", count: 3 - parts) + String(s.dropFirst(core.count))
            let version: Version
            do { version = try Version(padded) } catch {
                throw .badRequest("invalid version constraint '\(String(text.prefix(64)))': \(raw.trimmingSpaces()) is not a version")
            }
            conditions.append(Condition(op: op, version: version, parts: parts))
        }
        self.conditions = conditions
        self.description = String(text)
    }

    /// Whether `v` satisfies every condition.
    public func allows(_ v: Version) -> Bool {
        if v.isPrerelease, !conditions.contains(where: { $0.op == .eq && $0.version.hasSamePrecedence(as: v) }) { return false }
        return conditions.allSatisfy { c in
            switch c.op {
            case .eq: v.hasSamePrecedence(as: c.version)
            case .ne: !v.hasSamePrecedence(as: c.version)
            case .gt: c.version < v
            case .ge: !(v < c.version)
            case .lt: v < c.version
            case .le: !(c.version < v)
            case .pessimistic: !(v < c.version) && v < Self.pessimisticBound(c)
            }
        }
    }

    /// `~> 1.2.3` → 1.3.0, `~> 1.2` → 2.0.0, `~> 1` → 2.0.0 (the last given part may grow).
    /// A part at UInt64.max has no next value: the bound is then the version itself, so the constraint
    /// allows nothing (never an overflow trap on a typed constraint).
    static func pessimisticBound(_ c: Condition) -> Version {
        let v = c.version
        let (part, overflow) = c.parts >= 3 ? v.minor.addingReportingOverflow(1) : v.major.addingReportingOverflow(1)
        guard !overflow else { return v }
        let bound = c.parts >= 3 ? "\(v.major).\(part).0" : "\(part).0.0"
        return (try? Version(bound)) ?? v
    }
}
