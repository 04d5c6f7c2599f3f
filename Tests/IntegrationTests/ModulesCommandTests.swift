import Foundation
import Testing

/// `tfreg publish --description --source`, `tfreg modules list|search|show` and `tfreg reindex
/// --dry-run` as processes against `tfreg serve`: the end-to-end path of what a user types.
@Suite struct ModulesCommandTests {
    @Test func publishListSearchShowAndReindex() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let mod = server.dir + "/mod"
        try writeModule(at: mod, version: "1.0.0")
        let published = try server.tfreg([
            "publish", mod, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--module-version", "1.0.0",
            "--token", rw, "--description", "Network \u{1B}[31mred", "--source", "https://git.example.com/acme/net",
        ])
        #expect(published.status == 64, "a description with a control character is a usage error: \(published.stderr)")
        let ok = try server.tfreg([
            "publish", mod, "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--module-version", "1.0.0",
            "--token", rw, "--description", "The acme network", "--source", "https://git.example.com/acme/net",
        ])
        #expect(ok.status == 0, "\(ok.stderr)")
        let registry = ["--registry", server.host, "--token", rw]

        let list = try server.tfreg(["modules", "list"] + registry)
        #expect(list.status == 0, "\(list.stderr)")
        #expect(list.stdout.contains("acme/net/aws") && list.stdout.contains("1.0.0") && list.stdout.contains("The acme network"), "\(list.stdout)")
        let search = try server.tfreg(["modules", "search", "ACME network", "--output", "json"] + registry)
        #expect(search.status == 0 && search.stdout.contains("\"id\":\"acme/net/aws/1.0.0\""), "\(search.stdout) \(search.stderr)")
        let none = try server.tfreg(["modules", "search", "\"NEAR(x*)", "--namespace", "acme"] + registry)
        #expect(none.status == 0 && none.stdout == "no modules\n", "\(none.stdout) \(none.stderr)")

        let dep = try server.tfreg([
            "deprecate", "--registry", server.host, "-n", "acme", "--name", "net", "--system", "aws", "--module-version", "1.0.0", "--token", rw,
            "--reason", "use 2.x", "--replacement", "https://git.example.com/acme/net2", "--yes",
        ])
        #expect(dep.status == 0, "\(dep.stderr)")
        let show = try server.tfreg(["modules", "show", "acme/net/aws"] + registry)
        #expect(show.status == 0, "\(show.stderr)")
        #expect(
            show.stdout.hasPrefix("acme/net/aws/1.0.0\nDEPRECATED: use 2.x (use https://git.example.com/acme/net2 instead)\nThe acme network\n"),
            "\(show.stdout)"
        )
        #expect(show.stdout.contains("source: https://git.example.com/acme/net") && show.stdout.contains("versions: 1.0.0"))
        let json = try server.tfreg(["modules", "show", "acme/net/aws@1.0.0", "--output", "json"] + registry)
        #expect(json.status == 0 && json.stdout.contains("\"link\":\"https://git.example.com/acme/net2\""), "\(json.stdout)")
        #expect(try server.tfreg(["modules", "show", "acme/net/aws@9.9.9"] + registry).status == 66)
        #expect(try server.tfreg(["modules", "show", "acme/net"] + registry).status == 64)
        #expect(try server.tfreg(["modules", "list", "other"] + registry).status == 77)

        // Versions stored without documentation (this binary has no extractor yet) are listed.
        let dry = try server.tfreg(["reindex", "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("would reindex acme/net/aws 1.0.0"), "\(dry.stdout) \(dry.stderr)")
        #expect(server.stop() == 0)
    }
}
