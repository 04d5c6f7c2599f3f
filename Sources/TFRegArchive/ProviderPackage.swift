import TFRegCore
import TFRegCrypto

/// What tfreg checks in a provider package zip, and the `h1:` hash Terraform records for it.
public enum ProviderPackage {
    /// Go's `dirhash.Hash1` over the package's files as Terraform hashes an installed package
    /// (`dirhash.HashDir`, internal/getproviders/hash.go `PackageHashV1`): one `sha256hex  name\n` line per
    /// file, sorted by the names' bytes (Go's `sort.Strings`), directories skipped; SHA-256 of that;
    /// `h1:` + standard base64. (`dirhash.HashZip` would also hash directory entries; for the flat zips
    /// release tooling makes the two agree.)
    public static func hash1(_ entries: [ZipEntry]) -> String {
        let files = entries.filter { !$0.isDirectory }.sorted { Array($0.name.utf8).lexicographicallyPrecedes(Array($1.name.utf8)) }
        var summary: [UInt8] = []
        for file in files {
            summary += Array(Hex.encode(file.sha256).utf8) + [0x20, 0x20] + Array(file.name.utf8) + [0x0A]
        }
        return "h1:" + Base64.encode(SHA256.hash(summary))
    }

    /// Refuses a package without its provider executable at the top level: a file named
    /// `terraform-provider-TYPE`, optionally followed by `_…` (`_v1.2.3`) or `.exe`, as Terraform's
    /// installer looks for it.
    public static func checkContainsProvider(_ entries: [ZipEntry], type: String) throws(ArchiveError) {
        let prefix = "terraform-provider-\(type)"
        let found = entries.contains { entry in
            guard !entry.isDirectory, !entry.name.contains("/"), entry.name.hasPrefix(prefix) else { return false }
            let rest = entry.name.dropFirst(prefix.count)
            return rest.isEmpty || rest.hasPrefix("_") || rest == ".exe"
        }
        guard found else { throw ArchiveError("the zip has no \(prefix) executable at its top level") }
    }
}

/// The service's provider package check (`ProviderPackageInspector`) on the strict zip reader.
public struct ZipProviderInspector: ProviderPackageInspector {
    public let limits: ZipLimits

    public init(limits: ZipLimits = ZipLimits()) { self.limits = limits }

    public func inspect(zip path: String, file: String, type: String) throws(RegistryError) -> String {
        do {
            let entries = try ZipReader.read(path: path, limits: limits)
            try ProviderPackage.checkContainsProvider(entries, type: type)
            return ProviderPackage.hash1(entries)
        } catch {
            throw .badRequest("\(file): \(error.message)")
        }
    }
}
