import TFRegCore
import TFRegSystem

/// The mirror settings of `serve` and `lambda` (issue 20): `--mirror-namespace` / `TFREG_MIRROR_NAMESPACE`
/// (default `mirror`) and `--mirror-allow` / `TFREG_MIRROR_ALLOW` (comma-separated `HOST` or
/// `HOST/NAMESPACE` entries; none: no upstream may be imported).
enum MirrorSetup {
    static let namespaceSetting = Setting("--mirror-namespace", env: "TFREG_MIRROR_NAMESPACE")
    static let allowSetting = Setting("--mirror-allow", env: "TFREG_MIRROR_ALLOW")

    /// `allowFlags`: the repeated flag's values (each may itself list entries separated by commas); when
    /// empty, the variable's.
    static func resolve(namespace flagNamespace: String?, allow allowFlags: [String]) throws(CLIError) -> MirrorSettings {
        var settings = MirrorSettings()
        if let (text, source) = namespaceSetting.text(flagNamespace) {
            guard let ns = try? Namespace(text), !text.utf8.contains(where: { (65...90).contains($0) }) else {
                throw namespaceSetting.invalid(text, expected: "a lower-case namespace such as mirror", source: source)
            }
            settings.namespace = ns
        }
        let (raw, source): ([String], Setting.Source) =
            allowFlags.isEmpty ? (allowSetting.text(nil).map { [$0.value] } ?? [], .environment) : (allowFlags, .flag)
        for item in raw {
            for entry in item.split(separator: ",").map({ $0.trimmingSpaces() }) where !entry.isEmpty {
                guard let parsed = MirrorSettings.entry(entry) else {
                    throw allowSetting.invalid(
                        entry,
                        expected: "HOST or HOST/NAMESPACE in lower case, such as registry.terraform.io/hashicorp",
                        source: source
                    )
                }
                settings.allowed.append(parsed)
            }
        }
        return settings
    }
}
