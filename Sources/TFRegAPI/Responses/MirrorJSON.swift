import TFRegCore
import TFRegJSON

/// The JSON shapes of the provider network mirror protocol, each written once.
enum MirrorJSON {
    /// `{"versions": {"1.2.0": {}, …}}`: every live version (deprecated ones too: a mirror has no
    /// place for the warning, and a lock file may pin one).
    static func index(_ records: [ProviderVersionRecord]) -> JSONValue {
        .object([("versions", .object(records.map { ($0.version.description, JSONValue.object([])) }))])
    }

    /// `{"archives": {"OS_ARCH": {"url", "hashes": ["h1:…", "zh:…"]}}}`, one entry per platform, each
    /// with both hashes: Terraform installing through a mirror records only `h1:` of its own platform,
    /// but `terraform providers lock -net-mirror` (and OpenTofu's `trust_all_hashes`) records what is
    /// listed, so lock files for every platform can be built from this registry alone.
    static func version(_ record: ProviderVersionRecord, urls: [String]) -> JSONValue {
        let archives = zip(record.packages, urls).map { p, url in
            (
                p.platform.description,
                JSONValue.object([("url", .string(url)), ("hashes", .array([.string(p.h1), .string("zh:" + p.zip.sha256)]))])
            )
        }
        return .object([("archives", .object(archives))])
    }
}
