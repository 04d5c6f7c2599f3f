import Foundation
import Testing

/// The network mirror of this registry's own providers with the real Terraform CLI (issue 20): a
/// release published as in `ProviderEndToEndTests`, then `terraform providers lock -net-mirror` records
/// an `h1:` for each of the two platforms — Terraform's own hash of each zip, which must be the `h1:`
/// the mirror lists — and `terraform init` with a `network_mirror` installs the provider through it.
@Suite(.serialized) struct ProviderMirrorTests {
    @Test(.enabled(if: ProviderEndToEndTests.tools, "terraform, gpg or python3 is not on PATH (make test-deps installs them)"))
    func terraformLocksAndInstallsThroughTheMirror() throws {
        // The provider's origin host name is the registry's public one, without a port: Terraform
        // cannot use a mirror for a provider whose host name has one (it joins "HOST:PORT/NS/TYPE/…" to
        // the mirror URL as a relative path, which Go's URL parser refuses). tfreg.test need not resolve:
        // with a network mirror Terraform never asks the origin.
        let server = try ServerProcess(extraArgs: ["--public-url", "https://tfreg.test"])
        let admin = try server.token("admin", namespace: "acme", flags: ["--download", "--create-grant", "--upload"])
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let gnupg = try ProviderEndToEndTests.signingKeys(server, admin: admin, uids: ["Release <release@example.com>"])
        defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
        let registry = ["--registry", server.host]
        let release = try ProviderEndToEndTests().release("1.0.0", in: server.dir, gnupg: gnupg, key: "release@example.com")
        let published = try server.tfreg(
            ["provider", "publish", release.dir, "-n", "acme", "--type", "demo", "--version", "1.0.0", "--output", "json"] + registry,
            env: ["TFREG_TOKEN": admin]
        )
        #expect(published.status == 0, "publish: \(published.stderr)")
        let doc = try JSONSerialization.jsonObject(with: Data(published.stdout.utf8)) as? [String: Any]
        let packages = doc?["packages"] as? [[String: Any]] ?? []
        let h1s = Set(packages.compactMap { $0["h1"] as? String })
        #expect(h1s.count == 2, "\(published.stdout)")

        let work = makeTemporaryDirectory("tf-mirror")
        try """
        terraform {
          required_providers {
            demo = {
              source  = "tfreg.test/acme/demo"
              version = "1.0.0"
            }
          }
        }
        """.write(toFile: work + "/main.tf", atomically: true, encoding: .utf8)
        let mirror = "https://\(server.host)/v1/mirror/"
        try """
        credentials "\(server.host)" {
          token = "\(reader)"
        }
        provider_installation {
          network_mirror {
            url = "\(mirror)"
          }
        }
        """.write(toFile: work + "/terraformrc", atomically: true, encoding: .utf8)
        let env = [
            "HOME": work, "TF_CLI_CONFIG_FILE": work + "/terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        ]
        // A lock file for both platforms from the mirror alone: Terraform hashes each zip itself.
        let locked = try runCommand(
            ProviderEndToEndTests.terraform!,
            ["providers", "lock", "-no-color", "-net-mirror=\(mirror)", "-platform=linux_amd64", "-platform=darwin_arm64"],
            env: env,
            cwd: work
        )
        #expect(locked.status == 0, "terraform providers lock:\n\(locked.stdout)\n\(locked.stderr)")
        let lock = (try? String(contentsOfFile: work + "/.terraform.lock.hcl", encoding: .utf8)) ?? ""
        for h1 in h1s { #expect(lock.contains("\"\(h1)\""), "\(h1) not locked:\n\(lock)") }

        // terraform init installs through the mirror (the archive link carries no credentials).
        let initialized = try runCommand(ProviderEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env, cwd: work)
        #expect(initialized.status == 0, "terraform init:\n\(initialized.stdout)\n\(initialized.stderr)")
        #expect(initialized.stdout.contains("Installed tfreg.test/acme/demo v1.0.0"), "\(initialized.stdout)")
        #expect(server.logShows("/v1/mirror/"), "the mirror was not asked")
        #expect(server.stop() == 0)
    }
}
