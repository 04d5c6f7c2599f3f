import Foundation
import TFRegHTTPClient
import Testing

/// Trust II, item 7: grants belong to a token, not to its name — through the `tfreg grant` CLI
/// against a running `tfreg serve` (SQLite), as an administrator would do it.
@Suite struct GrantBindingTests {
    @Test func aReusedTokenNameGetsNoGrants() async throws {
        let server = try ServerProcess()
        try writeModule(at: server.dir + "/m", version: "1.0.0")
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--upload", "--download"])
        #expect(
            try server.tfreg([
                "publish", server.dir + "/m", "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--version", "1.0.0",
                "--token", publisher,
            ]).status == 0
        )
        func versions(_ token: String) async throws -> Int {
            try await server.client.send(
                .init(url: server.baseURL + "/v1/modules/acme/net/aws/versions", headers: [("Authorization", "Bearer \(token)")])
            ).status
        }

        // A grant written for a token that does not exist yet is refused, not kept for later.
        let early = try server.tfreg(["grant", "create", "-n", "acme", "--token-name", "newhire", "--download", "--upload"])
        #expect(early.status != 0 && early.stderr.contains("no token named 'newhire'"), "\(early.stderr)")
        // The token, then a grant by name: it works.
        let created = try server.tfreg(["grant", "create", "-n", "acme", "--new-token", "newhire", "--download"])
        #expect(created.status == 0 && created.stderr.contains("token:newhire#"), "\(created.stderr)")
        let first = created.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try server.tfreg(["grant", "create", "-n", "other", "--token-name", "newhire", "--download"]).status == 0)
        #expect(try await versions(first) == 200)
        // Revoke says how many grants went; a new token under the same name has none.
        let revoked = try server.tfreg(["grant", "revoke-token", "--token-name", "newhire", "--yes"])
        #expect(revoked.status == 0 && revoked.stderr.contains("revoked token:newhire and its 2 grants"), "\(revoked.stderr)")
        #expect(try await versions(first) == 401)
        let again = try server.tfreg(["grant", "create", "-n", "scratch", "--new-token", "newhire", "--download"])
        #expect(again.status == 0, "\(again.stderr)")
        let second = again.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await versions(second) == 403)
        let listed = try server.tfreg(["grant", "list", "--token-name", "newhire", "--json"])
        #expect(
            listed.status == 0 && listed.stdout.contains("\"namespace\":\"scratch\"") && !listed.stdout.contains("\"acme\""),
            "\(listed.stdout) \(listed.stderr)"
        )
        #expect(server.stop() == 0)
    }
}
