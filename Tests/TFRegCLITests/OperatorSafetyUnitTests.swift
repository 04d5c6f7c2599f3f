import ArgumentParser
import TFRegCore
import Testing

@testable import TFRegCLI

@Suite struct EnvironmentFileTests {
    @Test func parsesSystemdEnvironmentFileLines() {
        let values = EnvironmentFile.parse(
            """
            # comment
            ; also a comment
            TFREG_DATA_DIR=/var/lib/tfreg
            #TABLE_NAME=
              LOG_LEVEL = "debug"
            TFREG_PUBLIC_URL='https://r.example.com'
            export TFREG_PORT=9443\r
            not a pair
            BAD-KEY=x
            EMPTY=
            """
        )
        #expect(
            values == [
                "TFREG_DATA_DIR": "/var/lib/tfreg", "LOG_LEVEL": "debug", "TFREG_PUBLIC_URL": "https://r.example.com", "TFREG_PORT": "9443",
                "EMPTY": "",
            ]
        )
    }
}

@Suite struct GrantSafetyTests {
    @Test func onlyChangesThatRemoveRightsAskForConfirmation() throws {
        let ns = try Namespace("acme")
        let id = try Identity("arn:aws:iam::123456789012:role/ci")
        let du = Permissions(download: true, upload: true, createGrant: false, deleteGrant: false)
        let d = Permissions(download: true, upload: false, createGrant: false, deleteGrant: false)
        let dc = Permissions(download: true, upload: false, createGrant: true, deleteGrant: false)
        #expect(removalQuestion(d, du, identity: id, namespace: ns) == nil)
        #expect(removalQuestion(du, du, identity: id, namespace: ns) == nil)
        #expect(removalQuestion(du, d, identity: id, namespace: ns)?.hasPrefix("remove upload from") == true)
        #expect(removalQuestion(du, dc, identity: id, namespace: ns)?.hasPrefix("remove upload from") == true)
    }

    @Test func grantCommandsWithoutPermissionsAreRefused() throws {
        let create = try #require(
            try TFReg.parseAsRoot(["grant", "create", "-n", "acme", "-r", "arn:aws:iam::123456789012:role/ci"]) as? TFReg.GrantCommand.Create
        )
        #expect(throws: ValidationError.self) { try create.flags.requireSome("create") }
        let update = try #require(
            try TFReg.parseAsRoot(["grant", "update", "-n", "acme", "-r", "arn:aws:iam::123456789012:role/ci"]) as? TFReg.GrantCommand.Update
        )
        #expect(throws: ValidationError.self) { try update.flags.requireSome("update") }
        let some = try #require(
            try TFReg.parseAsRoot(["grant", "update", "-n", "acme", "--token-name", "ci", "-d", "-y"]) as? TFReg.GrantCommand.Update
        )
        try some.flags.requireSome("update")
        #expect(some.confirm.yes)
    }
}

@Suite struct LoggingOptionsTests {
    @Test func logSettingsAreOneOfTheKnownValues() throws {
        let level = #expect(throws: CLIError.self) { try LoggingOptions.choice(LoggingOptions.level, "verbose", allowed: LoggingOptions.levels) }
        // Typed as the flag: a usage error (from LOG_LEVEL it would be configuration; README "Exit codes").
        #expect(level?.kind == .usage)
        #expect(level?.message.contains("--log-level (LOG_LEVEL)") == true)
        #expect(try LoggingOptions.choice(LoggingOptions.level, "WARNING", allowed: LoggingOptions.levels) == "warning")
        #expect(throws: CLIError.self) { try LoggingOptions.choice(LoggingOptions.format, "yaml", allowed: LoggingOptions.formats) }
    }
}
