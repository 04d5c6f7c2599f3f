import Foundation
import Testing

/// Trust II, item 7: a token on the command line is readable by every user of the machine.
@Suite struct TokenFileTests {
    /// --token-file PATH, --token-file - and TFREG_TOKEN; --token still works but warns, on one line.
    @Test func tokenFromFileStandardInputOrEnvironmentAndTheFlagWarns() throws {
        let server = try ServerProcess()
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--upload", "--download", "--create-grant"])
        try "\(publisher)\n".write(toFile: server.dir + "/token", atomically: true, encoding: .utf8)
        func publish(_ version: String, _ extra: [String], env: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
            try writeModule(at: server.dir + "/m-\(version)", version: version)
            return try server.tfreg(
                [
                    "publish", server.dir + "/m-\(version)", "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version",
                    version,
                ] + extra,
                env: env,
                stdin: stdin
            )
        }
        let fromFile = try publish("1.0.0", ["--token-file", server.dir + "/token"])
        #expect(fromFile.status == 0 && !fromFile.stderr.contains("warning"), "\(fromFile.stderr)")
        let fromStdin = try publish("1.0.1", ["--token-file", "-"], stdin: publisher)
        #expect(fromStdin.status == 0 && !fromStdin.stderr.contains("warning"), "\(fromStdin.stderr)")
        let fromEnv = try publish("1.0.2", [], env: ["TFREG_TOKEN": publisher])
        #expect(fromEnv.status == 0 && !fromEnv.stderr.contains("warning"), "\(fromEnv.stderr)")
        let flag = try publish("1.0.3", ["--token", publisher])
        #expect(flag.status == 0, "\(flag.stderr)")
        #expect(flag.stderr.contains("warning: --token is visible to other users") && flag.stderr.split(separator: "\n").count == 1, "\(flag.stderr)")
        let wrongFile = try publish("1.0.4", ["--token-file", server.dir + "/nope"])
        #expect(wrongFile.status != 0 && wrongFile.stderr.contains("token file"), "\(wrongFile.stderr)")
        let both = try publish("1.0.4", ["--token", publisher, "--token-file", server.dir + "/token"])
        #expect(both.status != 0 && both.stderr.contains("not both"), "\(both.stderr)")

        // The grants API (tfreg grant --registry) takes the same options.
        let listed = try server.tfreg(["grant", "list", "--registry", server.host, "-n", "acme", "--token-file", "-"], stdin: publisher)
        #expect(listed.status == 0 && listed.stdout.contains("publisher"), "\(listed.stdout) \(listed.stderr)")
        let listedEnv = try server.tfreg(["grant", "list", "--registry", server.host, "-n", "acme"], env: ["TFREG_TOKEN": publisher])
        #expect(listedEnv.status == 0 && listedEnv.stdout == listed.stdout, "\(listedEnv.stderr)")
        let listedFlag = try server.tfreg(["grant", "list", "--registry", server.host, "-n", "acme", "--token", publisher])
        #expect(listedFlag.status == 0 && listedFlag.stderr.contains("warning: --token"), "\(listedFlag.stderr)")
        #expect(server.stop() == 0)
    }
}
