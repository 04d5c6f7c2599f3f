import Foundation
import Testing

/// Terraform's credentials-helper protocol, with the binary started under the helper's name.
@Suite struct CredentialHelperTests {
    @Test func getStoreForgetOverTheProtocol() throws {
        let dir = makeTemporaryDirectory("tfreg-helper")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let helper = dir + "/terraform-credentials-tfreg"
        try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: TFRegBinary.path)
        let env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config"]

        let empty = try runCommand(helper, ["get", "registry.example.com"], env: env)
        #expect(empty.status == 0 && empty.stdout == "{}\n")

        // Terraform passes the block's args before the verb.
        let store = try runCommand(helper, ["--some-arg", "x", "store", "Registry.Example.com:8443"], env: env, stdin: #"{"token":"tfr_stored"}"#)
        #expect(store.status == 0 && store.stdout.isEmpty, "\(store.stderr)")
        let attrs = try FileManager.default.attributesOfItem(atPath: dir + "/config/tfreg/credentials.json")
        #expect((attrs[.posixPermissions] as? Int) == 0o600)

        let got = try runCommand(helper, ["get", "registry.example.com:8443"], env: env)
        #expect(got.status == 0 && got.stdout == "{\"token\":\"tfr_stored\"}\n")
        #expect(try runCommand(helper, ["get", "other.example.com"], env: env).stdout == "{}\n")

        let badStore = try runCommand(helper, ["store", "registry.example.com"], env: env, stdin: "not json")
        #expect(badStore.status != 0 && !badStore.stderr.isEmpty)

        #expect(try runCommand(helper, ["forget", "registry.example.com:8443"], env: env).status == 0)
        #expect(try runCommand(helper, ["get", "registry.example.com:8443"], env: env).stdout == "{}\n")
        #expect(try runCommand(helper, ["forget", "never.example.com"], env: env).status == 0)

        let unknown = try runCommand(helper, ["frobnicate", "registry.example.com"], env: env)
        #expect(unknown.status != 0 && unknown.stdout.isEmpty)
        #expect(try runCommand(helper, ["get", "bad host/x"], env: env).status != 0)
    }

    /// Issue 17, finding 8: a stored-token file another user could have written or planted (mode 0666,
    /// owned by nobody, a link) is refused with a one-line cause; its token never reaches Terraform.
    @Test(arguments: ["world-writable", "foreign owner", "symbolic link"])
    func aPlantedStoredTokenFileIsNotHandedToTerraform(_ how: String) throws {
        if how == "foreign owner" && geteuid() != 0 { return }
        let dir = makeTemporaryDirectory("tfreg-helper-planted")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let helper = dir + "/terraform-credentials-tfreg"
        try FileManager.default.createSymbolicLink(atPath: helper, withDestinationPath: TFRegBinary.path)
        let file = dir + "/config/tfreg/credentials.json"
        try FileManager.default.createDirectory(atPath: dir + "/config/tfreg", withIntermediateDirectories: true)
        let planted = #"{"hosts":{"registry.example.com":{"token":"tfr_planted"}}}"#
        switch how {
        case "world-writable":
            try planted.write(toFile: file, atomically: false, encoding: .utf8)
            chmod(file, 0o666)
        case "foreign owner":
            try planted.write(toFile: file, atomically: false, encoding: .utf8)
            chmod(file, 0o600)
            chown(file, 65534, 65534)
        default:
            try planted.write(toFile: dir + "/elsewhere.json", atomically: false, encoding: .utf8)
            chmod(dir + "/elsewhere.json", 0o600)
            try FileManager.default.createSymbolicLink(atPath: file, withDestinationPath: dir + "/elsewhere.json")
        }
        let env = ["HOME": dir, "XDG_CONFIG_HOME": dir + "/config", "AWS_EC2_METADATA_DISABLED": "true"]
        let r = try runCommand(helper, ["get", "registry.example.com"], env: env)
        #expect(r.status != 0, "\(how): \(r.stdout)")
        #expect(!r.stdout.contains("tfr_planted"), "\(how): the planted token was handed out")
        let lines = r.stderr.split(separator: "\n")
        #expect(lines.count == 1 && r.stderr.contains(file), "\(how): \(r.stderr)")
    }

    /// Terraform runs the helper for every host it contacts: for a host that is not a tfreg registry the
    /// helper answers {} without asking for credentials that cost a call (credential_process here; SSO
    /// or instance metadata elsewhere).
    @Test func aHostThatIsNotARegistryCostsNoCredentialLookup() throws {
        let dir = makeTemporaryDirectory("tfreg-helper-lazy")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let marker = dir + "/asked"
        try FileManager.default.createDirectory(atPath: dir + "/.aws", withIntermediateDirectories: true)
        let script = dir + "/credentials.sh"
        try "#!/bin/sh\ntouch '\(marker)'\necho '{\"Version\": 1, \"AccessKeyId\": \"A\", \"SecretAccessKey\": \"s\"}'\n".write(
            toFile: script,
            atomically: true,
            encoding: .utf8
        )
        chmod(script, 0o755)
        try "[default]\nregion = us-east-1\ncredential_process = \(script)\n".write(toFile: dir + "/.aws/config", atomically: true, encoding: .utf8)
        let env = ["HOME": dir, "AWS_EC2_METADATA_DISABLED": "true"]
        let r = try runCommand(TFRegBinary.path, ["credential-helper", "get", "127.0.0.1:1"], env: env)
        #expect(r.status == 0 && r.stdout == "{}\n", "\(r.stdout) \(r.stderr)")
        #expect(!FileManager.default.fileExists(atPath: marker))
    }

    /// install-helper twice changes nothing; a config naming another helper is reported, not duplicated.
    @Test func installHelperIsIdempotentAndRespectsAnotherHelper() throws {
        let home = makeTemporaryDirectory("tfreg-install")
        defer { try? FileManager.default.removeItem(atPath: home) }
        let rc = home + "/custom.tfrc"
        try "provider_installation {\n  direct {}\n}\n".write(toFile: rc, atomically: true, encoding: .utf8)
        let first = try runCommand(
            TFRegBinary.path,
            ["install-helper", "--rc-file", rc, "--plugin-directory", home + "/plugins", "--expiration-window", "1200", "--service", "execute-api"],
            env: ["HOME": home]
        )
        #expect(first.status == 0, "\(first.stderr)")
        let written = try String(contentsOfFile: rc, encoding: .utf8)
        #expect(
            written
                == "provider_installation {\n  direct {}\n}\ncredentials_helper \"tfreg\" {\n  args = [\"--expiration-window\", \"1200\", \"--service\", \"execute-api\"]\n}\n"
        )
        let second = try runCommand(
            TFRegBinary.path,
            ["install-helper", "--rc-file", rc, "--plugin-directory", home + "/plugins"],
            env: ["HOME": home]
        )
        #expect(second.status == 0 && second.stdout.contains("already"))
        #expect(try String(contentsOfFile: rc, encoding: .utf8) == written)

        let other = home + "/other.tfrc"
        try "credentials_helper \"vault\" {}\n".write(toFile: other, atomically: true, encoding: .utf8)
        let refused = try runCommand(
            TFRegBinary.path,
            ["install-helper", "--rc-file", other, "--plugin-directory", home + "/plugins"],
            env: ["HOME": home]
        )
        #expect(refused.status != 0 && refused.stderr.contains("another credentials_helper"), "\(refused.stderr)")
        #expect(try String(contentsOfFile: other, encoding: .utf8) == "credentials_helper \"vault\" {}\n")
    }

    /// Item 6: Terraform runs the helper with standard error captured and, when it fails, only logs the
    /// reason (TF_LOG=WARN) and sends the request without a token, so the terminal shows a bare
    /// "401 Unauthorized". With the real terraform CLI and no AWS credentials: the helper's reason is
    /// one line in Terraform's log, and it reaches the terminal (a pseudo-terminal from script(1)).
    @Test(.enabled(if: TerraformEndToEndTests.terraform != nil && which("script") != nil, "needs terraform and script(1)"))
    func terraformShowsTheHelpersReason() throws {
        let port = try MotoServer.freePort()
        let iam = try ServerProcess(extraEnv: ["TFREG_AUDIENCE": "127.0.0.1:\(port)", "AWS_EC2_METADATA_DISABLED": "true"], port: port)
        let home = makeTemporaryDirectory("tf-helper-reason")
        defer { try? FileManager.default.removeItem(atPath: home) }
        #expect(try runCommand(TFRegBinary.path, ["install-helper"], env: ["HOME": home]).status == 0)
        try "module \"net\" {\n  source  = \"\(iam.host)/acme/net/aws\"\n  version = \"1.0.0\"\n}\n".write(
            toFile: home + "/main.tf",
            atomically: true,
            encoding: .utf8
        )
        let env = [
            "HOME": home, "SSL_CERT_FILE": iam.cert, "CHECKPOINT_DISABLE": "1", "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent", "AWS_CONFIG_FILE": "/nonexistent", "AWS_REGION": "us-east-1", "TF_LOG": "WARN",
        ]
        let logged = try runCommand(TerraformEndToEndTests.terraform!, ["init", "-input=false", "-no-color"], env: env, cwd: home)
        #expect(logged.status != 0)
        let reason = "tfreg credentials helper: no token for \(iam.host): "
        let line = (logged.stdout + logged.stderr).components(separatedBy: "\n").first { $0.contains("Failed to get credentials") }
        #expect(line?.contains(reason + "no AWS credentials") == true && line?.hasSuffix("(ignoring)") == true, "\(logged.stderr)")

        var quiet = env
        quiet["TF_LOG"] = nil
        let onTerminal = try runCommand(
            which("script")!,
            ["-qec", "'\(TerraformEndToEndTests.terraform!)' init -input=false -no-color", "/dev/null"],
            env: quiet,
            cwd: home
        )
        #expect(onTerminal.stdout.contains(reason) && onTerminal.stdout.contains("no AWS credentials"), "\(onTerminal.stdout)")
        #expect(onTerminal.stdout.contains("401"), "\(onTerminal.stdout)")
        #expect(iam.stop() == 0)
    }
}
