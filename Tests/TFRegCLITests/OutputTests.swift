import ArgumentParser
import Foundation
import TFRegCore
import Testing

@testable import TFRegCLI

@Suite struct ProgressLineTests {
    @Test func lineWithATotalShowsBytesPercentRateAndETA() {
        let line = ProgressLine.render(label: "uploading acme/net/aws 1.0.0", done: 10 << 20, total: 30 << 20, elapsed: .seconds(2))
        #expect(line == "uploading acme/net/aws 1.0.0  10.0 MiB / 30.0 MiB  33%  5.0 MiB/s  ETA 4s")
    }

    @Test func finishedLineSaysDone() {
        #expect(ProgressLine.render(label: "x", done: 2048, total: 2048, elapsed: .seconds(1)) == "x  2.0 KiB / 2.0 KiB  100%  2.0 KiB/s  done")
    }

    @Test func lineWithoutATotalShowsBytesAndRate() {
        #expect(ProgressLine.render(label: "x", done: 512, total: nil, elapsed: .milliseconds(500)) == "x  512 B  1.0 KiB/s")
    }

    @Test func nothingDoneYetHasNoETA() {
        #expect(ProgressLine.render(label: "x", done: 0, total: 100, elapsed: .zero) == "x  0 B / 100 B  0%  0 B/s")
    }

    @Test(arguments: [
        (Int64(0), "0 B"), (1023, "1023 B"), (1024, "1.0 KiB"), (1536, "1.5 KiB"), (30 << 20, "30.0 MiB"), (5 << 30, "5.0 GiB"),
    ])
    func byteUnits(_ n: Int64, _ text: String) { #expect(ProgressLine.bytes(n) == text) }

    @Test(arguments: [(0.2, "1s"), (42.0, "42s"), (185.0, "3m05s"), (3720.0, "1h02m")])
    func durations(_ s: Double, _ text: String) { #expect(ProgressLine.duration(s) == text) }

    @Test func disabledLineIsSilentAndKeepsNoState() {
        // Not a terminal (or --quiet): advancing and finishing must not write; nothing to observe but no crash.
        let line = ProgressLine(label: "x", total: 10, enabled: false)
        line.advance(5)
        line.advance(done: 7, total: 10)
        line.finish()
    }
}

@Suite struct OutputOptionsTests {
    @Test func flagThenEnvironmentThenText() throws {
        #expect(try OutputOptions.parse(["--output", "json"]).format(environment: "text") == .json)
        #expect(try OutputOptions.parse([]).format(environment: "JSON") == .json)
        #expect(try OutputOptions.parse([]).format(environment: nil) == .text)
        #expect(throws: CLIError.self) { try OutputOptions.parse([]).format(environment: "yaml") }
        #expect(throws: (any Error).self) { try OutputOptions.parse(["--output", "yaml"]) }
    }

    @Test func tokenFormatFollowsOutputJSON() throws {
        #expect(try TFReg.Token.parse(["--registry", "h.example.com", "--output", "json"]).resolvedFormat() == .json)
        #expect(try TFReg.Token.parse(["--registry", "h.example.com", "config"]).resolvedFormat() == .config)
        #expect(try TFReg.Token.parse(["--registry", "h.example.com", "json", "--output", "json"]).resolvedFormat() == .json)
        #expect(throws: (any Error).self) { try TFReg.Token.parse(["--registry", "h.example.com", "env", "--output", "json"]).resolvedFormat() }
    }
}

@Suite struct RegistryClientTests {
    @Test func caBundlePrecedenceIsFlagThenSSLCertFileThenAWSCABundle() {
        let env = ["SSL_CERT_FILE": "/ssl.pem", "AWS_CA_BUNDLE": "/aws.pem"]
        #expect(RegistryClient.caBundle(flag: "/flag.pem", environment: env) == "/flag.pem")
        #expect(RegistryClient.caBundle(flag: nil, environment: env) == "/ssl.pem")
        #expect(RegistryClient.caBundle(flag: nil, environment: ["AWS_CA_BUNDLE": "/aws.pem"]) == "/aws.pem")
        #expect(RegistryClient.caBundle(flag: nil, environment: ["SSL_CERT_FILE": ""]) == nil)
        #expect(RegistryClient.userAgent == "tfreg/\(TFReg.version)")
    }
}

@Suite struct ConfirmationTests {
    @Test func promptReadsAsAQuestion() {
        #expect(Confirmation.prompt("delete acme/net/aws 1.0.0?") == "Delete acme/net/aws 1.0.0? [y/N] ")
    }

    @Test func rules() throws {
        try Confirmation.decide("q?", yes: true, interactive: false, answer: nil)
        try Confirmation.decide("q?", yes: false, interactive: true, answer: "Y")
        try Confirmation.decide("q?", yes: false, interactive: true, answer: "yes")
        let refused = #expect(throws: CLIError.self) { try Confirmation.decide("q?", yes: false, interactive: false, answer: nil) }
        #expect(refused?.description.contains("--yes") == true)
        #expect(throws: CLIError.self) { try Confirmation.decide("q?", yes: false, interactive: true, answer: "") }
        #expect(throws: CLIError.self) { try Confirmation.decide("q?", yes: false, interactive: true, answer: nil) }
        #expect(throws: CLIError.self) { try Confirmation.decide("q?", yes: false, interactive: true, answer: "no") }
    }
}

@Suite struct GrantOutputTests {
    @Test func jsonIsWrittenByTheJSONWriterInAFixedOrder() throws {
        let g = Grant(
            namespace: try Namespace("acme"),
            identity: try Identity("arn:aws:iam::123456789012:role/ci"),
            permissions: Permissions(download: true, createGrant: true)
        )
        let text = GrantOutput.render([g], format: .json)
        #expect(
            text
                == #"[{"namespace":"acme","identity":"arn:aws:iam::123456789012:role/ci","permissions":{"download":true,"upload":false,"create_grant":true,"delete_grant":false}}]"#
                + "\n"
        )
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]]
        #expect(parsed?.first?["identity"] as? String == "arn:aws:iam::123456789012:role/ci")
        #expect(
            GrantOutput.render([g], format: .text) == "NAMESPACE\tIDENTITY\tPERMISSIONS\nacme\tarn:aws:iam::123456789012:role/ci\t\(g.permissions)\n"
        )
    }
}
