import TFRegCore
import TFRegJSON

/// The JSON shapes of the provider routes, each written once (provider registry protocol, "List
/// Available Versions" and "Find a Provider Package"; OpenTofu's `packages`), and tfreg's answers for
/// uploads and keys.
enum ProviderJSON {
    /// `{"versions": [{"version", "protocols", "platforms": [{"os", "arch"}]}], "warnings": [...]}`:
    /// `warnings` (printed by `terraform init`) names each deprecated version, and is left out when none is.
    static func versions(_ provider: ProviderAddress, _ records: [ProviderVersionRecord]) -> JSONValue {
        let versions = records.map { r in
            JSONValue.object([
                ("version", .string(r.version.description)), ("protocols", .array(r.protocols.map(JSONValue.string))),
                ("platforms", .array(r.packages.map { .object([("os", .string($0.platform.os)), ("arch", .string($0.platform.arch))]) })),
            ])
        }
        let warnings = records.compactMap { r -> JSONValue? in
            guard let d = r.deprecation else { return nil }
            var text = "\(provider) \(r.version) is deprecated"
            if !d.reason.isEmpty { text += ": \(d.reason)" }
            if let replacement = d.replacement { text += " (use \(replacement) instead)" }
            return .string(text)
        }
        var fields: [(String, JSONValue)] = [("versions", .array(versions))]
        if !warnings.isEmpty { fields.append(("warnings", .array(warnings))) }
        return .object(fields)
    }

    /// The links a download answers with: the package zip, `SHA256SUMS` and its signature.
    struct Links {
        var zip: String
        var shasums: String
        var signature: String
    }

    /// "Find a Provider Package": the platform's zip and the release's signed sums, the namespace's
    /// keys, and `packages` (OpenTofu ≥ 1.12) with `zh:` and `h1:` for every platform of the version.
    static func download(
        _ record: ProviderVersionRecord,
        package: ProviderPackageRecord,
        keys: [ProviderSigningKey],
        links: Links,
        sourceURL: String
    ) -> JSONValue {
        let gpgKeys = keys.map { k in
            JSONValue.object([
                ("key_id", .string(k.keyID)), ("ascii_armor", .string(k.asciiArmor)), ("trust_signature", .string("")),
                ("source", .string("tfreg namespace \(k.namespace)")), ("source_url", .string(sourceURL)),
            ])
        }
        let packages = record.packages.map { p in
            (
                p.platform.description,
                JSONValue.object([
                    ("hashes", .array([.string("zh:" + p.zip.sha256), .string(p.h1)])), ("package_size", .int(p.zip.size)),
                ])
            )
        }
        return .object([
            ("protocols", .array(record.protocols.map(JSONValue.string))), ("os", .string(package.platform.os)),
            ("arch", .string(package.platform.arch)), ("filename", .string(package.filename)), ("download_url", .string(links.zip)),
            ("shasums_url", .string(links.shasums)), ("shasums_signature_url", .string(links.signature)),
            ("shasum", .string(package.zip.sha256)), ("signing_keys", .object([("gpg_public_keys", .array(gpgKeys))])),
            ("packages", .object(packages)),
        ])
    }

    /// The answer to an upload: the version as stored.
    static func published(_ record: ProviderVersionRecord) -> JSONValue {
        let packages = record.packages.map { p in
            JSONValue.object([
                ("platform", .string(p.platform.description)), ("filename", .string(p.filename)), ("sha256", .string(p.zip.sha256)),
                ("size", .int(p.zip.size)), ("h1", .string(p.h1)),
            ])
        }
        return .object(
            [
                ("provider", .string(record.provider.description)), ("version", .string(record.version.description)),
                ("protocols", .array(record.protocols.map(JSONValue.string))), ("key_fingerprint", .string(record.keyFingerprint)),
                ("packages", .array(packages)),
            ] + (record.deprecation.map { [("deprecation", ModuleJSON.deprecation($0))] } ?? [])
        )
    }

    static func key(_ k: ProviderSigningKey) -> JSONValue {
        .object(
            [
                ("key_id", .string(k.keyID)), ("fingerprint", .string(k.fingerprint)), ("namespace", .string(k.namespace.value)),
                ("ascii_armor", .string(k.asciiArmor)), ("added_at", .int(k.addedAt)),
            ] + (k.addedBy.map { [("added_by", .string($0))] } ?? [])
        )
    }

    static func keys(_ keys: [ProviderSigningKey]) -> JSONValue { .object([("keys", .array(keys.map(key)))]) }
}
