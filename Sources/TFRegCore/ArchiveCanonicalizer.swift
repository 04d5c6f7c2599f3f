/// Turns an uploaded module archive into the registry's own canonical archive (implemented by
/// `TFRegArchive`). The registry stores, hashes and serves only the canonical bytes, so what
/// `terraform init` unpacks is exactly what one strict reader saw (see docs/architecture.md,
/// "Canonical archives").
public protocol ArchiveCanonicalizer: Sendable {
    /// Reads the archive at `input` completely and strictly, and writes the canonical archive to `output`
    /// (created exclusively, mode 0640). `.badRequest` with a clear reason for anything refused.
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive
}

/// What a canonicalizer wrote: the canonical archive's size, lowercase hex SHA-256 and entry count.
public struct CanonicalArchive: Sendable, Equatable {
    public let size: Int64
    public let sha256: String
    public let entries: Int

    public init(size: Int64, sha256: String, entries: Int) {
        self.size = size
        self.sha256 = sha256
        self.entries = entries
    }
}
