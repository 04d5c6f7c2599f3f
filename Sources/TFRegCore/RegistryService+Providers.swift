import Glibc
import Logging
import TFRegOpenPGP
import TFRegSystem

/// Reads a provider package zip strictly (implemented by TFRegArchive's zip reader): refuses a malformed
/// zip or one without its provider executable, and returns the package's `h1:` hash.
public protocol ProviderPackageInspector: Sendable {
    /// `.badRequest` naming `file` (the uploaded name) and what is wrong, never a path on this machine.
    func inspect(zip path: String, file: String, type: String) throws(RegistryError) -> String
}

/// The files of one provider release as uploaded (goreleaser's layout), each staged with its SHA-256.
public struct ProviderReleaseUpload: Sendable {
    public var provider: ProviderAddress
    public var version: Version
    /// From the release's `_manifest.json` when uploaded, else `["5.0"]`.
    public var protocols: [String]
    public var shasums: StagedArchive
    public var signature: StagedArchive
    /// File name (`terraform-provider-TYPE_VERSION_OS_ARCH.zip`) → its staged bytes.
    public var zips: [String: StagedArchive]
    /// A mirrored release's upstream signing key, ASCII-armored (`upstream_signing_key.asc` in the upload).
    public var upstreamKey: StagedArchive?

    public init(
        provider: ProviderAddress,
        version: Version,
        protocols: [String] = ["5.0"],
        shasums: StagedArchive,
        signature: StagedArchive,
        zips: [String: StagedArchive],
        upstreamKey: StagedArchive? = nil
    ) {
        self.upstreamKey = upstreamKey
        self.provider = provider
        self.version = version
        self.protocols = protocols
        self.shasums = shasums
        self.signature = signature
        self.zips = zips
    }

    var staged: [StagedArchive] { [shasums, signature] + zips.values + (upstreamKey.map { [$0] } ?? []) }
}

/// Limits of a release (generous: HashiCorp's releases list about 15 platforms).
public enum ProviderReleaseLimits {
    public static let maximumShasumsBytes = 64 * 1024
    public static let maximumPlatforms = 64
    /// An ASCII-armored public key (RSA 4096 with a few signatures is under 8 KiB).
    public static let maximumKeyBytes = 64 * 1024
}

extension RegistryService {
    /// A client-supplied file name as it may appear in an error: quoted, invisible characters as `?`, bounded.
    public static func shown(_ name: String) -> String {
        let visible = String(
            String.UnicodeScalarView(name.unicodeScalars.prefix(128).map { VisibleText.isControl($0) || VisibleText.isInvisible($0) ? "?" : $0 })
        )
        return "'\(visible)'"
    }

    /// Parses a `SHA256SUMS` file (`sha256sum` output: 64 lowercase hex digits, two spaces, a file name, per
    /// line): file name → digest. Strict: every line of that form, no duplicate names, bounded.
    public static func parseShasums(_ bytes: [UInt8], file: String) throws(RegistryError) -> [String: String] {
        guard bytes.count <= ProviderReleaseLimits.maximumShasumsBytes else { throw .badRequest("\(file): larger than 64 KiB") }
        guard let text = String(validating: bytes, as: UTF8.self) else { throw .badRequest("\(file): not UTF-8 text") }
        var out: [String: String] = [:]
        for (n, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            if line.isEmpty { continue }
            let u = Array(line.utf8)
            guard u.count > 66, Grammar.isSHA256Hex(line.prefix(64)), u[64] == 0x20, u[65] == 0x20 else {
                throw .badRequest("\(file): line \(n + 1) is not 'SHA256  FILENAME'")
            }
            let name = String(line.dropFirst(66))
            guard !name.contains("/"), !name.contains(where: { $0.isNewline || $0 == "\r" }) else {
                throw .badRequest("\(file): line \(n + 1) names a path, not a file")
            }
            guard out.updateValue(String(line.prefix(64)), forKey: name) == nil else {
                throw .badRequest("\(file): \(Self.shown(name)) is listed twice")
            }
            guard out.count <= ProviderReleaseLimits.maximumPlatforms * 4 else { throw .badRequest("\(file): too many lines") }
        }
        return out
    }

    /// Publishes a signed provider release as a new, immutable version (issue 20). Verified before anything
    /// is stored: the signature over `SHA256SUMS` by a key registered for the namespace; every uploaded zip
    /// named `terraform-provider-TYPE_VERSION_OS_ARCH.zip`, listed with its exact SHA-256, and a well-formed
    /// package holding the provider executable; every zip the file lists uploaded. Each refusal is a 400
    /// naming the file. Then blobs, the record (the store refuses a reused precedence), settle — in the
    /// order and with the crash safety of module publish.
    ///
    /// A mirrored provider (`upload.provider.origin` set; `tfreg mirror pull`) is imported the same way
    /// with `upload.upstreamKey`, the armored key of the upstream registry that signed the release: `upload` in
    /// the mirror namespace, the origin on the mirror's allow-list (403), the signature verified against
    /// that key (the caller verified it against the upstream's listing before sending; this verifies it
    /// again), and the key kept with the version (`signingKeys(in:origin:)`), so it stays verifiable.
    public func publishProvider(
        _ upload: ProviderReleaseUpload,
        caller: Principal?,
        inspector: any ProviderPackageInspector,
        logger: Logger
    ) async throws(RegistryError) -> ProviderVersionRecord {
        let grant: Grant
        let checked: (fingerprint: String, packages: [(ProviderPlatform, String, StagedArchive, String)])
        var keptKey: ProviderSigningKey?
        do throws(RegistryError) {
            grant = try await authorize(caller, .upload, in: grantNamespace(of: upload.provider))
            if let origin = upload.provider.origin {
                guard mirror.allows(upload.provider) else {
                    throw .forbidden("\(origin)/\(upload.provider.namespace) is not on this registry's mirror allow-list (--mirror-allow)")
                }
                guard let staged = upload.upstreamKey else {
                    throw .badRequest("upstream_signing_key.asc: a mirrored release needs the upstream's signing key")
                }
                guard let armored = FileSystem.read(staged.path, limit: ProviderReleaseLimits.maximumKeyBytes) else {
                    throw .badRequest("upstream_signing_key.asc: larger than 64 KiB")
                }
                let key: OpenPGPPublicKey
                do { key = try OpenPGPPublicKey.parse(armored) } catch { throw .badRequest("the upstream key is refused: \(error.reason)") }
                let kept = ProviderSigningKey(
                    namespace: upload.provider.namespace,
                    fingerprint: key.fingerprint,
                    keyID: key.keyID,
                    asciiArmor: key.asciiArmor,
                    addedAt: clock.now(),
                    addedBy: grant.identity.value,
                    origin: origin
                )
                keptKey = kept
                checked = try await verifyRelease(upload, inspector: inspector, keys: [kept])
            } else {
                guard upload.upstreamKey == nil else { throw .badRequest("upstream_signing_key.asc: only a mirrored release is sent with one") }
                checked = try await verifyRelease(upload, inspector: inspector)
            }
        } catch {
            for s in upload.staged { discard(s) }
            throw error
        }
        let base = "terraform-provider-\(upload.provider.type)_\(upload.version)"
        var stored: [(StagedArchive, ArchiveLocation)] = []
        func put(_ s: StagedArchive, _ kind: BlobKind) async throws(RegistryError) -> ProviderBlob {
            let location = try await storage.put(s, kind: kind)
            stored.append((s, location))
            return ProviderBlob(location: location, sha256: s.sha256, size: s.size)
        }
        let record: ProviderVersionRecord
        do {
            var packages: [ProviderPackageRecord] = []
            for (platform, filename, staged, h1) in checked.packages {
                packages.append(ProviderPackageRecord(platform: platform, filename: filename, zip: try await put(staged, .providerPackage), h1: h1))
            }
            record = ProviderVersionRecord(
                provider: upload.provider,
                version: upload.version,
                protocols: upload.protocols,
                packages: packages,
                shasums: try await put(upload.shasums, .providerShasums),
                signature: try await put(upload.signature, .providerSignature),
                keyFingerprint: checked.fingerprint,
                publishedAt: clock.now(),
                publishedBy: grant.identity.value
            )
            // The upstream key first: a version is never stored without the key that verifies it (a
            // key kept by an earlier pull of the same upstream is already there).
            if let keptKey {
                do { try await store.addSigningKey(keptKey) } catch  where error.code == .conflict {}
            }
            try await store.insertProviderVersion(record)
        } catch {
            // Stored blobs stay for `gc` (they may be shared with another version of the same bytes).
            for s in upload.staged { discard(s) }
            throw error
        }
        for (s, location) in stored { try await storage.settle(s, at: location) }
        await changed(
            "published provider version",
            by: grant.identity,
            ["provider": "\(upload.provider)", "version": "\(upload.version)", "file": "\(base)_SHA256SUMS", "key": "\(checked.fingerprint)"],
            logger,
            action: AuditEvent.Action.publishProvider,
            namespace: grantNamespace(of: upload.provider),
            target: "\(upload.provider)@\(upload.version)"
        )
        return record
    }

    /// The namespace whose grants decide about a provider: its own, or the mirror namespace for a
    /// provider of another origin.
    public func grantNamespace(of provider: ProviderAddress) -> Namespace {
        provider.origin == nil ? provider.namespace : mirror.namespace
    }

    /// `keys`: the keys the signature may be by (nil: those registered for the namespace).
    func verifyRelease(
        _ upload: ProviderReleaseUpload,
        inspector: any ProviderPackageInspector,
        keys given: [ProviderSigningKey]? = nil
    ) async throws(RegistryError) -> (
        fingerprint: String, packages: [(ProviderPlatform, String, StagedArchive, String)]
    ) {
        let type = upload.provider.type
        let base = "terraform-provider-\(type)_\(upload.version)"
        let sumsName = "\(base)_SHA256SUMS"
        let sigName = "\(base)_SHA256SUMS.sig"
        let existing = try await store.providerVersions(of: upload.provider)
        if let clash = existing.first(where: { $0.version.hasSamePrecedence(as: upload.version) }) {
            throw .conflict("version \(clash.version) of provider \(upload.provider) already exists; versions are immutable")
        }
        let keys: [ProviderSigningKey]
        if let given { keys = given } else { keys = try await store.signingKeys(in: upload.provider.namespace) }
        guard !keys.isEmpty else {
            throw .badRequest(
                "\(sigName): namespace \(upload.provider.namespace) has no signing key; register one with 'tfreg provider key add'"
            )
        }
        guard let sumsBytes = FileSystem.read(upload.shasums.path, limit: ProviderReleaseLimits.maximumShasumsBytes),
            let sigBytes = FileSystem.read(upload.signature.path, limit: OpenPGPLimits.maximumSignatureBytes)
        else { throw .badRequest("\(sumsName) or \(sigName) is missing or too large") }
        let sums = try Self.parseShasums(sumsBytes, file: sumsName)
        let parsedKeys = keys.compactMap { try? OpenPGPPublicKey.parse(Array($0.asciiArmor.utf8)) }
        let verified: OpenPGPVerifier.Verified
        do {
            let signature = try OpenPGPSignature.parseDetached(sigBytes)
            verified = try OpenPGPVerifier.verify(signature, data: sumsBytes, keys: parsedKeys, now: clock.now())
        } catch {
            switch error.code {
            case .unknownKey where given != nil:
                throw .badRequest("\(sigName): not signed by the upstream key sent with it (\(error.reason))")
            case .unknownKey:
                throw .badRequest("\(sigName): not signed by a key registered for namespace \(upload.provider.namespace) (\(error.reason))")
            default: throw .badRequest("\(sigName): \(error.reason)")
            }
        }
        guard !upload.zips.isEmpty, upload.zips.count <= ProviderReleaseLimits.maximumPlatforms else {
            throw .badRequest("a release needs 1-\(ProviderReleaseLimits.maximumPlatforms) platform zips")
        }
        var packages: [(ProviderPlatform, String, StagedArchive, String)] = []
        for (name, staged) in upload.zips.sorted(by: { $0.key < $1.key }) {
            guard name.hasPrefix(base + "_"), name.hasSuffix(".zip") else {
                throw .badRequest("\(Self.shown(name)): not named \(base)_OS_ARCH.zip")
            }
            let platform = try ProviderPlatform(name.dropFirst(base.count + 1).dropLast(4))
            guard let listed = sums[name] else { throw .badRequest("\(name): not listed in \(sumsName)") }
            guard listed == staged.sha256 else { throw .badRequest("\(name): its SHA-256 is not the one \(sumsName) lists") }
            let path = staged.path
            let h1 = try await Blocking.run { () throws(RegistryError) -> String in try inspector.inspect(zip: path, file: name, type: type) }
            packages.append((platform, name, staged, h1))
        }
        for name in sums.keys.sorted() where name.hasPrefix(base + "_") && name.hasSuffix(".zip") && upload.zips[name] == nil {
            throw .badRequest("\(name): listed in \(sumsName) but not uploaded")
        }
        return (verified.fingerprint, packages)
    }

    /// Registers an OpenPGP public key for a namespace's provider releases. Needs `create_grant` there:
    /// a key decides what the namespace's users install, as a grant decides who may publish.
    public func addSigningKey(
        armored: [UInt8],
        in namespace: Namespace,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError)
        -> ProviderSigningKey
    {
        let grant = try await authorize(caller, .createGrant, in: namespace)
        let key: OpenPGPPublicKey
        do { key = try OpenPGPPublicKey.parse(armored) } catch { throw .badRequest("the key is refused: \(error.reason)") }
        let record = ProviderSigningKey(
            namespace: namespace,
            fingerprint: key.fingerprint,
            keyID: key.keyID,
            asciiArmor: key.asciiArmor,
            addedAt: clock.now(),
            addedBy: grant.identity.value
        )
        try await store.addSigningKey(record)
        await changed(
            "added provider signing key",
            by: grant.identity,
            ["namespace": "\(namespace)", "key": "\(key.fingerprint)"],
            logger,
            action: AuditEvent.Action.addSigningKey,
            namespace: namespace,
            target: "key:\(key.fingerprint)"
        )
        return record
    }

    /// The namespace's signing keys (`download` suffices: they are served with every download anyway).
    public func signingKeys(in namespace: Namespace, caller: Principal?) async throws(RegistryError) -> [ProviderSigningKey] {
        try await authorize(caller, .download, in: namespace)
        return try await store.signingKeys(in: namespace)
    }

    /// Removes a key (`create_grant`). Published versions keep the signature they were published with;
    /// downloads then list the keys still registered, so a client verifying an old release against them
    /// fails: removing a key is how a compromised key's releases are stopped.
    public func removeSigningKey(fingerprint: String, in namespace: Namespace, caller: Principal?, logger: Logger) async throws(RegistryError) {
        let grant = try await authorize(caller, .createGrant, in: namespace)
        guard ProviderSigningKey.isFingerprint(fingerprint) else { throw .badRequest("a fingerprint is 40 uppercase hex digits") }
        guard try await store.removeSigningKey(fingerprint: fingerprint, in: namespace) else {
            throw .notFound("key \(fingerprint) is not registered in namespace \(namespace)")
        }
        await changed(
            "removed provider signing key",
            by: grant.identity,
            ["namespace": "\(namespace)", "key": "\(fingerprint)"],
            logger,
            action: AuditEvent.Action.removeSigningKey,
            namespace: namespace,
            target: "key:\(fingerprint)"
        )
    }
}

// MARK: Serving (the provider registry protocol)

extension RegistryService {
    /// A provider's live versions, newest first (`download` in its namespace); 404 when it has none.
    public func providerVersions(of provider: ProviderAddress, caller: Principal?) async throws(RegistryError) -> [ProviderVersionRecord] {
        try await authorize(caller, .download, in: grantNamespace(of: provider))
        let records = try await store.providerVersions(of: provider)
        guard !records.isEmpty else { throw .notFound("provider \(provider) not found") }
        return records.sorted { $1.version < $0.version }
    }

    /// One live version (`download` in its namespace); 404 when there is none.
    public func providerVersion(
        _ version: Version,
        of provider: ProviderAddress,
        caller: Principal?
    ) async throws(RegistryError)
        -> ProviderVersionRecord
    {
        try await authorize(caller, .download, in: grantNamespace(of: provider))
        guard let record = try await store.providerVersion(version, of: provider) else {
            throw .notFound("version \(version) of provider \(provider) not found")
        }
        return record
    }

    /// One version's package for a platform, with the namespace's registered keys (what a download
    /// lists: removing a key stops clients from accepting the releases it signed). 404 for an unknown
    /// version or a platform the version has no package for.
    public func providerDownload(
        _ version: Version,
        of provider: ProviderAddress,
        platform: ProviderPlatform,
        caller: Principal?
    ) async throws(RegistryError) -> (record: ProviderVersionRecord, package: ProviderPackageRecord, keys: [ProviderSigningKey]) {
        try await authorize(caller, .download, in: grantNamespace(of: provider))
        guard let record = try await store.providerVersion(version, of: provider) else {
            throw .notFound("version \(version) of provider \(provider) not found")
        }
        guard let package = record.package(for: platform) else {
            throw .notFound("version \(version) of provider \(provider) has no package for \(platform)")
        }
        return (record, package, try await store.signingKeys(in: provider.namespace, origin: provider.origin))
    }
}

// MARK: Deprecation and deletion (as for modules)

extension RegistryService {
    /// Deletes a provider version (`upload`); its precedence stays reserved (a tombstone), its blobs
    /// go to `gc`. Audited as `delete_version` with the provider as target.
    public func deleteProviderVersion(
        _ version: Version,
        of provider: ProviderAddress,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) {
        let grant = try await authorize(caller, .upload, in: grantNamespace(of: provider))
        guard try await store.tombstoneProviderVersion(version, of: provider, at: clock.now(), by: grant.identity.value) != nil else {
            throw .notFound("version \(version) of provider \(provider) not found")
        }
        await changed(
            "deleted provider version",
            by: grant.identity,
            ["provider": "\(provider)", "version": "\(version)"],
            logger,
            action: AuditEvent.Action.deleteVersion,
            namespace: grantNamespace(of: provider),
            target: "provider:\(provider)@\(version)"
        )
    }

    /// Marks a provider version deprecated (`upload`), or with `reason == nil` clears the mark. It stays
    /// installable; the versions document names it in `warnings`. Checked as module deprecations are.
    public func deprecateProvider(
        _ version: Version,
        of provider: ProviderAddress,
        reason: String?,
        replacement: String?,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> ProviderVersionRecord {
        let grant = try await authorize(caller, .upload, in: grantNamespace(of: provider))
        let mark = try reason.map { r throws(RegistryError) in
            try Deprecation.checked(reason: r, replacement: replacement, at: clock.now(), by: grant.identity.value)
        }
        guard let record = try await store.setProviderDeprecation(mark, version: version, of: provider) else {
            throw .notFound("version \(version) of provider \(provider) not found")
        }
        await changed(
            mark == nil ? "provider version undeprecated" : "provider version deprecated",
            by: grant.identity,
            ["provider": "\(provider)", "version": "\(version)"],
            logger,
            action: mark == nil ? AuditEvent.Action.undeprecate : AuditEvent.Action.deprecate,
            namespace: grantNamespace(of: provider),
            target: "provider:\(provider)@\(version)"
        )
        return record
    }
}
