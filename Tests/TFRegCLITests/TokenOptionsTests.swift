import ArgumentParser
import Foundation
import Testing

@testable import TFRegCLI

/// --token-file PATH, --token-file -, --token (warns), TFREG_TOKEN: parsing and reading.
@Suite struct TokenOptionsTests {
    @Test func tokenFileFlagAndEnvironment() throws {
        let dir = NSTemporaryDirectory() + "tfreg-tokenfile-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        try "tfr_fromfile\n".write(toFile: dir + "/t", atomically: true, encoding: .utf8)
        #expect(try TokenOptions.parse(["--token-file", dir + "/t"]).explicitToken() == "tfr_fromfile")
        #expect(try TokenOptions.parse(["--token", "tfr_flag"]).explicitToken() == "tfr_flag")
        #expect(throws: (any Error).self) { try TokenOptions.parse(["--token", "a", "--token-file", dir + "/t"]).explicitToken() }
        #expect(throws: (any Error).self) { try TokenOptions.parse(["--token-file", dir + "/missing"]).explicitToken() }
        try "two words\n".write(toFile: dir + "/bad", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try TokenOptions.parse(["--token-file", dir + "/bad"]).explicitToken() }
        try "\n".write(toFile: dir + "/empty", atomically: true, encoding: .utf8)
        #expect(throws: (any Error).self) { try TokenOptions.parse(["--token-file", dir + "/empty"]).explicitToken() }
        #expect(TokenOptions.warning.contains("--token-file") && TokenOptions.warning.contains("TFREG_TOKEN"))
    }

    @Test func publishAndGrantTakeTheTokenOptions() throws {
        let publish = try #require(
            try TFReg.parseAsRoot([
                "publish", "d", "--registry", "r.example.com", "-n", "a", "--name", "b", "--system", "aws", "--module-version", "1.0.0",
                "--token-file", "-",
            ]) as? TFReg.Publish
        )
        #expect(publish.auth.tokenFile == "-")
        let grant = try #require(
            try TFReg.parseAsRoot(["grant", "list", "--registry", "r.example.com", "-n", "a", "--token-file", "/x"]) as? TFReg.GrantCommand.List
        )
        #expect(grant.remote.auth.tokenFile == "/x")
    }

    /// The no-token message names each way once; a host with a port has no TF_TOKEN_ variable.
    @Test func noTokenNamesEachWayOnce() throws {
        let withPort = TokenOptions.noToken(for: try RegistryHost("127.0.0.1:8443"))
        #expect(withPort.components(separatedBy: "credentials").count == 2, "\(withPort)")
        #expect(!withPort.contains("TF_TOKEN_") && withPort.contains("TFREG_TOKEN"))
        let named = TokenOptions.noToken(for: try RegistryHost("registry.example.com"))
        #expect(named.contains("TF_TOKEN_registry_example_com") && named.components(separatedBy: "credentials").count == 2, "\(named)")
    }

    /// `token env` writes one shell word whatever the token holds: a quote cannot end it.
    @Test func envValuesAreShellQuoted() throws {
        #expect(TFReg.Token.shellQuoted("tfi_abc") == "'tfi_abc'")
        #expect(TFReg.Token.shellQuoted("a'b") == #"'a'\''b'"#)
        let hostile = "x';echo pwned;'$(id)`id`"
        let r = Process()
        r.executableURL = URL(fileURLWithPath: "/bin/sh")
        r.arguments = ["-c", #"eval "$LINE"; printf %s "$v""#]
        r.environment = ["LINE": "v=" + TFReg.Token.shellQuoted(hostile), "PATH": "/usr/bin:/bin"]
        let out = Pipe()
        r.standardOutput = out
        try r.run()
        r.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == hostile)
    }
}
