import Glibc
import TFRegArchive
import TFRegCore
import TFRegSystem
import TFRegTesting
import Testing

@testable import TFRegDocs

/// A `.tar.gz` of `files` (path → text).
func archive(_ files: [(String, String)]) throws -> [UInt8] {
    try Gzip.compress(TarWriter.archive(files.map { TarEntry(path: $0.0, kind: .file(Array($0.1.utf8))) }))
}

@Suite struct HCLModuleDocumenterTests {
    static let module: [(String, String)] = [
        ("README.md", "# VPC\n\nMakes a network.\n"),
        (
            "variables.tf",
            """
            variable "name" {
              type        = string
              description = "The name."
            }
            variable "cidr" {
              type    = string
              default = "10.0.0.0/16"
            }
            variable "tags" {
              type    = map(string)
              default = { b = "2", a = "1" }
            }
            variable "maybe" {
              default = null
            }
            variable "azs" {
              type    = list(string)
              default = var.fallback
            }
            variable "secret" {
              type      = string
              sensitive = true
              nullable  = false
            }
            """
        ),
        (
            "outputs.tf",
            """
            output "id" {
              description = "The VPC id."
              value       = aws_vpc.this.id
            }
            output "secret" {
              value     = var.secret
              sensitive = true
            }
            """
        ),
        (
            "main.tf",
            """
            terraform {
              required_version = ">= 1.5"
              required_providers {
                aws = {
                  source                = "hashicorp/aws"
                  version               = "~> 5.0"
                  configuration_aliases = [aws.east]
                }
                random = "~> 3.0"
                tls    = { source = "registry.terraform.io/acme/tls" }
              }
            }
            module "subnets" {
              source  = "app.example.com/net/subnets/aws"
              version = "1.2.0"
            }
            module "local" {
              source = "./modules/vpc"
            }
            resource "aws_vpc" "this" {
              cidr_block = var.cidr
            }
            data "aws_region" "current" {}
            """
        ),
        ("modules/vpc/main.tf", "variable \"x\" {}\nresource \"aws_subnet\" \"s\" {}\n"),
        ("modules/vpc/ReadMe.MD", "Sub"),
        ("modules/vpc/modules/deeper/main.tf", "variable \"ignored\" {}\n"),
        ("examples/simple/main.tf", "module \"vpc\" {\n  source = \"../..\"\n  name = \"x\"\n}\n"),
        ("examples/docs-only/README.md", "Just words."),
        (".hidden.tf", "variable \"hidden\" {}\n"),
        ("notes.txt", "variable \"no\" {}\n"),
    ]

    @Test func documentsRootSubmodulesAndExamples() throws {
        let docs = HCLModuleDocumenter().documentation(archiveBytes: try archive(Self.module))
        let root = docs.root
        #expect(root.path == "")
        #expect(root.readme == "# VPC\n\nMakes a network.\n")
        #expect(!root.empty)
        #expect(root.problems == [])
        #expect(
            root.inputs == [
                .init(name: "name", type: "string", description: "The name.", required: true),
                .init(name: "cidr", type: "string", defaultJSON: "\"10.0.0.0/16\"", required: false),
                .init(name: "tags", type: "map(string)", defaultJSON: "{\"a\":\"1\",\"b\":\"2\"}", required: false),
                .init(name: "maybe", defaultJSON: "null", required: false),
                .init(name: "azs", type: "list(string)", defaultJSON: "\"var.fallback\"", required: false),
                .init(name: "secret", type: "string", required: true, sensitive: true, nullable: false),
            ]
        )
        #expect(root.outputs == [.init(name: "id", description: "The VPC id."), .init(name: "secret", sensitive: true)])
        #expect(
            root.dependencies == [
                .init(name: "subnets", source: "app.example.com/net/subnets/aws", version: "1.2.0"),
                .init(name: "local", source: "./modules/vpc"),
            ]
        )
        #expect(
            root.providerDependencies == [
                .init(name: "aws", namespace: "hashicorp", source: "hashicorp/aws", version: "~> 5.0"),
                .init(name: "random", namespace: "hashicorp", source: "hashicorp/random", version: "~> 3.0"),
                .init(name: "tls", namespace: "acme", source: "registry.terraform.io/acme/tls"),
            ]
        )
        #expect(root.resources == [.init(type: "aws_vpc", name: "this"), .init(type: "data.aws_region", name: "current")])
        #expect(root.requiredVersion == ">= 1.5")

        #expect(docs.submodules.map(\.path) == ["modules/vpc"])
        #expect(docs.submodules.first?.inputs.map(\.name) == ["x"])
        #expect(docs.submodules.first?.readme == "Sub")
        #expect(docs.submodules.first?.resources == [.init(type: "aws_subnet", name: "s")])
        #expect(docs.examples.map(\.path) == ["examples/docs-only", "examples/simple"])
        #expect(docs.examples.first?.empty == true)
        #expect(docs.examples.first?.readme == "Just words.")
        #expect(docs.examples.last?.dependencies == [.init(name: "vpc", source: "../..")])
    }

    @Test func overrideFilesMergeArgumentByArgument() throws {
        let docs = HCLModuleDocumenter().documentation(
            archiveBytes: try archive([
                ("variables.tf", "variable \"a\" {\n  type = string\n  description = \"A\"\n}\nvariable \"b\" {\n  default = 1\n}\n"),
                (
                    "main.tf",
                    "terraform {\n  required_version = \">= 1.0\"\n  required_providers {\n    aws = \"~> 4.0\"\n  }\n}\noutput \"o\" {\n  value = 1\n}\n"
                ),
                // Applied in name order after every primary file: a_override.tf, then override.tf.
                ("override.tf", "variable \"a\" {\n  default = \"second\"\n}\nvariable \"ghost\" {}\n"),
                ("a_override.tf", "variable \"a\" {\n  default = \"first\"\n  sensitive = true\n}\noutput \"o\" {\n  description = \"O\"\n}\n"),
                (
                    "z_override.tf.json",
                    "{\"terraform\": {\"required_version\": \">= 1.6\", \"required_providers\": {\"aws\": {\"source\": \"hashicorp/aws\", \"version\": \"~> 5.0\"}}}}"
                ),
            ])
        )
        let a = try #require(docs.root.inputs.first)
        #expect(a == .init(name: "a", type: "string", description: "A", defaultJSON: "\"second\"", required: false, sensitive: true))
        #expect(docs.root.inputs.map(\.name) == ["a", "b"])
        #expect(docs.root.outputs == [.init(name: "o", description: "O")])
        #expect(docs.root.requiredVersion == ">= 1.6")
        #expect(docs.root.providerDependencies == [.init(name: "aws", namespace: "hashicorp", source: "hashicorp/aws", version: "~> 5.0")])
        #expect(docs.root.problems == ["override.tf:4: override of variable \"ghost\", which no primary file declares (ignored)"])
    }

    @Test func tfJSONFilesCount() throws {
        let json = """
            {
              "variable": {
                "region": { "type": "string", "default": "eu-west-1", "description": "Where." },
                "count": [ { "type": "number" } ]
              },
              "output": { "arn": { "value": "${aws_s3_bucket.b.arn}", "sensitive": true } },
              "module": { "net": { "source": "./net", "version": "1.0.0" } },
              "resource": { "aws_s3_bucket": { "b": { "bucket": "x" } } },
              "data": { "aws_caller_identity": { "me": {} } },
              "terraform": { "required_providers": { "aws": { "source": "hashicorp/aws" } } }
            }
            """
        let docs = HCLModuleDocumenter().documentation(archiveBytes: try archive([("main.tf.json", json)]))
        #expect(
            docs.root.inputs == [
                .init(name: "region", type: "string", description: "Where.", defaultJSON: "\"eu-west-1\"", required: false),
                .init(name: "count", type: "number", required: true),
            ]
        )
        #expect(docs.root.outputs == [.init(name: "arn", sensitive: true)])
        #expect(docs.root.dependencies == [.init(name: "net", source: "./net", version: "1.0.0")])
        #expect(docs.root.resources == [.init(type: "aws_s3_bucket", name: "b"), .init(type: "data.aws_caller_identity", name: "me")])
        #expect(docs.root.providerDependencies.map(\.source) == ["hashicorp/aws"])
        #expect(docs.root.problems == [])
    }

    @Test func aFileThatDoesNotParseStillYieldsWhatParsed() throws {
        let docs = HCLModuleDocumenter().documentation(
            archiveBytes: try archive([
                ("good.tf", "variable \"good\" {}\n"),
                ("main.tf", "variable \"before\" {}\n\nvariable \"broken\" {\n  default = \"no end\n}\nvariable \"after\" {}\n"),
                ("bad.tf.json", "{\"variable\": "),
            ])
        )
        #expect(docs.root.inputs.map(\.name) == ["good", "before"])
        #expect(docs.root.problems.count == 2)
        #expect(docs.root.problems.contains { $0.hasPrefix("main.tf:4: ") })
        #expect(docs.root.problems.contains { $0.hasPrefix("bad.tf.json:1: ") })
    }

    @Test func boundsAreReportedAsProblems() throws {
        let big = String(repeating: "# padding\n", count: 200) + "variable \"big\" {}\n"
        let bytes = try archive([("a.tf", "variable \"a\" {}\n"), ("big.tf", big)])
        let sized = HCLModuleDocumenter(limits: .init(maximumFileBytes: 1_000)).documentation(archiveBytes: bytes)
        #expect(sized.root.inputs.map(\.name) == ["a"])
        #expect(sized.root.problems.count == 1)
        #expect(sized.root.problems.first?.hasPrefix("big.tf: larger than 1000 bytes") == true)

        let timed = HCLModuleDocumenter(limits: .init(timeLimit: .zero)).documentation(archiveBytes: bytes)
        #expect(timed.root.inputs.isEmpty)
        #expect(timed.root.problems.first?.contains("time limit") == true)
    }

    @Test func anArchiveThatCannotBeReadIsAProblemNotACrash() {
        let docs = HCLModuleDocumenter().documentation(archiveBytes: Array("not gzip".utf8))
        #expect(docs.root.problems.count == 1)
        #expect(docs.root.problems.first?.hasPrefix("the archive could not be read") == true)
    }

    @Test func readsAnArchiveFileOffTheCooperativePool() async throws {
        let dir = TemporaryDirectory("tfreg-docs")
        defer { dir.remove() }
        let path = dir.path + "/module.tar.gz"
        try FileSystem.writeExclusive(path, try archive(Self.module), mode: 0o600)
        let docs = await HCLModuleDocumenter().documentation(ofArchiveAt: path)
        #expect(docs.root.inputs.count == 6)
        #expect(docs.submodules.count == 1)
    }

    /// CPU seconds of the calling thread (the wall time says more about the machine's load).
    static func threadCPUTime() -> Double {
        var t = timespec()
        clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }

    /// Issue 19's performance figure: a 200-file module (5 variables, an output and a resource per
    /// file). Reported, not a benchmark; bounded generously so a loaded machine does not fail it.
    @Test func twoHundredFileModule() throws {
        var files: [(String, String)] = [("README.md", "# Big\n")]
        for f in 0..<200 {
            var text = ""
            for v in 0..<5 {
                text += "variable \"v\(f)_\(v)\" {\n  type = map(object({ a = string, b = optional(number, \(v)) }))\n"
                text += "  description = \"Variable \(v) of file \(f).\"\n  default = { k = { a = \"x\", b = \(v) } }\n}\n"
            }
            text += "output \"o\(f)\" {\n  value = aws_s3_bucket.b\(f).arn\n}\nresource \"aws_s3_bucket\" \"b\(f)\" {\n  bucket = \"b-\(f)\"\n}\n"
            files.append(("file\(f).tf", text))
        }
        let bytes = try archive(files)
        let clock = ContinuousClock()
        var docs: ModuleDocs?
        let cpuBefore = Self.threadCPUTime()
        let elapsed = clock.measure { docs = HCLModuleDocumenter().documentation(archiveBytes: bytes) }
        let cpu = Self.threadCPUTime() - cpuBefore
        print("docs extraction of a 200-file module (\(bytes.count) bytes gzipped): \(elapsed) wall, \(cpu) s CPU")
        #expect(docs?.root.inputs.count == 1_000)
        #expect(docs?.root.outputs.count == 200)
        #expect(docs?.root.problems == [])
        #expect(elapsed < .seconds(20))
    }
}
