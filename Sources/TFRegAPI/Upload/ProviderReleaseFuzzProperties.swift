import Glibc
import TFRegCore
import TFRegCrypto
import TFRegSystem

/// What the fuzz target `provider-release` checks of the provider upload's tar splitter and classifier
/// on any bytes (public because fuzz targets import TFRegAPI without testability): it never traps;
/// a refused upload leaves nothing staged; what it accepts is at most `maximumMembers` flat,
/// distinct names whose staged bytes have the digest recorded for them. Returns nil, or the property
/// that does not hold.
public enum ProviderReleaseFuzzProperties {
    public static func check(_ bytes: [UInt8], directory: String) -> String? {
        let tar = directory + "/release.tar"
        do { try FileSystem.writeAtomically(tar, bytes, mode: 0o600) } catch { return nil }
        defer { unlink(tar) }
        let members: [(String, StagedArchive)]
        do {
            members = try ProviderReleaseStager.split(tar, size: Int64(bytes.count), into: directory)
        } catch {
            let left = FileSystem.list(directory).filter { $0 != "release.tar" }
            return left.isEmpty ? nil : "a refused upload left staged files: \(left.prefix(3))"
        }
        defer { for (_, staged) in members { unlink(staged.path) } }
        if members.count > ProviderReleaseStager.maximumMembers { return "accepted \(members.count) members" }
        if Set(members.map(\.0)).count != members.count { return "accepted a name twice" }
        for (name, staged) in members {
            if name.isEmpty || name.contains("/") || name == "." || name == ".." || name.utf8.contains(0) {
                return "accepted a member name that is not a flat file name: \(name.debugDescription)"
            }
            guard let data = FileSystem.read(staged.path, limit: bytes.count + 1), Int64(data.count) == staged.size,
                Hex.encode(SHA256.hash(data)) == staged.sha256
            else { return "the staged bytes of \(name.debugDescription) are not what their size and digest say" }
        }
        // As a release of acme/demo 1.0.0: accepted or refused with an error, never a trap.
        if let provider = try? ProviderAddress(namespace: "acme", type: "demo"), let version = try? Version("1.0.0") {
            _ = try? ProviderReleaseStager.classify(members, provider: provider, version: version)
        }
        return nil
    }
}
