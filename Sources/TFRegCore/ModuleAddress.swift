import TFRegSystem

/// Identifier grammar shared by namespaces and module names, following Terraform's registry rules
/// (`terraform-registry-address`: `^[0-9A-Za-z](?:[0-9A-Za-z-_]{0,62}[0-9A-Za-z])?$`).
/// Everything that reaches a database key or a file path has passed one of these initialisers.
public enum Grammar {
    /// A SHA-256 digest as 64 lowercase hex digits (what the registry records and names files by).
    public static func isSHA256Hex(_ s: some StringProtocol) -> Bool { s.utf8.count == 64 && s.utf8.allSatisfy(ASCII.isLowerHex) }

    /// `s` with ASCII letters lowercased (names are ASCII by their grammar: no Unicode folding needed).
    public static func folded(_ s: some StringProtocol) -> String { String(decoding: s.utf8.map(ASCII.lowercased), as: UTF8.self) }

    /// Letters, digits, `-`, `_`; starts and ends with a letter or digit; 1...64 characters.
    static func isName(_ s: some StringProtocol) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count), ASCII.isAlnum(u.first!), ASCII.isAlnum(u.last!) else { return false }
        return u.allSatisfy { ASCII.isAlnum($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") }
    }

    /// Lowercase letters and digits, 1...64 characters (Terraform's target-system grammar).
    static func isSystem(_ s: some StringProtocol) -> Bool {
        let u = Array(s.utf8)
        guard (1...64).contains(u.count) else { return false }
        return u.allSatisfy(ASCII.isLowerAlnum)
    }
}

/// A module namespace (the registry's unit of permission).
public struct Namespace: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let value: String
    public init(_ value: some StringProtocol) throws(RegistryError) {
        guard Grammar.isName(value) else {
            throw .badRequest("invalid namespace: use 1-64 letters, digits, '-' or '_', starting and ending with a letter or digit")
        }
        self.value = String(value)
    }
    public var description: String { value }
    public static func < (a: Self, b: Self) -> Bool { a.value < b.value }
    /// The namespace with ASCII letters lowercased: `Acme` and `acme` are one namespace, as Terraform
    /// compares registry addresses (the grammar is ASCII-only, so this is the whole folding).
    public var folded: String { Grammar.folded(value) }
}

/// `namespace/name/system`, each part validated.
public struct ModuleAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let namespace: Namespace
    public let name: String
    public let system: String

    public init(namespace: some StringProtocol, name: some StringProtocol, system: some StringProtocol) throws(RegistryError) {
        self.namespace = try Namespace(namespace)
        guard Grammar.isName(name) else {
            throw .badRequest("invalid module name: use 1-64 letters, digits, '-' or '_', starting and ending with a letter or digit")
        }
        guard Grammar.isSystem(system) else {
            throw .badRequest("invalid module system (provider): use 1-64 lowercase letters or digits")
        }
        self.name = String(name)
        self.system = String(system)
    }

    /// `ns/name/system`, also the relative path prefix of archive keys (safe: the grammar has no `/` or `.`).
    public var description: String { "\(namespace.value)/\(name)/\(system)" }
    public static func < (a: Self, b: Self) -> Bool { a.description < b.description }
    /// `ns/name/system` with ASCII letters lowercased: two addresses with the same key are one module
    /// (`Acme/Vpc/aws` is `acme/vpc/aws`); the display spelling is the first publish's.
    public var folded: String { Grammar.folded(description) }
    /// Whether `other` names the same module under a spelling that differs only in ASCII case.
    public func isSameModule(as other: ModuleAddress) -> Bool { folded == other.folded }
}
