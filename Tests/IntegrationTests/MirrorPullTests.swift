import Foundation
import TFRegHTTPClient
import Testing

/// `tfreg mirror pull` between two real registries, then the real Terraform CLI through the mirror
/// (issue 20). A second `tfreg serve` is the upstream: it publishes a gpg-signed `demo` for linux_amd64
/// and darwin_arm64 (as `ProviderEndToEndTests` does). With its stored signature, then its linux zip,
/// changed behind its back, the pull refuses and the registry stores nothing; restored, the pull imports
/// `upstream.test/acme/demo` into the first registry; `terraform providers lock -net-mirror` records the
/// `h1:` of both platforms and `terraform init` with a `network_mirror` installs it.
@Suite(.serialized) struct MirrorPullTests {
    /// Credentials in an upstream URL would end up in messages: refused before anything is contacted.
    @Test func anUpstreamURLWithCredentialsIsRefused() throws {
        for url in ["https://user:secret@upstream.test", "https://token@upstream.test/prefix"] {
            let r = try runCommand(
                TFRegBinary.path,
                [
                    "mirror", "pull", "upstream.test/acme/demo", "--version", "1.0.0", "--platform", "linux_amd64", "--registry",
                    "registry.invalid", "--upstream-url", url,
                ],
                env: ["HOME": makeTemporaryDirectory("pull-url")]
            )
            #expect(r.status == 64 && r.stderr.contains("must not carry credentials") && !r.stderr.contains("secret"), "\(url): \(r.stderr)")
        }
    }

    @Test(.enabled(if: ProviderEndToEndTests.tools, "terraform, gpg or python3 is not on PATH (make test-deps installs them)"))
    func pullVerifiesThenTerraformInstallsThroughTheMirror() async throws {
        let upstream = try ServerProcess()
        let admin = try upstream.token("admin", namespace: "acme", flags: ["--download", "--create-grant", "--upload"])
        let upstreamReader = try upstream.token("reader", namespace: "acme", flags: ["--download"])
        let gnupg = try ProviderEndToEndTests.signingKeys(upstream, admin: admin, uids: ["Release <release@example.com>"])
        defer { _ = try? runCommand("/usr/bin/env", ["gpgconf", "--kill", "all"], env: ["GNUPGHOME": gnupg]) }
        let release = try ProviderEndToEndTests().release("1.0.0", in: upstream.dir, gnupg: gnupg, key: "release@example.com")
        let published = try upstream.tfreg(
            ["provider", "publish", release.dir, "-n", "acme", "--type", "demo", "--version", "1.0.0", "--registry", upstream.host],
            env: ["TFREG_TOKEN": admin]
        )
        #expect(published.status == 0, "publish: \(published.stderr)")

        // The registry: its public host name has no port (Terraform cannot mirror through one that has),
        // and it imports only from upstream.test.
        let registry = try ServerProcess(extraArgs: ["--public-url", "https://tfreg.test", "--mirror-allow", "upstream.test"])
        let puller = try registry.token("puller", namespace: "mirror", flags: ["--download", "--upload"])
        let reader = try registry.token("reader", namespace: "mirror", flags: ["--download"])
        let bundle = registry.dir + "/both.pem"
        try (try String(contentsOfFile: registry.cert, encoding: .utf8) + String(contentsOfFile: upstream.cert, encoding: .utf8))
            .write(toFile: bundle, atomically: true, encoding: .utf8)
        try upstreamReader.write(toFile: registry.dir + "/upstream-token", atomically: true, encoding: .utf8)
        func pull(_ extra: [String] = []) throws -> CommandResult {
            try registry.tfreg(
                [
                    "mirror", "pull", "upstream.test/acme/demo", "--version", "~> 1.0", "--platform", "linux_amd64", "--platform",
                    "darwin_arm64", "--registry", registry.host, "--upstream-url", upstream.baseURL, "--upstream-token-file",
                    registry.dir + "/upstream-token",
                ] + extra,
                env: ["TFREG_TOKEN": puller, "SSL_CERT_FILE": bundle]
            )
        }
        let index = "\(registry.baseURL)/v1/mirror/upstream.test/acme/demo/index.json"
        func indexStatus() async throws -> Int {
            try await registry.client.send(HTTPRequest(url: index, headers: [("Authorization", "Bearer \(reader)")])).status
        }

        // The dry run names what it would pull and sends nothing.
        let dry = try pull(["--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would pull upstream.test/acme/demo 1.0.0"), "\(dry.stdout)\(dry.stderr)")
        #expect(try await indexStatus() == 404)

        // The upstream serving a bad signature, then a swapped zip: refused, nothing stored.
        let base = "terraform-provider-demo_1.0.0"
        let signature = release.dir + "/\(base)_SHA256SUMS.sig"
        var bent = try Data(contentsOf: URL(fileURLWithPath: signature))
        bent[bent.count - 4] ^= 1
        // Another zip of the same size (the upstream answers HEAD and Content-Length from its record).
        let linux = release.dir + "/\(base)_linux_amd64.zip"
        var swapped = try Data(contentsOf: URL(fileURLWithPath: linux))
        swapped[swapped.count / 2] ^= 0x20
        for (what, original, replacement, refusal) in [
            ("a bad signature", signature, bent, "SHA256SUMS.sig"), ("a swapped zip", linux, swapped, "linux_amd64.zip"),
        ] {
            let stored = try Self.storedCopy(of: original, under: upstream.dataDir)
            let kept = try Data(contentsOf: URL(fileURLWithPath: stored))
            try replacement.write(to: URL(fileURLWithPath: stored))
            let r = try pull()
            #expect(r.status != 0 && r.stderr.contains("refusing") && r.stderr.contains(refusal), "\(what): \(r.stderr)")
            #expect(try await indexStatus() == 404, "\(what): the registry stored something")
            try kept.write(to: URL(fileURLWithPath: stored))
        }

        let pulled = try pull()
        #expect(pulled.status == 0 && pulled.stdout.contains("pulled upstream.test/acme/demo 1.0.0"), "\(pulled.stdout)\(pulled.stderr)")
        #expect(pulled.stderr.contains("verified \(base)_linux_amd64.zip"), "\(pulled.stderr)")
        #expect(try await indexStatus() == 200)
        let again = try pull()
        #expect(again.status == 0 && again.stdout.contains("already mirrored"), "\(again.stdout)\(again.stderr)")

        // Real Terraform through the mirror: a lock file for both platforms, then an install.
        let work = makeTemporaryDirectory("tf-pull")
        try """
        terraform {
          required_providers {
            demo = {
              source  = "upstream.test/acme/demo"
              version = "1.0.0"
            }
          }
        }
        """.write(toFile: work + "/main.tf", atomically: true, encoding: .utf8)
        let mirror = "https://\(registry.host)/v1/mirror/"
        try """
        credentials "\(registry.host)" {
          token = "\(reader)"
        }
        provider_installation {
          network_mirror {
            url = "\(mirror)"
          }
        }
        """.write(toFile: work + "/terraformrc", atomically: true, encoding: .utf8)
        let env = [
            "HOME": work, "TF_CLI_CONFIG_FILE": work + "/terraformrc", "SSL_CERT_FILE": registry.cert, "CHECKPOINT_DISABLE": "1",
            "TF_IN_AUTOMATION": "1",
        ]
        let locked = try runCommand(
            ProviderEndToEndTests.terraform!,
            ["providers", "lock", "-no-color", "-net-mirror=\(mirror)", "-platform=linux_amd64", "-platform=darwin_arm64"],
            env: env,
            cwd: work
        )
        #expect(locked.status == 0, "terraform providers lock:\n\(locked.stdout)\n\(locked.stderr)")
        let lock = (try? String(contentsOfFile: work + "/.terraform.lock.hcl", encoding: .utf8)) ?? ""
        #expect(lock.contains("provider \"registry.terraform.io") == false && lock.contains("upstream.test/acme/demo"), "\(lock)")
        #expect(lock.components(separatedBy: "\"h1:").count - 1 == 2, "an h1: per platform:\n\(lock)")

        let initialized = try runCommand(ProviderEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env, cwd: work)
        #expect(initialized.status == 0, "terraform init:\n\(initialized.stdout)\n\(initialized.stderr)")
        #expect(initialized.stdout.contains("Installed upstream.test/acme/demo v1.0.0"), "\(initialized.stdout)")
        #expect(registry.stop() == 0)
        #expect(upstream.stop() == 0)
        for t in [puller, reader, upstreamReader] { #expect(!registry.logText.contains(t) && !upstream.logText.contains(t)) }
    }

    /// The file under `root` holding the same bytes as `file` (the registry's stored copy), writable.
    static func storedCopy(of file: String, under root: String) throws -> String {
        let wanted = try Data(contentsOf: URL(fileURLWithPath: file))
        let walker = FileManager.default.enumerator(atPath: root)
        while let relative = walker?.nextObject() as? String {
            let path = root + "/" + relative
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
                let attributes = try? FileManager.default.attributesOfItem(atPath: path),
                (attributes[.size] as? NSNumber)?.intValue == wanted.count,
                (try? Data(contentsOf: URL(fileURLWithPath: path))) == wanted
            else { continue }
            try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: path)
            return path
        }
        throw TestFailure("no stored copy of \(file) under \(root)")
    }
}
