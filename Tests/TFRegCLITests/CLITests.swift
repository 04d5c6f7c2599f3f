import ArgumentParser
import Glibc
import Testing

@testable import TFRegCLI

@Suite struct DispatchTests {
    @Test(arguments: [
        (["/usr/bin/tfreg", "serve", "--port", "1"], ["serve", "--port", "1"]),
        (["bootstrap"], ["lambda"]),
        (["/var/task/bootstrap", "x"], ["lambda", "x"]),
        (["get-registry-token", "env", "-r", "h"], ["token", "env", "--registry", "h"]),
        (["/home/u/.terraform.d/plugins/terraform-credentials-tfreg", "get", "h"], ["credential-helper", "get", "h"]),
        (["install-registry-credentials-helper", "--registry-host", "h"], ["install-helper", "--registry", "h"]),
        (["tfreg", "publish", "d", "--provider=aws", "--version", "1.0.0"], ["publish", "d", "--system=aws", "--module-version", "1.0.0"]),
        (["tfreg", "delete", "--provider", "aws"], ["delete", "--system", "aws"]),
        (["tfreg", "publish", "d", "--", "--version"], ["publish", "d", "--", "--version"]),
        (["tfreg", "grant", "list", "-r", "R"], ["grant", "list", "-r", "R"]),
        (
            ["manage-registry-permissions", "--role-arn", "R", "--namespace", "N", "create", "-d"],
            ["grant", "create", "--role-arn", "R", "--namespace", "N", "-d"]
        ),
        (["tfreg", "grant", "-r", "R", "-n", "N", "delete"], ["grant", "delete", "-r", "R", "-n", "N"]),
        (["tfreg", "grant", "create", "-n", "N", "--new-token", "ci"], ["grant", "create", "-n", "N", "--new-token", "ci"]),
        (["tfreg", "grant", "--help"], ["grant", "--help"]),
        (["bootstrapper"], []),
    ])
    func argv0(_ argv: [String], _ expected: [String]) {
        #expect(TFRegCLI.RoleDispatch.arguments(forArgv: argv) == expected)
    }

    @Test func legacyGrantOrderParses() throws {
        let args = TFRegCLI.RoleDispatch.arguments(forArgv: [
            "manage-registry-permissions", "--role-arn", "arn:aws:iam::123456789012:role/x", "--namespace", "acme", "create", "-d", "-c",
        ])
        let command = try TFReg.parseAsRoot(args)
        let create = try #require(command as? TFReg.GrantCommand.Create)
        #expect(create.ns.namespace == "acme")
        #expect(create.who.roleARN == "arn:aws:iam::123456789012:role/x")
        #expect(create.flags.download && create.flags.createGrant && !create.flags.upload && !create.flags.deleteGrant)
    }

    /// Every busybox name reaches a real subcommand, and required options are enforced.
    @Test func everyRoleReachesItsSubcommand() throws {
        #expect(try TFReg.parseAsRoot(TFRegCLI.RoleDispatch.arguments(forArgv: ["/var/task/bootstrap"])) is TFReg.Lambda)
        #expect(
            try TFReg.parseAsRoot(TFRegCLI.RoleDispatch.arguments(forArgv: ["get-registry-token", "-r", "registry.example.com", "env"]))
                is TFReg.Token
        )
        #expect(try TFReg.parseAsRoot(TFRegCLI.RoleDispatch.arguments(forArgv: ["install-registry-credentials-helper"])) is TFReg.InstallHelper)
        #expect(throws: (any Error).self) { try TFReg.parseAsRoot(["token", "env"]) }  // no --registry
        #expect(throws: (any Error).self) { try TFReg.parseAsRoot(["token", "-r", "x.example.com", "yaml"]) }
    }
}

@Suite struct CLIConventionUnitTests {
    @Test func suggestionsForTypos() {
        let names = ["serve", "token", "grant", "publish", "delete", "deprecate", "completion"]
        #expect(RoleDispatch.suggestion(for: "pubish", among: names) == "publish")
        #expect(RoleDispatch.suggestion(for: "grnat", among: names) == "grant")
        #expect(RoleDispatch.suggestion(for: "dep", among: names) == "deprecate")
        #expect(RoleDispatch.suggestion(for: "kubernetes", among: names) == nil)
        #expect(RoleDispatch.editDistance("kitten", "sitting") == 3)
        #expect(RoleDispatch.unknownCommand(in: ["help", "bogus"])?.kind == .usage)
        #expect(RoleDispatch.unknownCommand(in: ["help", "grant"]) == nil)
        #expect(RoleDispatch.unknownCommand(in: ["--version"]) == nil)
    }

    @Test func statusesMapToKinds() {
        #expect(CLIError.kind(forStatus: 404) == .notFound)
        #expect(CLIError.kind(forStatus: 401) == .denied && CLIError.kind(forStatus: 403) == .denied)
        #expect(CLIError.kind(forStatus: 503) == .unavailable && CLIError.kind(forStatus: 500) == .unavailable)
        #expect(CLIError.kind(forStatus: 409) == .failure)
        #expect(Set(CLIError.Kind.allCases.map(\.exitCode)) == [1, 64, 66, 69, 77, 78])
    }

    /// flag → environment → default, with errors naming both places (variables unique to this test).
    @Test func settingsResolveFlagThenEnvironmentThenDefault() throws {
        let s = Setting("--widgets", env: "TFREG_TEST_WIDGETS_\(getpid())")
        unsetenv(s.env)
        #expect(try s.integer(nil as Int?, default: 5, range: 1...10) == 5)
        setenv(s.env, "7", 1)
        #expect(try s.integer(nil as Int?, default: 5, range: 1...10) == 7)
        #expect(try s.integer(3, default: 5, range: 1...10) == 3)
        #expect(s.text("flag")?.source == .flag && s.text(nil)?.source == .environment)
        setenv(s.env, "many", 1)
        do {
            _ = try s.integer(nil as Int?, default: 5, range: 1...10)
            Issue.record("no error")
        } catch {
            #expect(error.kind == .configuration && error.message == "--widgets (\(s.env)) must be a whole number, got 'many'")
        }
        #expect(throws: CLIError.self) { try s.integer(11, default: 5, range: 1...10) }
        #expect(try s.resolve(text: nil, default: "x", expected: "a word") { $0 == "many" ? "parsed" : nil } == "parsed")
        unsetenv(s.env)
    }
}

@Suite struct TerraformCredentialsTests {
    @Test(arguments: [
        ("registry.example.com", "TF_TOKEN_registry_example_com"),
        ("my-registry.example.com", "TF_TOKEN_my__registry_example_com"),
        ("Example.COM", "TF_TOKEN_example_com"),
        // IDN labels in punycode (values from Python's "…".encode("punycode")), then Terraform's escaping.
        ("münchen.example.com", "TF_TOKEN_xn____mnchen__3ya_example_com"),
        ("bücher.de", "TF_TOKEN_xn____bcher__kva_de"),
        ("例え.jp", "TF_TOKEN_xn____r8jz45g_jp"),
    ])
    func environmentNames(_ host: String, _ name: String) {
        #expect(TerraformCredentials.environmentVariableName(for: host) == name)
    }

    /// A long label with a high code point overflowed punycode's
    /// UInt32 delta, which trapped the credential helper. RFC 3492 §6.4: overflow is a failure.
    @Test func punycodeOverflowIsNoName() {
        let label = String(repeating: "a", count: 4000) + "\u{10FFFF}"
        #expect(Punycode.encode(label) == nil)
        #expect(TerraformCredentials.environmentVariableName(for: label + ".example.com") == nil)
        #expect(Punycode.encode("münchen") == "mnchen-3ya")
    }

    @Test func portsCannotBeExpressed() {
        #expect(TerraformCredentials.environmentVariableName(for: "127.0.0.1:8443") == nil)
    }

    @Test func parsesCredentialsBlocks() {
        let config = """
            # comment with credentials "evil" { token = "no" }
            plugin_cache_dir = "$HOME/.terraform.d/plugin-cache"
            /* credentials "also.evil" { token = "no" } */
            credentials "Registry.Example.com" {
              token = "abc\\"def"
            }
            credentials "127.0.0.1:8443" { token = "tfr_x" } // trailing
            provider_installation {
              direct {}
              credentials "nested" { token = "not-top-level" }
            }
            """
        let creds = CLIConfigParser.credentials(in: config)
        #expect(creds == ["registry.example.com": "abc\"def", "127.0.0.1:8443": "tfr_x"])
    }
}
