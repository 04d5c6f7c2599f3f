import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegStoreLocal
import TFRegTesting
import Testing

@testable import TFRegCLI

/// Issue 18 (item 8): `--system` names a module's target system; tfreg's earlier `--provider` still
/// parses to the same value (hidden: help and completions show only `--system`).
@Suite struct SystemFlagTests {
    static let address = ["--registry", "r.example.com", "-n", "acme", "--name", "vpc"]

    static func system(_ command: String, _ flag: [String]) throws -> String? {
        let extra = command == "publish" ? ["dir"] : command == "deprecate" ? ["--clear"] : []
        let args = [command] + extra + address + flag + ["--module-version", "1.0.0"]
        let parsed = try TFReg.parseAsRoot(RoleDispatch.arguments(forArgv: ["tfreg"] + args))
        switch parsed {
        case let c as TFReg.Publish: return c.target.system
        case let c as TFReg.Delete: return c.target.version.system
        case let c as TFReg.Deprecate: return c.target.version.system
        default: return nil
        }
    }

    @Test(arguments: ["publish", "delete", "deprecate"])
    func oldAndNewSpellingsParseAlike(_ command: String) throws {
        #expect(try Self.system(command, ["--system", "aws"]) == "aws")
        #expect(try Self.system(command, ["--provider", "aws"]) == "aws")
        #expect(try Self.system(command, ["--provider=aws"]) == "aws")
    }

    @Test(arguments: ["publish", "delete", "deprecate"])
    func helpShowsOnlyTheNewName(_ command: String) throws {
        let help = TFReg.helpMessage(for: try #require(TFReg.configuration.subcommands.first { $0._commandName == command }))
        #expect(help.contains("--system <system>"), "\(help)")
        #expect(!help.contains("--provider"), "\(help)")
    }

    @Test func aBadSystemNamesTheFlag() throws {
        let options = try ModuleVersionOptions.parse([
            "--registry", "r", "-n", "acme", "--name", "vpc", "--system", "AWS", "--module-version", "1.0.0",
        ])
        #expect(throws: CLIError.self) { try options.resolved() }
        do { _ = try options.resolved() } catch { #expect(error.message.contains("--system"), "\(error.message)") }
    }
}

/// Issue 18 (item 7): `tfreg grant` on the store writes through `RegistryService` as the operator
/// running it, `local:USER@HOST`.
@Suite struct StoreChangesTests {
    @Test func grantChangesOnTheStoreNameTheLocalOperator() async throws {
        let dir = TemporaryDirectory("tfreg-cli-local-op")
        defer { dir.remove() }
        let log = LogCapture()
        let target = StoreGrantTarget(store: try SQLiteMetadataStore(path: dir.path + "/registry.db"), logger: log.logger())
        let me = LocalOperator.current().description
        #expect(me.hasPrefix("local:") && me.contains("@"), "\(me)")
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        try await target.create(Grant(namespace: try Namespace("acme"), identity: ci, permissions: Permissions(download: true)))
        try await target.update(Grant(namespace: try Namespace("acme"), identity: ci, permissions: Permissions(download: true, upload: true)))
        #expect(try await target.delete(ci, in: try Namespace("acme")) == ci)
        #expect(log.all.map(\.message) == ["granted", "granted", "revoked grant"])
        #expect(log.all.allSatisfy { $0.metadata["by"] == me }, "\(log.all)")
        #expect(try await target.grants(in: try Namespace("acme")).isEmpty)
    }

    @Test func theCurrentOperatorIsThisUserOnThisHost() {
        let me = LocalOperator.current()
        #expect(!me.user.isEmpty && me.user != "unknown" && !me.host.isEmpty)
    }
}

/// Issue 18 (item 5): the `TFREG_AUDIENCE` check `serve` and `lambda` share.
@Suite struct AssemblyAudienceTests {
    @Test func theAudienceIsAHostNameLowercased() throws {
        #expect(try RegistryAssembly.audience("Registry.Example.com") == "registry.example.com")
        #expect(try RegistryAssembly.audience("127.0.0.1:8443") == "127.0.0.1:8443")
        #expect(try RegistryAssembly.audience(nil) == nil)
        #expect(try RegistryAssembly.audience("") == nil)
        for bad in ["https://registry.example.com", "registry.example.com/x", "a b"] {
            #expect(throws: CLIError.configuration("")) { try RegistryAssembly.audience(bad) }
        }
    }

    @Test func iamKeysComeFromKMSElseTheDataDirectory() {
        #expect(RegistryAssembly.IAMKeys(env: ["IAM_AUTH_KMS_KEY": "alias/k"], localKeyDirectory: "/d")?.description == "from KMS key alias/k")
        #expect(RegistryAssembly.IAMKeys(env: ["IAM_AUTH_KMS_KEY": ""], localKeyDirectory: "/d")?.description == "in the data directory")
        #expect(RegistryAssembly.IAMKeys(env: [:], localKeyDirectory: nil) == nil)
    }
}
