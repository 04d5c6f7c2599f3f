import Foundation
import Testing

/// The real Terraform CLI installs modules from `tfreg serve` over HTTPS.
@Suite(.serialized) struct TerraformEndToEndTests {
    static var terraform: String? { ProcessInfo.processInfo.environment["TERRAFORM"] ?? which("terraform") }

    func terraformInit(server: ServerProcess, token: String?, constraint: String = "~> 1.0") throws -> (CommandResult, String) {
        let work = makeTemporaryDirectory("tf-work")
        try """
        module "net" {
          source  = "\(server.host)/acme/net/aws"
          version = "\(constraint)"
        }
        """.write(toFile: work + "/main.tf", atomically: true, encoding: .utf8)
        let rc = work + "/terraformrc"
        let credentials = token.map { "credentials \"\(server.host)\" {\n  token = \"\($0)\"\n}\n" } ?? ""
        try credentials.write(toFile: rc, atomically: true, encoding: .utf8)
        let result = try runCommand(
            Self.terraform!,
            ["init", "-input=false", "-no-color"],
            env: [
                "HOME": work, "TF_CLI_CONFIG_FILE": rc, "SSL_CERT_FILE": server.cert, "CHECKPOINT_DISABLE": "1", "TF_IN_AUTOMATION": "1",
            ],
            cwd: work
        )
        return (result, work)
    }

    @Test(.enabled(if: terraform != nil, "terraform is not on PATH (make test installs it)"))
    func terraformInitInstallsTheMatchingVersion() throws {
        let server = try ServerProcess()
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--upload"])
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let outsider = try server.token("outsider", namespace: "other", flags: ["--download", "--upload"])
        for v in ["1.0.0", "1.2.0", "2.0.0"] {
            let dir = server.dir + "/mod-\(v)"
            try writeModule(at: dir, version: v)
            let r = try server.tfreg(
                ["publish", dir, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", v],
                env: try publisherConfig(server, publisher)
            )
            #expect(r.status == 0, "publish \(v): \(r.stderr)")
        }

        let (ok, work) = try terraformInit(server: server, token: reader)
        #expect(ok.status == 0, "terraform init failed:\n\(ok.stdout)\n\(ok.stderr)")
        #expect(ok.stdout.contains("Downloading \(server.host)/acme/net/aws 1.2.0"))
        let installed = try String(contentsOfFile: work + "/.terraform/modules/net/main.tf", encoding: .utf8)
        #expect(installed.contains("\"1.2.0\""))
        #expect(FileManager.default.fileExists(atPath: work + "/.terraform/modules/net/README.md"))

        let (denied, _) = try terraformInit(server: server, token: outsider)
        #expect(denied.status != 0)
        #expect((denied.stdout + denied.stderr).contains("403"), "\(denied.stdout)\n\(denied.stderr)")

        let (anonymous, _) = try terraformInit(server: server, token: nil)
        #expect(anonymous.status != 0)
        #expect((anonymous.stdout + anonymous.stderr).contains("401"), "\(anonymous.stdout)\n\(anonymous.stderr)")

        #expect(server.stop() == 0)
        for t in [publisher, reader, outsider] { #expect(!server.logText.contains(t)) }
    }

    /// `tfreg publish` finds its token in the Terraform CLI config, like Terraform itself.
    func publisherConfig(_ server: ServerProcess, _ token: String) throws -> [String: String] {
        let path = server.dir + "/publisher.tfrc"
        try "credentials \"\(server.host)\" {\n  token = \"\(token)\"\n}\n".write(toFile: path, atomically: true, encoding: .utf8)
        return ["TF_CLI_CONFIG_FILE": path]
    }
}
