import Foundation
import Testing

extension MotoBackedTests {
    /// A private provider installed by the real Terraform with the caller's AWS identity and no token
    /// anywhere (issue 20, "static token and IAM token"): `tfreg install-helper`, a grant for the IAM
    /// user moto signs as, and `terraform init` through the credentials helper, which trades a signed
    /// GetCallerIdentity (checked by moto's STS) for a sealed token. A principal without the grant is
    /// refused by the same path.
    @Suite(
        .serialized,
        .enabled(if: MotoServer.available && ProviderEndToEndTests.tools, "needs moto_server, terraform and gpg (make test installs them)")
    )
    struct ProviderIAMTests {
        @Test func terraformInitInstallsAProviderWithAnIAMIdentity() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let port = try MotoServer.freePort()
            let host = "127.0.0.1:\(port)"
            let server = try ServerProcess(
                extraEnv: ["TFREG_AUDIENCE": host, "AWS_ENDPOINT_URL_STS": moto.endpoint, "AWS_EC2_METADATA_DISABLED": "true"],
                port: port
            )
            let admin = try server.token("admin", namespace: "acme", flags: ["--download", "--create-grant"])
            let publisher = try server.token("publisher", namespace: "acme", flags: ["--download", "--upload"])
            let gnupg = try ProviderEndToEndTests.signingKeys(server, admin: admin, uids: ["Release <release@example.com>"])
            defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
            let release = try ProviderEndToEndTests().release("1.2.0", in: server.dir, gnupg: gnupg, key: "release@example.com")
            let published = try server.tfreg(
                ["provider", "publish", release.dir, "-n", "acme", "--type", "demo", "--version", "1.2.0", "--registry", host],
                env: ["TFREG_TOKEN": publisher]
            )
            #expect(published.status == 0, "publish: \(published.stderr)")

            let home = makeTemporaryDirectory("tf-provider-iam")
            let installed = try runCommand(
                TFRegBinary.path,
                ["install-helper", "--registry-host", host],
                env: ["HOME": home, "SSL_CERT_FILE": server.cert]
            )
            #expect(installed.status == 0, "\(installed.stderr)")
            try """
            terraform {
              required_providers {
                demo = {
                  source  = "\(host)/acme/demo"
                  version = "~> 1.2"
                }
              }
            }
            """.write(toFile: home + "/main.tf", atomically: true, encoding: .utf8)
            let env = [
                "HOME": home, "TF_CLI_CONFIG_FILE": home + "/.terraformrc", "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1",
                "TF_IN_AUTOMATION": "1", "AWS_ACCESS_KEY_ID": moto.accessKeyID, "AWS_SECRET_ACCESS_KEY": moto.secretAccessKey,
                "AWS_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true",
            ]
            // Deny by default: the IAM user has no grant yet, so the helper's token reads nothing.
            let denied = try runCommand(ProviderEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env, cwd: home)
            #expect(denied.status != 0 && !(denied.stdout.contains("Installed")), "\(denied.stdout)\(denied.stderr)")

            // moto's IAM user is arn:aws:iam::123456789012:user/tfreg-test.
            let grant = try server.tfreg(["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:user/tfreg-test", "-d"])
            #expect(grant.status == 0, "\(grant.stderr)")
            let initialized = try runCommand(ProviderEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env, cwd: home)
            #expect(initialized.status == 0, "terraform init:\n\(initialized.stdout)\n\(initialized.stderr)")
            #expect(initialized.stdout.contains("Installed \(host)/acme/demo v1.2.0"), "\(initialized.stdout)")
            let lock = (try? String(contentsOfFile: home + "/.terraform.lock.hcl", encoding: .utf8)) ?? ""
            #expect(release.sha256.count == 2)
            for (name, digest) in release.sha256 { #expect(lock.contains("\"zh:\(digest)\""), "\(name) not locked:\n\(lock)") }
            // No static token was involved: no credentials file, and the server saw an IAM principal.
            #expect(!FileManager.default.fileExists(atPath: home + "/.terraform.d/credentials.tfrc.json"))
            #expect(server.stop() == 0)
            #expect(server.logText.contains("arn:aws:iam::123456789012:user/tfreg-test"), "\(server.logText.suffix(1500))")
            for t in [admin, publisher] { #expect(!server.logText.contains(t)) }
            #expect(!server.logText.contains(moto.secretAccessKey))
        }
    }
}
