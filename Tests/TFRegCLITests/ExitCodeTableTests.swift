import ArgumentParser
import Foundation
import Testing

@testable import TFRegCLI

/// Issue 22's CLI conventions that need no process: the README's exit-code table against
/// `CLIError.Kind`, flag-versus-environment error kinds, nested did-you-mean, publish's `--version`.
@Suite struct ExitCodeAndFlagTests {
    /// The README's "Exit codes" table, as (code, kind) rows.
    static func readmeExitCodeRows() throws -> [(Int32, String)] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let section = try #require(text.range(of: "### Exit codes"))
        var rows: [(Int32, String)] = []
        for line in text[section.upperBound...].split(separator: "\n").prefix(20) where line.hasPrefix("| ") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            if let code = Int32(cells[0]) { rows.append((code, cells[1])) }
        }
        return rows
    }

    @Test func theReadmeExitCodeTableIsTheKinds() throws {
        let rows = try Self.readmeExitCodeRows()
        let kinds = [(Int32(0), "success")] + CLIError.Kind.allCases.map { ($0.exitCode, $0.name) }
        #expect(rows.map(\.0) == kinds.map(\.0).sorted(), "\(rows)")
        for (code, name) in kinds {
            #expect(rows.contains { $0.0 == code && $0.1 == name }, "README has no row '| \(code) | \(name) |'")
        }
    }

    @Test func aBadValueIsUsageFromTheFlagAndConfigurationFromTheEnvironment() throws {
        let variable = "TFREG_T22_UNIT_PORT"
        let setting = Setting("--port", env: variable)
        #expect(throws: CLIError.usage("")) { try setting.integer(99999, default: 1, range: 0...65535) }
        setenv(variable, "99999", 1)
        defer { unsetenv(variable) }
        #expect(throws: CLIError.configuration("")) { try setting.integer(nil as Int?, default: 1, range: 0...65535) }
        setenv(variable, "eighty", 1)
        #expect(throws: CLIError.configuration("")) { try setting.resolve(text: nil, default: 1, expected: "a number") { Int($0) } }
        #expect(throws: CLIError.usage("")) { try setting.resolve(text: "eighty", default: 1, expected: "a number") { Int($0) } }
    }

    @Test func moduleAddressFlagsAreUsageErrors() throws {
        var o = try ModuleVersionOptions.parse([
            "--registry", "r.example.com", "-n", "ac me", "--name", "n", "--system", "aws", "--module-version", "1.0.0",
        ])
        #expect(throws: CLIError.usage("")) { try o.resolved() }
        o = try ModuleVersionOptions.parse([
            "--registry", "r.example.com", "-n", "acme", "--name", "n", "--system", "aws", "--module-version", "1.0",
        ])
        do {
            _ = try o.resolved()
            Issue.record("1.0 accepted")
        } catch {
            #expect(error.kind == .usage && error.message.hasPrefix("--module-version:"), "\(error.message)")
        }
    }

    @Test func aMistypedNestedSubcommandGetsASuggestion() throws {
        let e = try #require(RoleDispatch.unknownCommand(in: ["grant", "lst", "-n", "acme"]))
        #expect(e.kind == .usage && e.message == "unknown command 'lst' for tfreg grant; did you mean 'list'?", "\(e.message)")
        #expect(RoleDispatch.unknownCommand(in: ["grant", "list", "-n", "acme"]) == nil)
        #expect(RoleDispatch.unknownCommand(in: ["grant", "-r", "R", "-n", "N", "delete"]) == nil)
        #expect(RoleDispatch.unknownCommand(in: ["publish", "dir"]) == nil)
        #expect(RoleDispatch.unknownCommand(in: ["help", "grant"]) == nil)
    }

    @Test func publishsBareVersionIsAUsageErrorAndItsValueTheModuleVersion() throws {
        #expect(RoleDispatch.bareVersionOption(in: ["publish", "d", "--version"])?.kind == .usage)
        #expect(RoleDispatch.bareVersionOption(in: ["publish", "d", "--version", "--registry", "r"])?.kind == .usage)
        #expect(RoleDispatch.bareVersionOption(in: ["publish", "d", "--version", "1.2.0"]) == nil)
        #expect(RoleDispatch.bareVersionOption(in: ["publish", "d", "--", "--version"]) == nil)
        #expect(RoleDispatch.bareVersionOption(in: ["token", "--version"]) == nil)
    }
}

extension CLIError: Equatable {
    /// Kinds only, so `#expect(throws: CLIError.usage(""))` checks the exit code a user gets.
    public static func == (a: CLIError, b: CLIError) -> Bool { a.kind == b.kind }
}
