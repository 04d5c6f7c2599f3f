import FuzzSupport

@testable import TFRegCLI

/// The Terraform CLI config reader (`CLIConfigParser`: `credentials "HOST" { token = "…" }` in HCL
/// with comments) and the `TF_TOKEN_…` name of a host (with punycode for non-ASCII labels). The
/// first line is also taken as a host. Properties: never traps; a variable name, when there is one,
/// is `TF_TOKEN_` + only `[a-z0-9_]`.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    _ = CLIConfigParser.credentials(in: text)
    let host = String(text.prefix { $0 != "\n" })
    if let name = TerraformCredentials.environmentVariableName(for: host) {
        guard name.hasPrefix("TF_TOKEN_"),
            name.dropFirst(9).utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7a) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x5f })
        else { fatalError("variable name \(name.debugDescription) for \(host.debugDescription)") }
    }
}
