/// The properties the archive fuzzer (`make fuzz`) checks on every input, through the same code path
/// as the server (`ArchiveCanonicalization.canonicalize(bytes:limits:)`).
public enum ArchiveFuzzProperties {
    /// Small limits, so that one input cannot take the fuzzer's memory or time.
    public static let limits = ArchiveLimits(maximumExpandedBytes: 16 << 20, maximumEntries: 2_000)

    /// Returns a description of the first violated property, or nil. A refused input is fine (the
    /// reader must only never crash); for an accepted one: its canonical archive is accepted again and
    /// re-canonicalizes to exactly the same bytes with the same entries, and stays within the limits.
    public static func check(_ input: [UInt8]) -> String? {
        let first: (archive: [UInt8], entries: [CanonicalEntry])
        do throws(ArchiveError) {
            first = try ArchiveCanonicalization.canonicalize(bytes: input, limits: limits)
        } catch {
            return nil
        }
        if first.entries.count > limits.maximumEntries {
            return "accepted \(first.entries.count) entries, over the limit"
        }
        let data = first.entries.reduce(Int64(0)) { total, e in
            if case .file(let size, _) = e.kind { return total + size }
            return total
        }
        if data > limits.maximumExpandedBytes { return "accepted \(data) bytes of file data, over the limit" }
        let second: (archive: [UInt8], entries: [CanonicalEntry])
        do throws(ArchiveError) {
            second = try ArchiveCanonicalization.canonicalize(bytes: first.archive, limits: limits)
        } catch {
            return "the canonical archive is refused when read again: \(error.message)"
        }
        if second.entries != first.entries {
            return "the canonical archive reads back as other entries: \(first.entries) vs \(second.entries)"
        }
        if second.archive != first.archive { return "canonicalizing the canonical archive changes its bytes" }
        return nil
    }
}
