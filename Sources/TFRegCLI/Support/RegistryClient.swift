import ArgumentParser
import Glibc
import TFRegHTTPClient
import TFRegSystem

/// The one place the CLI builds its HTTP client (registry, STS, AWS) and names itself.
///
/// Trust for HTTPS, first that is set: `--ca-bundle PATH` (where a command has it), `SSL_CERT_FILE`,
/// `AWS_CA_BUNDLE` (kept for the AWS CLI's users: it is the variable they already set for STS), then
/// the system CA store (`CurlHTTPClient` probes the usual bundle files).
enum RegistryClient {
    /// `User-Agent` of every request tfreg sends.
    static let userAgent = "tfreg/\(TFReg.version)"
    /// The `User-Agent` header field, to append to a request's headers.
    static var userAgentHeader: (name: String, value: String) { ("User-Agent", userAgent) }

    /// The CA bundle the documented precedence picks; nil means the system store.
    static func caBundle(flag: String? = nil, environment env: [String: String] = Env.all) -> String? {
        if let flag, !flag.isEmpty { return flag }
        if let v = env["SSL_CERT_FILE"], !v.isEmpty { return v }
        if let v = env["AWS_CA_BUNDLE"], !v.isEmpty { return v }
        return nil
    }

    static func make(caBundle flag: String? = nil, environment env: [String: String] = Env.all) -> CurlHTTPClient {
        CurlHTTPClient(caBundle: caBundle(flag: flag, environment: env))
    }
}

/// `--ca-bundle PATH` for commands that talk to a registry.
struct CABundleOption: ParsableArguments {
    @Option(
        name: .customLong("ca-bundle"),
        help: ArgumentHelp(
            "Trust the CA certificates in this PEM file (default: SSL_CERT_FILE, AWS_CA_BUNDLE, else the system store).",
            valueName: "path"
        )
    )
    var caBundle: String?

    /// The flag's file, checked: one that cannot be opened is named as the flag (exit 66), not met
    /// later as a TLS failure that blames SSL_CERT_FILE and suggests retrying.
    func checked() throws(CLIError) -> String? {
        guard let caBundle, !caBundle.isEmpty else { return nil }
        guard access(caBundle, R_OK) == 0 else {
            throw .notFound(
                "--ca-bundle \(caBundle.prefix(200)): cannot read it (\(FileSystem.exists(caBundle) ? "permission denied" : "no such file"))"
            )
        }
        return caBundle
    }
}
