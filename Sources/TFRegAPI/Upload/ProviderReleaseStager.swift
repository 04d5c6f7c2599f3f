import Glibc
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// Splits a provider release upload into its files. The body is one uncompressed tar (ustar, what
/// `tar -cf` and tfreg's CLI write) holding the release's files at its top level, named as goreleaser
/// names them: `terraform-provider-TYPE_VERSION_OS_ARCH.zip` per platform, `…_SHA256SUMS`,
/// `…_SHA256SUMS.sig` and optionally `…_manifest.json`. Strict: regular files only (no directories,
/// links, pax or GNU long names), no paths, no duplicates, each header's checksum right, at most
/// `maximumMembers` files, every size within the staged body. Each refusal is a 400 naming the member.
/// The whole body is staged first (bounded by the limit as it arrives), then each member is copied to
/// its own staged file while hashed; the tar is removed either way.
enum ProviderReleaseStager {
    /// Platforms plus SHA256SUMS, signature and manifest.
    static let maximumMembers = ProviderReleaseLimits.maximumPlatforms + 4
    /// The member a mirrored release (`tfreg mirror pull`) carries the upstream's signing key in.
    static let upstreamKeyMember = "upstream_signing_key.asc"
    static let maximumManifestBytes = 16 * 1024

    static func stage(
        _ body: APIRequestBody,
        provider: ProviderAddress,
        version: Version,
        into directory: String,
        limit: Int64
    ) async throws(RegistryError) -> ProviderReleaseUpload {
        let tar = try await ArchiveStager.stage(
            body,
            into: directory,
            limit: limit,
            expected: "the release as one tar of its files (zips, SHA256SUMS, SHA256SUMS.sig)"
        )
        return try await stage(tar: tar, provider: provider, version: version, into: directory)
    }

    /// The same, from a tar already staged (`create`: copied from S3); it is removed either way.
    static func stage(
        tar: StagedArchive,
        provider: ProviderAddress,
        version: Version,
        into directory: String
    ) async throws(RegistryError) -> ProviderReleaseUpload {
        defer { unlink(tar.path) }
        let members = try await Blocking.run { () throws(RegistryError) -> [(String, StagedArchive)] in
            try split(tar.path, size: tar.size, into: directory)
        }
        do throws(RegistryError) {
            return try classify(members, provider: provider, version: version)
        } catch {
            for (_, s) in members { unlink(s.path) }
            throw error
        }
    }

    /// The members of the tar at `path`, each staged with its SHA-256.
    static func split(_ path: String, size: Int64, into directory: String) throws(RegistryError) -> [(String, StagedArchive)] {
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)
        guard fd >= 0 else { throw .unavailable("archive storage", detail: "open \(path): errno \(errno)") }
        defer { close(fd) }
        var members: [(String, StagedArchive)] = []
        var offset: Int64 = 0
        do throws(RegistryError) {
            while true {
                guard offset + 512 <= size, let header = readExactly(fd, 512) else {
                    throw RegistryError.badRequest("the upload is not a complete tar: it ends without its end-of-archive block")
                }
                offset += 512
                if header.allSatisfy({ $0 == 0 }) { break }
                let (name, length) = try parseHeader(header)
                guard !members.contains(where: { $0.0 == name }) else {
                    throw RegistryError.badRequest("\(RegistryService.shown(name)): uploaded twice")
                }
                guard members.count < maximumMembers else {
                    throw RegistryError.badRequest("the upload holds more than \(maximumMembers) files")
                }
                let padded = length + Int64((512 - length % 512) % 512)
                guard offset + padded <= size else { throw RegistryError.badRequest("\(RegistryService.shown(name)): truncated") }
                members.append((name, try copy(fd, length: length, into: directory, name: name)))
                if padded > length, readExactly(fd, Int(padded - length)) == nil {
                    throw RegistryError.badRequest("\(RegistryService.shown(name)): truncated")
                }
                offset += padded
            }
        } catch {
            for (_, s) in members { unlink(s.path) }
            throw error
        }
        return members
    }

    /// A ustar header's name and size; refuses anything but a flat regular file with a valid checksum.
    static func parseHeader(_ h: [UInt8]) throws(RegistryError) -> (String, Int64) {
        let nameBytes = Array(h[0..<100].prefix { $0 != 0 })
        let shown = RegistryService.shown(String(decoding: nameBytes, as: UTF8.self))
        guard let stored = octal(h[148..<156]) else { throw .badRequest("\(shown): a tar header with a malformed checksum") }
        var sum: Int64 = 0
        for (i, b) in h.enumerated() { sum += (148..<156).contains(i) ? 32 : Int64(b) }
        guard stored == sum else { throw .badRequest("\(shown): a tar header whose checksum is wrong") }
        guard h[156] == UInt8(ascii: "0") || h[156] == 0 else {
            throw .badRequest("\(shown): not a regular file (only the release's files, no directories, links or long names)")
        }
        guard h[345..<500].allSatisfy({ $0 == 0 }) else { throw .badRequest("\(shown): a path, not a file name at the top level") }
        guard !nameBytes.isEmpty, let name = String(validating: nameBytes, as: UTF8.self),
            nameBytes.allSatisfy({ ASCII.isAlnum($0) || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ".") }),
            name != ".", name != ".."
        else { throw .badRequest("\(shown): not a release file name (letters, digits, '_', '-', '.')") }
        guard let size = octal(h[124..<136]), size >= 0 else { throw .badRequest("\(shown): a tar header with a malformed size") }
        return (name, size)
    }

    /// A NUL- or space-terminated octal field (leading spaces allowed), nil when malformed.
    static func octal(_ field: ArraySlice<UInt8>) -> Int64? {
        var digits = field.drop { $0 == 0x20 }.prefix { $0 != 0 && $0 != 0x20 }
        guard !digits.isEmpty, digits.count <= 11 else { return nil }
        var value: Int64 = 0
        while let d = digits.popFirst() {
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(d) else { return nil }
            value = value * 8 + Int64(d - UInt8(ascii: "0"))
        }
        return value
    }

    static func readExactly(_ fd: Int32, _ count: Int) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + done, count - done) }
            if n < 0, errno == EINTR { continue }
            guard n > 0 else { return nil }
            done += n
        }
        return out
    }

    /// Copies `length` bytes from `fd` into a new staged file, hashing them.
    static func copy(_ fd: Int32, length: Int64, into directory: String, name: String) throws(RegistryError) -> StagedArchive {
        let path = directory + "/upload-\(getpid())-" + Hex.encode(SecureRandom.bytes(12)) + ".partial"
        let out = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0o640)
        guard out >= 0 else { throw .unavailable("archive storage", detail: "create \(path): errno \(errno)") }
        var hasher = SHA256.Hasher()
        var left = length
        var ok = true
        while left > 0, ok {
            guard let chunk = readExactly(fd, Int(min(left, 1 << 16))) else {
                ok = false
                break
            }
            hasher.update(chunk)
            ok = FileSystem.write(fd: out, chunk)
            left -= Int64(chunk.count)
        }
        ok = ok && fsync(out) == 0
        close(out)
        guard ok else {
            unlink(path)
            throw .badRequest("\(RegistryService.shown(name)): could not be read from the upload")
        }
        return StagedArchive(path: path, size: length, sha256: Hex.encode(hasher.finalize()))
    }

    /// Which file each member is; anything else is refused, naming it.
    static func classify(
        _ members: [(String, StagedArchive)],
        provider: ProviderAddress,
        version: Version
    ) throws(RegistryError)
        -> ProviderReleaseUpload
    {
        let base = "terraform-provider-\(provider.type)_\(version)"
        var shasums: StagedArchive?
        var signature: StagedArchive?
        var protocols = ["5.0"]
        var zips: [String: StagedArchive] = [:]
        var manifest: StagedArchive?
        var upstreamKey: StagedArchive?
        for (name, staged) in members {
            switch name {
            case upstreamKeyMember where provider.origin != nil: upstreamKey = staged
            case base + "_SHA256SUMS": shasums = staged
            case base + "_SHA256SUMS.sig": signature = staged
            case base + "_manifest.json": manifest = staged
            default:
                guard name.hasPrefix(base + "_"), name.hasSuffix(".zip") else {
                    throw .badRequest(
                        "\(RegistryService.shown(name)): not a file of release \(base) (expected \(base)_OS_ARCH.zip, _SHA256SUMS, _SHA256SUMS.sig or _manifest.json)"
                    )
                }
                zips[name] = staged
            }
        }
        guard let shasums else { throw .badRequest("\(base)_SHA256SUMS: missing from the upload") }
        guard let signature else { throw .badRequest("\(base)_SHA256SUMS.sig: missing from the upload") }
        if let manifest {
            protocols = try manifestProtocols(manifest, file: base + "_manifest.json")
            unlink(manifest.path)
        }
        return ProviderReleaseUpload(
            provider: provider,
            version: version,
            protocols: protocols,
            shasums: shasums,
            signature: signature,
            zips: zips,
            upstreamKey: upstreamKey
        )
    }

    /// `metadata.protocol_versions` of a release manifest (`{"version": 1, "metadata": {"protocol_versions":
    /// ["5.0"]}}`, as goreleaser's HashiCorp template writes it): 1-8 `MAJOR.MINOR` strings.
    static func manifestProtocols(_ staged: StagedArchive, file: String) throws(RegistryError) -> [String] {
        guard staged.size <= maximumManifestBytes, let bytes = FileSystem.read(staged.path, limit: maximumManifestBytes) else {
            throw .badRequest("\(file): larger than 16 KiB")
        }
        guard let json = try? JSONValue(parsing: bytes, options: .strict), case .array(let items)? = json["metadata"]?["protocol_versions"]
        else { throw .badRequest("\(file): expected {\"version\": 1, \"metadata\": {\"protocol_versions\": [\"5.0\"]}}") }
        let protocols = items.compactMap(\.stringValue)
        guard (1...8).contains(protocols.count), protocols.count == items.count, protocols.allSatisfy(isProtocolVersion) else {
            throw .badRequest("\(file): protocol_versions must be 1-8 versions such as \"5.0\"")
        }
        return protocols
    }

    static func isProtocolVersion(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (1...3).contains($0.utf8.count) && $0.utf8.allSatisfy(ASCII.isDigit) }
    }
}
