import TFRegJSON
import TFRegSystem

/// `namespace/type` of a private provider (`HOST/NAMESPACE/TYPE` in Terraform's source address).
public struct ProviderAddress: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let namespace: Namespace
    public let type: String
    /// The host name a mirrored provider comes from (`registry.terraform.io` of
    /// `registry.terraform.io/hashicorp/aws`, pulled by `tfreg mirror pull`); nil for this registry's own
    /// providers. `namespace` and `type` are then the upstream's. Mirrored providers are authorized
    /// under the registry's mirror namespace (`MirrorSettings`), never under `namespace`.
    public let origin: String?

    /// `type`: Terraform's provider type grammar (terraform-registry-address `ParseProviderPart`, lower
    /// case): letters, digits and `-`, 1...64, starting and ending with a letter or digit.
    /// The namespace must be lower case: Terraform normalizes provider source addresses to lower case
    /// (terraform-registry-address; its lock file refuses other spellings) and asks for
    /// `/v1/providers/acme/…` whatever the configuration says, so a provider published as `Acme`
    /// could never be installed.
    public init(namespace: some StringProtocol, type: some StringProtocol) throws(RegistryError) {
        self.namespace = try Self.namespace(namespace)
        let u = Array(type.utf8)
        guard (1...64).contains(u.count), ASCII.isLowerAlnum(u.first!), ASCII.isLowerAlnum(u.last!),
            u.allSatisfy({ ASCII.isLowerAlnum($0) || $0 == UInt8(ascii: "-") })
        else {
            throw .badRequest("invalid provider type: use 1-64 lowercase letters, digits or '-', starting and ending with a letter or digit")
        }
        self.type = String(type)
        self.origin = nil
    }

    /// A mirrored provider: `origin` must be a lower-case DNS host name without a port (Terraform cannot
    /// join a host with a port to a mirror URL, and it writes host names in lower case).
    public init(origin: some StringProtocol, namespace: some StringProtocol, type: some StringProtocol) throws(RegistryError) {
        guard Self.isOriginHost(origin) else {
            throw .badRequest("invalid origin host name: lower-case DNS labels separated by dots, no port (such as registry.terraform.io)")
        }
        let own = try ProviderAddress(namespace: namespace, type: type)
        self.namespace = own.namespace
        self.type = own.type
        self.origin = String(origin)
    }

    /// `host/namespace` for a mirrored provider, `namespace` for an own one: the namespace key the stores
    /// file it under. A namespace has no `/`, so the two kinds can never share a key.
    public var storageNamespace: String { origin.map { "\($0)/\(namespace.value)" } ?? namespace.value }

    /// The inverse of `storageNamespace`.
    public init(storageNamespace: some StringProtocol, type: some StringProtocol) throws(RegistryError) {
        let parts = storageNamespace.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        if parts.count == 2 {
            try self.init(origin: parts[0], namespace: parts[1], type: type)
        } else {
            try self.init(namespace: storageNamespace, type: type)
        }
    }

    /// A lower-case DNS host name: 1-253 characters, labels of 1-63 letters, digits and `-` (not at a
    /// label's ends), at least two labels, no port.
    public static func isOriginHost(_ s: some StringProtocol) -> Bool {
        let labels = s.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...253).contains(s.utf8.count), labels.count >= 2 else { return false }
        return labels.allSatisfy { l in
            let u = Array(l.utf8)
            return (1...63).contains(u.count) && ASCII.isLowerAlnum(u.first!) && ASCII.isLowerAlnum(u.last!)
                && u.allSatisfy { ASCII.isLowerAlnum($0) || $0 == UInt8(ascii: "-") }
        }
    }

    /// A provider namespace: a namespace in lower case (Terraform asks for provider addresses in lower
    /// case, so a release or a signing key under `Acme` could never be used).
    public static func namespace(_ text: some StringProtocol) throws(RegistryError) -> Namespace {
        guard !text.utf8.contains(where: ASCII.isUpper) else {
            throw .badRequest("invalid provider namespace: provider addresses are lower case (Terraform asks for them in lower case)")
        }
        return try Namespace(text)
    }

    public var description: String { origin.map { "\($0)/\(namespace)/\(type)" } ?? "\(namespace)/\(type)" }
    public static func < (a: Self, b: Self) -> Bool {
        (a.origin ?? "", a.namespace.value, a.type) < (b.origin ?? "", b.namespace.value, b.type)
    }
}

/// Where mirrored providers live in the registry's grants (issue 20): every provider pulled from another
/// registry is read (`download`) and imported (`upload`) under ONE namespace, whatever its origin; and
/// which upstreams may be imported at all (deny by default: an empty list refuses every import).
public struct MirrorSettings: Sendable, Hashable {
    public var namespace: Namespace
    /// Entries `HOST` (any namespace there) or `HOST/NAMESPACE`.
    public var allowed: [String]

    public static let defaultNamespace = "mirror"

    public init(namespace: Namespace = try! Namespace(MirrorSettings.defaultNamespace), allowed: [String] = []) {
        self.namespace = namespace
        self.allowed = allowed
    }

    /// Parses one allow-list entry (`HOST` or `HOST/NAMESPACE`), nil when malformed.
    public static func entry(_ text: some StringProtocol) -> String? {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), ProviderAddress.isOriginHost(parts[0]) else { return nil }
        if parts.count == 2 { guard (try? ProviderAddress(namespace: parts[1], type: "x")) != nil else { return nil } }
        return String(text)
    }

    /// Whether a provider of `origin` may be imported.
    public func allows(_ provider: ProviderAddress) -> Bool {
        guard let origin = provider.origin else { return false }
        return allowed.contains { $0 == origin || $0 == "\(origin)/\(provider.namespace.value)" }
    }
}

/// A target platform, `OS_ARCH` (lowercase letters and digits each, as Go's GOOS/GOARCH).
public struct ProviderPlatform: Hashable, Sendable, Comparable, CustomStringConvertible {
    public let os: String
    public let arch: String

    public init(os: some StringProtocol, arch: some StringProtocol) throws(RegistryError) {
        guard Grammar.isPlatformPart(os), Grammar.isPlatformPart(arch) else {
            throw .badRequest("invalid platform: OS and architecture are 1-32 lowercase letters or digits")
        }
        self.os = String(os)
        self.arch = String(arch)
    }

    /// Parses `OS_ARCH`.
    public init(_ text: some StringProtocol) throws(RegistryError) {
        let parts = text.split(separator: "_", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw .badRequest("invalid platform '\(text.prefix(64))': expected OS_ARCH") }
        try self.init(os: parts[0], arch: parts[1])
    }

    public var description: String { "\(os)_\(arch)" }
    public static func < (a: Self, b: Self) -> Bool { a.description < b.description }
}

extension Grammar {
    static func isPlatformPart(_ s: some StringProtocol) -> Bool {
        let u = Array(s.utf8)
        return (1...32).contains(u.count) && u.allSatisfy(ASCII.isLowerAlnum)
    }
}

/// One stored object of a provider release (zip, `SHA256SUMS`, signature).
public struct ProviderBlob: Sendable, Hashable {
    public var location: ArchiveLocation
    /// Lowercase hex SHA-256.
    public var sha256: String
    public var size: Int64

    public init(location: ArchiveLocation, sha256: String, size: Int64) {
        self.location = location
        self.sha256 = sha256
        self.size = size
    }
}

/// One platform's package of a provider version.
public struct ProviderPackageRecord: Sendable, Hashable {
    public var platform: ProviderPlatform
    /// `terraform-provider-TYPE_VERSION_OS_ARCH.zip`: the name in `SHA256SUMS` and the download's `filename`.
    public var filename: String
    public var zip: ProviderBlob
    /// Go's dirhash `h1:` of the package's files (what Terraform records after installing it).
    public var h1: String

    public init(platform: ProviderPlatform, filename: String, zip: ProviderBlob, h1: String) {
        self.platform = platform
        self.filename = filename
        self.zip = zip
        self.h1 = h1
    }
}

/// One published provider version: every platform's zip, the signed `SHA256SUMS` covering them, its
/// detached signature and the registered key that verified it at publish.
public struct ProviderVersionRecord: Sendable, Hashable {
    public var provider: ProviderAddress
    public var version: Version
    /// Plugin protocol versions (`["5.0"]` unless the release's manifest says otherwise).
    public var protocols: [String]
    /// Sorted by platform.
    public var packages: [ProviderPackageRecord]
    public var shasums: ProviderBlob
    public var signature: ProviderBlob
    /// The fingerprint (40 hex digits) of the namespace key that verified `signature`.
    public var keyFingerprint: String
    public var publishedAt: Int64
    public var publishedBy: String?
    public var deprecation: Deprecation?

    public init(
        provider: ProviderAddress,
        version: Version,
        protocols: [String],
        packages: [ProviderPackageRecord],
        shasums: ProviderBlob,
        signature: ProviderBlob,
        keyFingerprint: String,
        publishedAt: Int64,
        publishedBy: String? = nil,
        deprecation: Deprecation? = nil
    ) {
        self.provider = provider
        self.version = version
        self.protocols = protocols
        self.packages = packages.sorted { $0.platform < $1.platform }
        self.shasums = shasums
        self.signature = signature
        self.keyFingerprint = keyFingerprint
        self.publishedAt = publishedAt
        self.publishedBy = publishedBy
        self.deprecation = deprecation
    }

    public func package(for platform: ProviderPlatform) -> ProviderPackageRecord? { packages.first { $0.platform == platform } }
}

/// An OpenPGP public key registered for a namespace: provider releases published there must be signed
/// by one of them; downloads list it in `signing_keys`.
public struct ProviderSigningKey: Sendable, Hashable {
    public var namespace: Namespace
    /// The upstream host a mirrored provider's key came from (with `namespace` the upstream's); nil for
    /// a key registered here. Kept so a mirrored version's signature stays verifiable.
    public var origin: String?
    /// 40 uppercase hex digits (v4 fingerprint): the key's identity in the store.
    public var fingerprint: String
    /// 16 uppercase hex digits.
    public var keyID: String
    /// The public key as served (`ascii_armor`).
    public var asciiArmor: String
    public var addedAt: Int64
    public var addedBy: String?

    public init(
        namespace: Namespace,
        fingerprint: String,
        keyID: String,
        asciiArmor: String,
        addedAt: Int64,
        addedBy: String?,
        origin: String? = nil
    ) {
        self.namespace = namespace
        self.origin = origin
        self.fingerprint = fingerprint
        self.keyID = keyID
        self.asciiArmor = asciiArmor
        self.addedAt = addedAt
        self.addedBy = addedBy
    }

    /// The namespace key the stores file the key under (as `ProviderAddress.storageNamespace`).
    public var storageNamespace: String { origin.map { "\($0)/\(namespace.value)" } ?? namespace.value }

    /// 40 uppercase hex digits.
    public static func isFingerprint(_ s: some StringProtocol) -> Bool {
        s.utf8.count == 40 && s.utf8.allSatisfy { ASCII.isDigit($0) || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains($0) }
    }
}

/// Private providers: versions (immutable; a delete leaves the precedence reserved), deprecation marks,
/// and signing keys per namespace. One section of `MetadataStore`, with its own conformance section.
/// Every read and write stays within one namespace (DynamoDB: the namespace's partition, Queries only).
public protocol ProviderStore: Sendable {
    /// All live versions of a provider, any order.
    func providerVersions(of provider: ProviderAddress) async throws(RegistryError) -> [ProviderVersionRecord]
    /// Every live provider version in a namespace, or in the whole registry when nil. Administrative only
    /// (gc, backup): DynamoDB Scans for nil.
    func allProviderVersions(in namespace: Namespace?) async throws(RegistryError) -> [ProviderVersionRecord]
    /// One exact version (text equality), or nil.
    func providerVersion(_ version: Version, of provider: ProviderAddress) async throws(RegistryError) -> ProviderVersionRecord?
    /// Registers a version; `.conflict` if a version of the same precedence exists or was ever deleted.
    func insertProviderVersion(_ record: ProviderVersionRecord) async throws(RegistryError)
    /// Deletes a version, keeping its precedence reserved; returns the removed record, nil if none.
    func tombstoneProviderVersion(
        _ version: Version,
        of provider: ProviderAddress,
        at: Int64,
        by: String?
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    /// Sets (nil clears) a version's deprecation; returns the updated record, nil if there is none.
    func setProviderDeprecation(
        _ deprecation: Deprecation?,
        version: Version,
        of provider: ProviderAddress
    ) async throws(RegistryError)
        -> ProviderVersionRecord?
    /// The namespace's signing keys (with `origin`: the keys kept for that upstream's namespace),
    /// sorted by fingerprint.
    func signingKeys(in namespace: Namespace, origin: String?) async throws(RegistryError) -> [ProviderSigningKey]
    /// Registers a key; `.conflict` when its fingerprint is already registered in the namespace.
    func addSigningKey(_ key: ProviderSigningKey) async throws(RegistryError)
    /// Removes a key; false when it was not registered. Published versions stay as they are.
    func removeSigningKey(fingerprint: String, in namespace: Namespace) async throws(RegistryError) -> Bool
}

extension ProviderStore {
    /// The keys registered for one of this registry's namespaces.
    public func signingKeys(in namespace: Namespace) async throws(RegistryError) -> [ProviderSigningKey] {
        try await signingKeys(in: namespace, origin: nil)
    }
}

/// The JSON both stores keep a version's packages and protocols in (one attribute / column), so the
/// record shape lives in one place.
public enum ProviderRecordCoding {
    /// `["5.0"]` as JSON text.
    public static func encodeStrings(_ strings: [String]) -> String {
        String(decoding: JSONValue.array(strings.map(JSONValue.string)).serialized(), as: UTF8.self)
    }

    public static func decodeStrings(_ text: String) -> [String]? {
        guard case .array(let items) = try? JSONValue(parsing: Array(text.utf8)) else { return nil }
        let strings = items.compactMap(\.stringValue)
        return strings.count == items.count ? strings : nil
    }

    public static func encodePackages(_ packages: [ProviderPackageRecord]) -> String {
        let value = JSONValue.array(
            packages.map { p in
                .object([
                    ("platform", .string(p.platform.description)), ("filename", .string(p.filename)),
                    ("bucket", p.zip.location.bucket.map(JSONValue.string) ?? .null), ("key", .string(p.zip.location.key)),
                    ("sha256", .string(p.zip.sha256)), ("size", .int(p.zip.size)), ("h1", .string(p.h1)),
                ])
            }
        )
        return String(decoding: value.serialized(), as: UTF8.self)
    }

    public static func decodePackages(_ text: String) -> [ProviderPackageRecord]? {
        guard case .array(let items) = try? JSONValue(parsing: Array(text.utf8)) else { return nil }
        var out: [ProviderPackageRecord] = []
        for item in items {
            guard let platform = item["platform"]?.stringValue.flatMap({ try? ProviderPlatform($0) }),
                let filename = item["filename"]?.stringValue, let key = item["key"]?.stringValue,
                let sha = item["sha256"]?.stringValue, Grammar.isSHA256Hex(sha), let size = item["size"]?.intValue, size >= 0,
                let h1 = item["h1"]?.stringValue
            else { return nil }
            let bucket = item["bucket"]?.stringValue
            out.append(
                ProviderPackageRecord(
                    platform: platform,
                    filename: filename,
                    zip: ProviderBlob(location: ArchiveLocation(bucket: bucket, key: key), sha256: sha, size: size),
                    h1: h1
                )
            )
        }
        return out
    }
}
