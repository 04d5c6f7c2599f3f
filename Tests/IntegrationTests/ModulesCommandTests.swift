import Foundation
import Testing

/// `tfreg publish --description --source`, `tfreg modules list|search|show` and `tfreg reindex
/// --dry-run` as processes against `tfreg serve`: the end-to-end path of what a user types.
@Suite struct ModulesCommandTests {
    @Test func publishListSearchShowAndReindex() async throws {
        let server = try ServerProcess()
        let rw = try server.token("rw", namespace: "acme", flags: ["-d", "-u"])
        let mod = server.dir + "/mod"
        try writeDocumentedModule(at: mod)
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

        // The documentation was extracted at publish (the HCL documenter): every input kind, outputs,
        // the submodule and the example, in the detail document and in `show`'s tables.
        #expect(show.stdout.contains("Inputs") && show.stdout.contains("cidr_block") && show.stdout.contains("Outputs"), "\(show.stdout)")
        let detail = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any] ?? [:]
        let root = detail["root"] as? [String: Any] ?? [:]
        let inputs = (root["inputs"] as? [[String: Any]] ?? []).map { ($0["name"] as? String ?? "", $0) }
        #expect(inputs.map(\.0) == ["cidr_block", "azs", "tags", "name_prefix", "secret"], "\(root)")
        let byName = Dictionary(inputs, uniquingKeysWith: { a, _ in a })
        #expect(byName["cidr_block"]?["required"] as? Bool == true && byName["cidr_block"]?["type"] as? String == "string")
        #expect(byName["azs"]?["default"] as? String == "[\"a\",\"b\"]" && byName["azs"]?["type"] as? String == "list(string)")
        #expect(byName["tags"]?["type"] as? String == "map(object({ owner = string }))", "type as written: \(byName["tags"] ?? [:])")
        #expect(
            byName["name_prefix"]?["required"] as? Bool == false && byName["name_prefix"]?["default"] as? String == "null",
            "default = null is optional"
        )
        #expect((root["outputs"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } == ["vpc_id"])
        #expect((root["readme"] as? String)?.contains("zanzibar") == true)
        #expect((detail["submodules"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String } == ["modules/subnets"], "\(detail)")
        #expect((detail["examples"] as? [[String: Any]] ?? []).compactMap { $0["path"] as? String } == ["examples/basic"], "\(detail)")
        // Search finds it by a word only its README has.
        let readmeWord = try server.tfreg(["modules", "search", "zanzibar", "--output", "json"] + registry)
        #expect(readmeWord.status == 0 && readmeWord.stdout.contains("\"id\":\"acme/net/aws/1.0.0\""), "\(readmeWord.stdout) \(readmeWord.stderr)")

        // Nothing is left without documentation; --all would extract every version again.
        let dry = try server.tfreg(["reindex", "--dry-run"])
        #expect(dry.status == 0 && !dry.stdout.contains("would reindex"), "\(dry.stdout) \(dry.stderr)")
        let all = try server.tfreg(["reindex", "--dry-run", "--all"])
        #expect(all.status == 0 && all.stdout.contains("would reindex acme/net/aws 1.0.0"), "\(all.stdout) \(all.stderr)")
        #expect(server.stop() == 0)
    }
}

/// A module with a README, a variable of every kind, an output, a submodule and an example.
func writeDocumentedModule(at dir: String, word: String = "zanzibar") throws {
    for sub in ["", "/modules/subnets", "/examples/basic"] {
        try FileManager.default.createDirectory(atPath: dir + sub, withIntermediateDirectories: true)
    }
    let files: [String: String] = [
        "README.md": "# net\n\nThe acme network module.\n\nIt routes traffic through \(word).\n",
        "variables.tf": """
        variable "cidr_block" {
          type        = string
          description = "The VPC's CIDR block."
        }
        variable "azs" {
          type    = list(string)
          default = ["a", "b"]
        }
        variable "tags" {
          type    = map(object({ owner = string }))
          default = {}
        }
        variable "name_prefix" {
          type    = string
          default = null
        }
        variable "secret" {
          type      = string
          sensitive = true
          default   = "x"
        }

        """,
        "main.tf": """
        terraform {
          required_version = ">= 1.5"
          required_providers {
            aws = { source = "hashicorp/aws", version = ">= 5.0" }
          }
        }
        resource "aws_vpc" "this" {
          cidr_block = var.cidr_block
        }
        output "vpc_id" {
          description = "The VPC's id."
          value       = aws_vpc.this.id
        }

        """,
        "modules/subnets/main.tf": "variable \"vpc_id\" {\n  type = string\n}\n",
        "examples/basic/main.tf": "module \"net\" {\n  source     = \"../..\"\n  cidr_block = \"10.0.0.0/16\"\n}\n",
    ]
    for (name, text) in files { try text.write(toFile: dir + "/" + name, atomically: true, encoding: .utf8) }
}
