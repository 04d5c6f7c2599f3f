import ArgumentParser
import TFRegArchive
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import Testing

@testable import TFRegCLI

@Suite struct PublishCommandTests {
    /// `tfreg modules show` prints the counted downloads from the detail document.
    @Test func showPrintsDownloads() throws {
        let d = JSONValue.object([("id", .string("acme/vpc/aws/1.0.0")), ("published_at", .string("2026-12-06T00:00:00Z")), ("downloads", .int(42))])
        let text = TFReg.Modules.Show.text(d, readme: false)
        #expect(text.contains("\ndownloads: 42\n"), "\(text)")
    }

    /// A publish under a second spelling of a module (names are case-insensitive) fails with the
    /// registry's 409 text, which names the stored spelling, and the conflict's exit kind.
    @Test func secondSpellingConflictIsShownAsTheRegistryWroteIt() throws {
        let text = "acme/VPC/aws is another spelling of module acme/vpc/aws (names are case-insensitive): use that spelling"
        let body = Array(#"{"errors":["\#(text)"]}"#.utf8)
        let e = CLIError.registry(HTTPResponse(status: 409, headers: [], body: body), action: "publish acme/VPC/aws 2.0.0")
        #expect(e.message == "cannot publish acme/VPC/aws 2.0.0: HTTP 409: " + text, "\(e.message)")
        #expect(e.kind == CLIError.kind(forStatus: 409))
    }

    @Test func repeatableExcludeAndInclude() throws {
        let command = try #require(
            try TFReg.parseAsRoot([
                "publish", "m", "--registry", "r.example.com", "-n", "acme", "--name", "net", "--system", "aws", "--module-version", "1.0.0",
                "--exclude", "*.zip", "--exclude", "docs/", "--include", "example.tfvars", "--dry-run",
            ]) as? TFReg.Publish
        )
        #expect(
            command.exclude == ["*.zip", "docs/"] && command.include == ["example.tfvars"] && command.dryRun && command.archiveFile == nil
                && command.out.output == nil
        )
    }

    /// The registry's versions list decides "already published" by precedence, as the registry does.
    @Test func existingVersionsByPrecedence() throws {
        let body = Array(#"{"modules":[{"versions":[{"version":"2.0.0"},{"version":"1.0.0+build.1"},{"version":"1.1.0-rc.1"}]}]}"#.utf8)
        #expect(RegistryVersions.answer(for: try Version("1.0.0"), body: body) == .exists("1.0.0+build.1"))
        #expect(RegistryVersions.answer(for: try Version("2.0.0+x"), body: body) == .exists("2.0.0"))
        #expect(RegistryVersions.answer(for: try Version("1.1.0"), body: body) == .absent)
        #expect(RegistryVersions.answer(for: try Version("1.1.0-rc.2"), body: body) == .absent)
        #expect(RegistryVersions.answer(for: try Version("1.0.0"), body: Array("<html>".utf8)) == .unknown("the versions list does not parse"))
    }

    @Test func leftOutNoteIsOneLineAndBounded() {
        #expect(TFReg.Publish.leftOutNote([]) == nil)
        let two = [ModulePacker.LeftOut(path: ".env", reason: "secret"), ModulePacker.LeftOut(path: "terraform.tfstate", reason: "state")]
        #expect(TFReg.Publish.leftOutNote(two) == "left out: .env (secret), terraform.tfstate (state)")
        let many = (0..<25).map { ModulePacker.LeftOut(path: "f\($0).tfvars", reason: "variables") }
        let note = TFReg.Publish.leftOutNote(many)
        #expect(
            note?.hasSuffix(", and 5 more (--dry-run lists them)") == true && note?.contains("f19.tfvars") == true
                && note?.contains("f20.tfvars") == false
        )
    }
}
