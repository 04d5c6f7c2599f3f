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

@Suite struct LoggingOptionsTests {
    @Test func logSettingsAreOneOfTheKnownValues() throws {
        #expect(throws: ValidationError.self) {
            try LoggingOptions.choice("verbose", flag: "--log-level", env: "LOG_LEVEL", allowed: LoggingOptions.levels)
        }
        #expect(try LoggingOptions.choice("WARNING", flag: "--log-level", env: "LOG_LEVEL", allowed: LoggingOptions.levels) == "warning")
        #expect(throws: ValidationError.self) {
            try LoggingOptions.choice("yaml", flag: "--log-format", env: "TFREG_LOG_FORMAT", allowed: LoggingOptions.formats)
        }
    }
}
