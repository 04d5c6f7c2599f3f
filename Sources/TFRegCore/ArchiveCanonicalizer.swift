import TFRegSystem

/// Turns an uploaded module archive into the registry's own canonical archive (implemented by
/// `TFRegArchive`). The registry stores, hashes and serves only the canonical bytes, so what
/// `terraform init` unpacks is exactly what one strict reader saw (see docs/architecture.md,
/// "Canonical archives").
public protocol ArchiveCanonicalizer: Sendable {
    /// Reads the archive at `input` completely and strictly, and writes the canonical archive to `output`
    /// (created exclusively, mode 0640). `.badRequest` with a clear reason for anything refused.
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive
}

/// A canonicalizer whose time is reported (`tfreg_canonicalization_duration_seconds{result}`):
/// `RegistryAssembly` wraps the real one in it when metrics are exported.
public struct MeasuredCanonicalizer: ArchiveCanonicalizer {
    public let inner: any ArchiveCanonicalizer
    public let metrics: any MetricsSink

    public init(_ inner: any ArchiveCanonicalizer, metrics: any MetricsSink) {
        self.inner = inner
        self.metrics = metrics
    }

    public func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive {
        let started = ContinuousClock.now
        var result = "refused"
        defer {
            let elapsed = ContinuousClock.now - started
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            metrics.observe("tfreg_canonicalization_duration_seconds", ["result", result], seconds: seconds)
        }
        let archive = try inner.canonicalize(input: input, output: output)
        result = "ok"
        return archive
    }
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
