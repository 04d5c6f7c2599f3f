import Foundation
import TFRegCrypto
import Testing

/// Bytes changed in storage behind the registry's back (issue 20): the registry verified the release
/// at publish, but a zip or a signature altered afterwards on disk must still be refused by the real
/// `terraform init`, which checks the zip against the signed SHA256SUMS and the signature against the
/// keys the download lists. Nothing is installed either time; with the original bytes back, it is.
@Suite(.serialized) struct ProviderTamperTests {
    /// The stored file named `name` (content-addressed: `…/sha256/HH/DIGEST.EXT`) below `root`.
    static func find(_ name: String, under root: String) -> String? {
        guard let e = FileManager.default.enumerator(atPath: root) else { return nil }
        for case let p as String in e where (p as NSString).lastPathComponent == name { return root + "/" + p }
        return nil
    }

    @Test(.enabled(if: ProviderEndToEndTests.tools, "terraform, gpg or python3 is not on PATH (make test-deps installs them)"))
    func terraformInitRefusesBytesChangedInStorage() throws {
        let server = try ServerProcess()
        let admin = try server.token("admin", namespace: "acme", flags: ["--download", "--create-grant"])
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--download", "--upload"])
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let gnupg = try ProviderEndToEndTests.signingKeys(server, admin: admin, uids: ["Release <release@example.com>"])
        defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
        let release = try ProviderEndToEndTests().release("1.0.0", in: server.dir, gnupg: gnupg, key: "release@example.com")
        let published = try server.tfreg(
            ["provider", "publish", release.dir, "-n", "acme", "--type", "demo", "--version", "1.0.0", "--registry", server.host],
            env: ["TFREG_TOKEN": publisher]
        )
        #expect(published.status == 0, "publish: \(published.stderr)")
        let zipDigest = try #require(release.sha256["terraform-provider-demo_1.0.0_linux_amd64.zip"])
        let sumsBytes = try Data(contentsOf: URL(fileURLWithPath: release.dir + "/terraform-provider-demo_1.0.0_SHA256SUMS"))
        let sigBytes = try Data(contentsOf: URL(fileURLWithPath: release.dir + "/terraform-provider-demo_1.0.0_SHA256SUMS.sig"))
        let sigDigest = Hex.encode(SHA256.hash(Array(sigBytes)))
        let zipFile = try #require(Self.find(zipDigest + ".zip", under: server.dir), "the stored zip")
        let sigFile = try #require(Self.find(sigDigest + "_SHA256SUMS.sig", under: server.dir), "the stored signature")
        #expect(!sumsBytes.isEmpty)

        let work = makeTemporaryDirectory("tf-provider-tamper")
        try """
        terraform {
          required_providers {
            demo = {
              source  = "\(server.host)/acme/demo"
              version = "1.0.0"
            }
          }
        }
        """.write(toFile: work + "/main.tf", atomically: true, encoding: .utf8)
        try "credentials \"\(server.host)\" {\n  token = \"\(reader)\"\n}\n".write(toFile: work + "/terraformrc", atomically: true, encoding: .utf8)
        func terraformInit() throws -> CommandResult {
            try? FileManager.default.removeItem(atPath: work + "/.terraform")
            try? FileManager.default.removeItem(atPath: work + "/.terraform.lock.hcl")
            return try runCommand(
                ProviderEndToEndTests.terraform!,
                ["init", "-input=false", "-no-color"],
                env: [
                    "HOME": work, "TF_CLI_CONFIG_FILE": work + "/terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                    "TF_IN_AUTOMATION": "1",
                ],
                cwd: work
            )
        }
        /// Rewrites `path` with one byte changed (same length), runs `check`, then puts the bytes back.
        func tampered(_ path: String, at offset: Int, _ check: () throws -> Void) throws {
            let original = try Data(contentsOf: URL(fileURLWithPath: path))
            var changed = original
            changed[offset] ^= 0x01
            try changed.write(to: URL(fileURLWithPath: path))
            defer { try? original.write(to: URL(fileURLWithPath: path)) }
            try check()
        }

        try tampered(zipFile, at: 40) {
            let r = try terraformInit()
            let out = (r.stdout + r.stderr).lowercased()
            #expect(r.status != 0 && !out.contains("installed \(server.host)") && out.contains("checksum"), "\(r.stdout)\(r.stderr)")
            #expect(!FileManager.default.fileExists(atPath: work + "/.terraform.lock.hcl"))
        }
        try tampered(sigFile, at: sigBytes.count - 4) {
            let r = try terraformInit()
            let out = (r.stdout + r.stderr).lowercased()
            #expect(r.status != 0 && !out.contains("installed \(server.host)") && out.contains("signature"), "\(r.stdout)\(r.stderr)")
        }
        // The original bytes back: installed, as a control that the refusals came from the changes.
        let ok = try terraformInit()
        #expect(ok.status == 0 && ok.stdout.contains("Installed \(server.host)/acme/demo v1.0.0"), "\(ok.stdout)\(ok.stderr)")
        #expect(server.stop() == 0)
    }
}
