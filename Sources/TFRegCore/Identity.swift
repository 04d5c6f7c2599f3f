import TFRegCrypto
import TFRegSystem

/// Who a grant is for: an IAM principal ARN, or a static token. Validated against a strict grammar
/// before it reaches a store key.
///
/// A static token is written two ways: `token:NAME` names whichever token holds the name now (what
/// people type), and `token:NAME#ID` is one particular token, `ID` being the random id recorded when it
/// was created and never reused. Stores key a token's grants by the second form and authenticate a
/// token as it, so a grant never passes to a later token created under the same name. (Tokens created
/// by tfreg before ids existed, still found in a DynamoDB table, have no id and keep `token:NAME`.)
public struct Identity: Hashable, Sendable, Comparable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable { case iam, staticToken }
    public let value: String

    public init(_ value: some StringProtocol) throws(RegistryError) {
        let s = String(value)
        if Identity.isIAMARN(s) {
            self.value = Identity.normalizeARN(s)
        } else if Identity.isTokenIdentity(s) {
            self.value = s
        } else {
            throw .badRequest("invalid identity: expected an IAM ARN (arn:aws:iam::123456789012:role/NAME) or token:NAME")
        }
    }

    /// The principal an ARN stands for, in one canonical form, so a grant and a caller compare equal:
    /// - `arn:P:sts::ACCT:assumed-role/NAME/SESSION` → `arn:P:iam::ACCT:role/NAME` (the session name is
    ///   chosen by the caller and never part of the identity);
    /// - roles and users drop their path (`role/aws-reserved/sso.amazonaws.com/REGION/NAME` →
    ///   `role/NAME`): an assumed-role ARN never carries the path, and names are unique per account;
    ///   Security decision: matching a role by account + name alone is safe because IAM role names are
    ///   unique within an account whatever their path (`CreateRole` refuses a second role of the same
    ///   name under another path), so `role/a/dev` and `role/b/dev` can never be two different roles.
    ///   Account and partition still have to match, the name exactly (case included), and a role never
    ///   matches a user of the same name;
    /// - anything else (federated users) is kept as it is.
    /// Unlike the tool tfreg replaces, nothing else is cut: IAM users and plain role ARNs keep their name.
    static func normalizeARN(_ arn: String) -> String {
        if isNormalizedARN(arn) { return arn }
        let parts = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return arn }
        let partition = parts[1]
        let service = parts[2]
        let account = parts[4]
        let resource = parts[5].split(separator: "/", omittingEmptySubsequences: false)
        if service == "sts", resource.count == 3, resource[0] == "assumed-role" {
            return "arn:\(partition):iam::\(account):role/\(resource[1])"
        }
        if service == "iam", resource.count >= 2, resource[0] == "role" || resource[0] == "user" {
            return "arn:\(partition):iam::\(account):\(resource[0])/\(resource.last!)"
        }
        return arn
    }

    /// `PARTITION:ACCOUNT` of an IAM principal (`aws:123456789012`), nil for static tokens: what
    /// per-account bounds count by (`MemoryReplayGuard`).
    public var awsAccount: String? {
        guard kind == .iam else { return nil }
        let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        return "\(parts[1]):\(parts[4])"
    }

    /// Whether `normalizeARN` would return `arn` unchanged because it is already `arn:P:iam::ACCT:role/NAME`
    /// or `…:user/NAME` (every sealed token's subject, on every request): on the UTF-8 bytes, where the
    /// general case splits Characters. ASCII only, so bytes and Characters split alike.
    static func isNormalizedARN(_ arn: String) -> Bool {
        var arn = arn
        return arn.withUTF8 { b -> Bool in
            guard b.allSatisfy({ $0 < 0x80 }) else { return false }
            let parts = b.split(separator: UInt8(ascii: ":"), maxSplits: 5, omittingEmptySubsequences: false)
            guard parts.count == 6, parts[0].elementsEqual("arn".utf8), parts[2].elementsEqual("iam".utf8), parts[3].isEmpty else { return false }
            let resource = parts[5].split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
            return resource.count == 2 && (resource[0].elementsEqual("role".utf8) || resource[0].elementsEqual("user".utf8))
        }
    }

    /// For an IAM role, the text every way of writing its ARN starts with, with or without a path
    /// (`arn:P:iam::ACCT:role/`); nil for users, federated principals and static tokens. A store that
    /// keeps grants under the ARN as it was written (the replaced tool's DynamoDB items) finds the path
    /// variants of a role's grant under this prefix and keeps those `matchesGrant(writtenAs:)` accepts.
    public var roleARNPrefix: String? {
        guard kind == .iam else { return nil }
        let parts = value.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6, parts[2] == "iam", parts[5].hasPrefix("role/") else { return nil }
        return "arn:\(parts[1]):iam::\(parts[4]):role/"
    }

    /// Whether a grant recorded under the ARN `written` (as an administrator or the replaced tool wrote
    /// it, possibly with a role path) is a grant for this principal: same partition, account, kind and
    /// name after normalization (see `normalizeARN` for why a path may be ignored).
    public func matchesGrant(writtenAs written: String) -> Bool {
        guard kind == .iam, Identity.isIAMARN(written) else { return false }
        return Identity.normalizeARN(written) == value
    }

    /// Whether an ARN as written names a role with a path (`arn:P:iam::ACCT:role/PATH/NAME`).
    public static func isRoleARNWithPath(_ written: String) -> Bool {
        guard isIAMARN(written) else { return false }
        let parts = written.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        return parts[2] == "iam" && parts[5].hasPrefix("role/") && parts[5].split(separator: "/").count > 2
    }

    /// The identity of a named static token (whichever token holds the name).
    public static func token(named name: some StringProtocol) throws(RegistryError) -> Identity {
        try Identity("token:\(name)")
    }

    /// One particular static token: `token:NAME#ID`.
    public static func token(named name: some StringProtocol, id: some StringProtocol) throws(RegistryError) -> Identity {
        try Identity("token:\(name)#\(id)")
    }

    /// A new random token id: 16 lowercase hex digits (64 bits; ids only have to differ between the
    /// tokens that ever hold one name).
    public static func newTokenID() -> String { Hex.encode(SecureRandom.bytes(8)) }

    /// `token:NAME` for a static token in either form (nil for an IAM principal).
    public var tokenName: Identity? {
        guard kind == .staticToken else { return nil }
        guard let hash = value.utf8.firstIndex(of: UInt8(ascii: "#")) else { return self }
        return Identity(unchecked: String(value[..<hash]))
    }

    /// The id of one particular token (`token:NAME#ID`), nil for `token:NAME` and IAM principals.
    public var tokenID: String? {
        guard kind == .staticToken, let hash = value.utf8.firstIndex(of: UInt8(ascii: "#")) else { return nil }
        return String(value[value.index(after: hash)...])
    }

    init(unchecked value: String) { self.value = value }

    public var kind: Kind { value.hasPrefix("token:") ? .staticToken : .iam }
    public var description: String { value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }

    /// `token:` + 1-64 of letters, digits, `.`, `_`, `-`, starting with a letter or digit; optionally
    /// `#` + an id of 1-32 lowercase letters and digits.
    static func isTokenIdentity(_ s: String) -> Bool {
        guard s.hasPrefix("token:") else { return false }
        let rest = s.utf8.dropFirst(6)
        let parts = rest.split(separator: UInt8(ascii: "#"), maxSplits: 1, omittingEmptySubsequences: false)
        let name = Array(parts[0])
        guard (1...64).contains(name.count), ASCII.isAlnum(name[0]) else { return false }
        guard name.allSatisfy({ ASCII.isAlnum($0) || $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") }) else {
            return false
        }
        guard parts.count == 2 else { return true }
        let id = Array(parts[1])
        return (1...32).contains(id.count) && id.allSatisfy(ASCII.isLowerAlnum)
    }

    /// `arn:{aws,aws-cn,aws-us-gov}:{iam,sts}::ACCOUNT(12 digits):RESOURCE` with IAM's name characters.
    /// `arn:PARTITION:iam|sts::ACCOUNT:TYPE/NAME…`, checked byte by byte in one pass (this runs for
    /// every grant read on a request's path).
    static func isIAMARN(_ s: String) -> Bool {
        var s = s
        return s.withUTF8 { b -> Bool in
            guard b.count <= 2048 else { return false }
            var fields: [Int] = []  // start of each of the six ':'-separated fields
            fields.reserveCapacity(6)
            fields.append(0)
            for (i, c) in b.enumerated() where c == UInt8(ascii: ":") && fields.count < 6 { fields.append(i + 1) }
            guard fields.count == 6 else { return false }
            func field(_ n: Int) -> UnsafeBufferPointer<UInt8> {
                UnsafeBufferPointer(rebasing: b[fields[n]..<(n == 5 ? b.count : fields[n + 1] - 1)])
            }
            func equals(_ f: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
                f.elementsEqual(UnsafeBufferPointer(start: literal.utf8Start, count: literal.utf8CodeUnitCount))
            }
            let partition = field(1)
            let service = field(2)
            let account = field(4)
            let resource = field(5)
            guard equals(field(0), "arn"), equals(partition, "aws") || equals(partition, "aws-cn") || equals(partition, "aws-us-gov"),
                equals(service, "iam") || equals(service, "sts"), field(3).isEmpty,
                account.count == 12, account.allSatisfy(ASCII.isDigit),
                !resource.isEmpty, resource.last != UInt8(ascii: "/")
            else { return false }
            var slash = false
            var previousSlash = false
            for c in resource {
                let isSlash = c == UInt8(ascii: "/")
                guard
                    ASCII.isAlnum(c) || isSlash || c == UInt8(ascii: "+") || c == UInt8(ascii: "=") || c == UInt8(ascii: ",")
                        || c == UInt8(ascii: ".") || c == UInt8(ascii: "@") || c == UInt8(ascii: "_") || c == UInt8(ascii: "-"),
                    !(isSlash && previousSlash)
                else { return false }
                slash = slash || isSlash
                previousSlash = isSlash
            }
            return slash
        }
    }
}
