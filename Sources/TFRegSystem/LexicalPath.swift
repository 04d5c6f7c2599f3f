/// Paths resolved as text, never against the file system: how tfreg decides whether a symlink in a
/// module stays inside it (packing a directory, canonicalizing an upload).
public enum LexicalPath {
    /// Resolves the `/`-separated relative `target` against the directory `base` (its components):
    /// empty and `.` components are skipped, `..` drops the last one. Nil as soon as `..` would leave
    /// the root. `eachName` sees every name component appended, in order (for per-component limits),
    /// so a caller's errors come in the order they stand in the target.
    public static func resolve<E: Error>(
        _ target: some Collection<UInt8>,
        in base: [[UInt8]],
        eachName: ([UInt8]) throws(E) -> Void
    ) throws(E) -> [[UInt8]]? {
        var resolved = base
        for part in target.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: true) {
            if part.elementsEqual([UInt8(ascii: ".")]) { continue }
            if part.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                guard !resolved.isEmpty else { return nil }
                resolved.removeLast()
                continue
            }
            let name = Array(part)
            try eachName(name)
            resolved.append(name)
        }
        return resolved
    }

    /// `resolve` without a per-component check.
    public static func resolve(_ target: some Collection<UInt8>, in base: [[UInt8]]) -> [[UInt8]]? {
        resolve(target, in: base) { (_: [UInt8]) throws(Never) in }
    }
}
