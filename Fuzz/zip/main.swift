import FuzzSupport
import TFRegArchive

// The strict zip reader of provider packages: never traps, never exceeds its limits; what it accepts has
// unique, relative, canonical names and one h1: hash.
let limits = ZipLimits(maximumEntries: 200, maximumExpandedBytes: 8 << 20, maximumNameBytes: 256)

fuzz { bytes in
    guard let entries = try? ZipReader.read(bytes: bytes, limits: limits) else { return }
    if entries.count > limits.maximumEntries { fatalError("accepted \(entries.count) entries") }
    if entries.reduce(Int64(0), { $0 + $1.size }) > limits.maximumExpandedBytes { fatalError("accepted more than the expansion limit") }
    if Set(entries.map(\.name)).count != entries.count { fatalError("accepted a duplicate name") }
    for e in entries {
        let parts = e.name.split(separator: "/", omittingEmptySubsequences: false)
        let components = e.isDirectory ? parts.dropLast() : parts[...]
        if e.name.hasPrefix("/") || components.contains(where: { $0.isEmpty || $0 == "." || $0 == ".." }) || e.name.contains("\\") {
            fatalError("accepted an escaping name: \(e.name)")
        }
    }
    _ = ProviderPackage.hash1(entries)
}
