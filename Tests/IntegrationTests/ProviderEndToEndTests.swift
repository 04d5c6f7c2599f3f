import Foundation
import Testing

/// The real Terraform CLI installs a private provider from `tfreg serve` over HTTPS (issue 20): gpg
/// makes a key and signs SHA256SUMS, a tiny "provider" (a shell script) is zipped for two platforms,
/// the key is added and the release published with `tfreg provider`, and `terraform init` writes a
/// lock file whose `zh:` hashes are the two zips' SHA-256 and whose `h1:` is the registry's.
@Suite(.serialized) struct ProviderEndToEndTests {
    static var terraform: String? { ProcessInfo.processInfo.environment["TERRAFORM"] ?? which("terraform") }
    static var tools: Bool { terraform != nil && which("gpg") != nil && which("python3") != nil }

    /// A goreleaser-shaped release of `demo` `version` in a new directory, signed by `key` (a gpg uid).
    func release(_ version: String, in root: String, gnupg: String, key: String) throws -> (dir: String, sha256: [String: String]) {
        let dir = root + "/release-\(version)-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let script = """
            import hashlib, sys, zipfile
            d, v = sys.argv[1], sys.argv[2]
            lines = []
            for p in ["linux_amd64", "darwin_arm64"]:
                name = f"terraform-provider-demo_{v}_{p}.zip"
                info = zipfile.ZipInfo(f"terraform-provider-demo_v{v}", (2026, 1, 1, 0, 0, 0))
                info.external_attr = 0o755 << 16
                with zipfile.ZipFile(f"{d}/{name}", "w", zipfile.ZIP_DEFLATED) as z:
                    z.writestr(info, f"#!/bin/sh\\necho {p}\\n")
                lines.append(hashlib.sha256(open(f"{d}/{name}", "rb").read()).hexdigest() + "  " + name + "\\n")
            open(f"{d}/terraform-provider-demo_{v}_SHA256SUMS", "w").write("".join(lines))
            """
        let made = try runCommand("/usr/bin/env", ["python3", "-c", script, dir, version])
        guard made.status == 0 else { throw TestFailure("zips: \(made.stderr)") }
        let sums = dir + "/terraform-provider-demo_\(version)_SHA256SUMS"
        let signed = try runCommand(
            "/usr/bin/env",
            ["gpg", "--batch", "--yes", "--local-user", key, "--detach-sign", "--output", sums + ".sig", sums],
            env: ["GNUPGHOME": gnupg]
        )
        guard signed.status == 0 else { throw TestFailure("sign: \(signed.stderr)") }
        var digests: [String: String] = [:]
        for line in try String(contentsOfFile: sums, encoding: .utf8).split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            digests[String(parts[1])] = String(parts[0])
        }
        return (dir, digests)
    }

    /// A GNUPGHOME in the server's directory with an Ed25519 key per uid (the caller stops its agent
    /// with `gpgconf --kill all`); the first uid's public key is added to namespace acme with
    /// `tfreg provider key add` and the `admin` token.
    static func signingKeys(_ server: ServerProcess, admin: String, uids: [String]) throws -> String {
        let gnupg = server.dir + "/gnupg"
        try FileManager.default.createDirectory(atPath: gnupg, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        for uid in uids {
            let r = try runCommand(
                "/usr/bin/env",
                ["gpg", "--batch", "--passphrase", "", "--quick-gen-key", uid, "ed25519", "sign", "never"],
                env: ["GNUPGHOME": gnupg]
            )
            #expect(r.status == 0, "gpg: \(r.stderr)")
        }
        let email = String(uids[0].split(separator: "<").last?.dropLast() ?? "")
        let armor = try runCommand("/usr/bin/env", ["gpg", "--armor", "--export", email], env: ["GNUPGHOME": gnupg])
        try armor.stdout.write(toFile: server.dir + "/key.asc", atomically: true, encoding: .utf8)
        let added = try server.tfreg(
            ["provider", "key", "add", "-n", "acme", "--armor", server.dir + "/key.asc", "--registry", server.host],
            env: ["TFREG_TOKEN": admin]
        )
        #expect(added.status == 0, "key add: \(added.stderr)")
        return gnupg
    }

    @Test(.enabled(if: tools, "terraform, gpg or python3 is not on PATH (make test-deps installs them)"))
    func terraformInitInstallsAPrivateProvider() throws {
        let server = try ServerProcess()
        let admin = try server.token("admin", namespace: "acme", flags: ["--download", "--create-grant"])
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--download", "--upload"])
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let gnupg = try Self.signingKeys(server, admin: admin, uids: ["Release <release@example.com>", "Stranger <stranger@example.com>"])
        defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }

        let registry = ["--registry", server.host]
        let listed = try server.tfreg(["provider", "key", "list", "-n", "acme"] + registry, env: ["TFREG_TOKEN": reader])
        #expect(listed.status == 0 && listed.stdout.contains("added by token:admin"), "\(listed.stdout)\(listed.stderr)")

        let good = try release("1.0.0", in: server.dir, gnupg: gnupg, key: "release@example.com")
        let published = try server.tfreg(
            ["provider", "publish", good.dir, "-n", "acme", "--type", "demo", "--version", "1.0.0", "--output", "json"] + registry,
            env: ["TFREG_TOKEN": publisher]
        )
        #expect(published.status == 0, "publish: \(published.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(published.stdout.utf8)) as? [String: Any]
        let packages = doc?["packages"] as? [[String: Any]] ?? []
        let h1 = packages.first { $0["platform"] as? String == "linux_amd64" }?["h1"] as? String
        #expect(h1?.hasPrefix("h1:") == true, "\(published.stdout)")

        // Refused at publish with a 400 naming the file: a tampered zip, a corrupted signature, a key
        // the namespace does not have.
        let base = "terraform-provider-demo_1.0.1"
        let tampered = try release("1.0.1", in: server.dir, gnupg: gnupg, key: "release@example.com")
        let zip = tampered.dir + "/\(base)_linux_amd64.zip"
        try (try Data(contentsOf: URL(fileURLWithPath: zip)) + Data([0])).write(to: URL(fileURLWithPath: zip))
        let corrupted = try release("1.0.1", in: server.dir, gnupg: gnupg, key: "release@example.com")
        let sig = corrupted.dir + "/\(base)_SHA256SUMS.sig"
        var sigBytes = try Data(contentsOf: URL(fileURLWithPath: sig))
        sigBytes[sigBytes.count - 4] ^= 1
        try sigBytes.write(to: URL(fileURLWithPath: sig))
        let stranger = try release("1.0.1", in: server.dir, gnupg: gnupg, key: "stranger@example.com")
        for (what, dir, file) in [
            ("a tampered zip", tampered.dir, "\(base)_linux_amd64.zip"), ("a corrupted signature", corrupted.dir, "\(base)_SHA256SUMS.sig"),
            ("an unregistered key", stranger.dir, "\(base)_SHA256SUMS.sig"),
        ] {
            let r = try server.tfreg(
                ["provider", "publish", dir, "-n", "acme", "--type", "demo", "--version", "1.0.1"] + registry,
                env: ["TFREG_TOKEN": publisher]
            )
            #expect(r.status != 0 && r.stderr.contains("HTTP 400") && r.stderr.contains(file), "\(what): \(r.stderr)")
        }

        // terraform init installs it and locks both platforms' zh: and the package's h1:.
        let work = makeTemporaryDirectory("tf-provider")
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
        let initialized = try runCommand(
            Self.terraform!,
            ["init", "-input=false", "-no-color"],
            env: [
                "HOME": work, "TF_CLI_CONFIG_FILE": work + "/terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1",
            ],
            cwd: work
        )
        #expect(initialized.status == 0, "terraform init:\n\(initialized.stdout)\n\(initialized.stderr)")
        #expect(initialized.stdout.contains("Installed \(server.host)/acme/demo v1.0.0"), "\(initialized.stdout)")
        let lock = (try? String(contentsOfFile: work + "/.terraform.lock.hcl", encoding: .utf8)) ?? ""
        for (name, digest) in good.sha256 { #expect(lock.contains("\"zh:\(digest)\""), "\(name) not locked:\n\(lock)") }
        #expect(good.sha256.count == 2)
        if let h1 { #expect(lock.contains("\"\(h1)\""), "h1 not locked:\n\(lock)") }

        // Deprecated: terraform init prints the registry's warning; deleted: the number is gone for good.
        let version = ["-n", "acme", "--type", "demo", "--version", "1.0.0"] + registry
        let deprecated = try server.tfreg(
            ["provider", "deprecate", "--reason", "CVE in the client", "--replacement", "1.0.2"] + version,
            env: ["TFREG_TOKEN": publisher]
        )
        #expect(deprecated.status == 0, "deprecate: \(deprecated.stderr)")
        let warned = try runCommand(
            Self.terraform!,
            ["init", "-input=false", "-no-color", "-upgrade"],
            env: [
                "HOME": work, "TF_CLI_CONFIG_FILE": work + "/terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1",
            ],
            cwd: work
        )
        #expect(
            warned.status == 0 && (warned.stdout + warned.stderr).contains("acme/demo 1.0.0 is deprecated: CVE in the client"),
            "\(warned.stdout)\(warned.stderr)"
        )
        #expect(
            try server.tfreg(["provider", "delete"] + version, env: ["TFREG_TOKEN": publisher]).status != 0,
            "delete without --yes off a terminal"
        )
        #expect(try server.tfreg(["provider", "delete", "--yes"] + version, env: ["TFREG_TOKEN": publisher]).status == 0)
        let again = try server.tfreg(["provider", "delete", "--yes"] + version, env: ["TFREG_TOKEN": publisher])
        #expect(again.status != 0 && again.stderr.contains("HTTP 404"), "\(again.stderr)")
        let republished = try server.tfreg(
            ["provider", "publish", good.dir, "-n", "acme", "--type", "demo", "--version", "1.0.0"] + registry,
            env: ["TFREG_TOKEN": publisher]
        )
        #expect(republished.status != 0 && republished.stderr.contains("HTTP 409"), "\(republished.stderr)")

        #expect(server.stop() == 0)
        for t in [admin, publisher, reader] { #expect(!server.logText.contains(t)) }
    }
}
