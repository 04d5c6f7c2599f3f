import Glibc
import TFRegTesting
import Testing

@testable import TFRegArchive

@Suite struct IgnoreRulesTests {
    /// go-slug's own fixture and expectations (internal/ignorefiles/testdata/archive-dir/.terraformignore
    /// and TestTerraformIgnore), i.e. how Terraform decides. Cases 0–4 there are its built-in
    /// `.terraform/` rules, which tfreg applies as default exclusions instead (tested below).
    static let goSlugFixture = """
        # comments are ignored
         # extra spaces are irrelevant
        # ignore a file
           baz.txt
        # below is an empty line

        # ignore a directory
        terraform.d/
        # negate ignoring a directory at the root
        !/terraform.d/
        # ignore a file at a subpath
        **/foo/bar.tf
        # ignore files with specific endings
        foo/*.md
        # character groups
        bar/something-[a-z].txt
        # ignore a file
        boop.txt
        # but not one at the current directory
        !/boop.txt
        """

    @Test(arguments: [
        ("included.txt", false),
        ("baz.txt", true),
        ("parent/foo/baz.txt", true),
        ("parent/foo/bar.tf", true),
        ("parent/bar/bar.tf", false),
        ("something/with-baz.txt", false),
        ("something/baz.x", false),
        ("foo/ignored-doc.md", true),
        ("bar/something-a.txt", true),
        ("some-module/terraform.d/x", true),
        ("terraform.d/", false),
        ("terraform.d/foo", false),
        ("terraform.d", false),
        ("baz/boop.txt", true),
        ("boop.txt", false),
    ])
    func goSlugExpectations(_ path: String, _ excluded: Bool) {
        let rules = IgnoreRules(source: .terraformignore, patterns: IgnoreRules.parse(Self.goSlugFixture, source: .terraformignore))
        #expect(rules.patterns.count == 8)
        #expect(rules.excludes(path).excluded == excluded, "\(path)")
    }

    /// go-slug's TestTerraformIgnoreNoExclusionOptimization: an exclusion with no negation after it
    /// dominates (the walk skips the directory); one followed by a negation does not.
    @Test func dominatingExclusions() {
        let rules = IgnoreRules(
            source: .terraformignore,
            patterns: IgnoreRules.parse("src/**/*\n# except at one directory\n!src/foo/bar.txt\nlogs/\ntmp/\n", source: .terraformignore)
        )
        #expect(rules.excludes("logs/").excluded && rules.excludes("logs/").dominating)
        #expect(rules.excludes("tmp/").excluded && rules.excludes("tmp/").dominating)
        #expect(rules.excludes("src/baz/ignored").excluded && !rules.excludes("src/baz/ignored").dominating)
        #expect(rules.excludes("src/foo/bar.txt").excluded == false)
    }

    @Test func terraformAnchoringOnlyByALeadingSlash() {
        let middle = IgnorePattern("docs/*.md")!
        #expect(middle.matches("docs/a.md") && middle.matches("x/docs/a.md"))
        #expect(!middle.matches("docs/sub/a.md"))
        let anchored = IgnorePattern("/docs/")!
        #expect(anchored.matches("docs/") && anchored.matches("docs/a/b"))
        #expect(!anchored.matches("x/docs/") && !anchored.matches("docs"))
        let deep = IgnorePattern("a/**/b")!
        #expect(deep.matches("a/b") && deep.matches("x/a/b") && deep.matches("a/1/2/b"))
        #expect(!deep.matches("a/1b"))
    }

    @Test func gitAnchoringBySlashInTheMiddle() {
        let rules = IgnoreRules.parse("docs/*.md\nbuild/\n*.log\n!keep.log\n/TODO\n", source: .gitignore)
        #expect(rules.map(\.description) == ["docs/*.md", "build/", "*.log", "!keep.log", "/TODO"])
        #expect(rules[0].matches("docs/a.md") && !rules[0].matches("x/docs/a.md"))
        #expect(rules[1].matches("build/") && rules[1].matches("x/build/") && !rules[1].matches("build"))
        #expect(rules[4].matches("TODO") && !rules[4].matches("x/TODO"))
        let nested = IgnoreRules.parse("/out\n*.tmp\n", source: .gitignore, base: "sub")
        #expect(nested[0].matches("sub/out") && !nested[0].matches("out") && !nested[0].matches("sub/x/out"))
        #expect(nested[1].matches("sub/x/a.tmp") && !nested[1].matches("a.tmp"))
        // Git never re-includes below an excluded directory.
        let all = IgnoreRules(source: .gitignore, patterns: IgnoreRules.parse("build/\n!build/keep.txt\n", source: .gitignore))
        #expect(all.excludes("build/").excluded && all.excludes("build/").dominating)
    }

    @Test func globCharacters() {
        #expect(IgnorePattern("*.tf")!.matches("a/b/c.tf"))
        #expect(!IgnorePattern("/*.tf")!.matches("a/c.tf"))
        #expect(IgnorePattern("?.txt")!.matches("a.txt") && !IgnorePattern("?.txt")!.matches("ab.txt"))
        #expect(IgnorePattern("[!a]x")!.matches("bx") && !IgnorePattern("[!a]x")!.matches("ax"))
        #expect(IgnorePattern("[^a]x")!.matches("bx"))
        #expect(IgnorePattern("\\*.md")!.matches("*.md") && !IgnorePattern("\\*.md")!.matches("a.md"))
        #expect(IgnorePattern("\\#hash")!.matches("#hash"))
        #expect(IgnorePattern("[unclosed")!.matches("[unclosed"))
        #expect(IgnorePattern("ünï*")!.matches("x/ünïcode"))
        #expect(IgnorePattern("# comment") == nil && IgnorePattern("   ") == nil && IgnorePattern("!") == nil)
        #expect(IgnorePattern("!x")!.negated)
        // No exponential blow-up on many stars.
        let p = IgnorePattern(String(repeating: "*a", count: 30) + "b")!
        #expect(!p.matches(String(repeating: "a", count: 200)))
    }

    @Test(arguments: [
        ("terraform.tfstate", "state"), ("sub/x.tfstate.backup", "state"), (".env", "secret"), (".env.local", "secret"),
        ("prod.tfvars", "variables, may hold secrets"), ("secret.auto.tfvars", "variables, may hold secrets"),
        ("a.tfvars.json", "variables, may hold secrets"), ("tls/server.pem", "private key"), ("server.key", "private key"),
        ("id_rsa", "private key"), ("keys/id_ed25519.pub", "private key"), (".git", "git"), (".terraform", "Terraform working directory"),
        (".terraform.lock.hcl", "lock file: belongs to a root configuration"), ("node_modules", "dependencies"), ("x.tfplan", "plan"),
        (".terraformrc", "CLI config, may hold tokens"),
    ])
    func defaultExclusions(_ path: String, _ reason: String) {
        #expect(ModulePacker.defaultExclusions.first { $0.pattern.matches(path) }?.reason == reason)
    }

    @Test(arguments: ["main.tf", "variables.tf", "terraform.tfvars.example", "README.md", "keys.tf", "environment.tf", "modules/net/outputs.tf"])
    func notExcludedByDefault(_ path: String) {
        #expect(!ModulePacker.isExcluded(path))
    }
}

/// Entry names as GNU tar lists them.
func tarListing(_ archivePath: String) -> [String] {
    guard let pipe = popen("tar -tzf '\(archivePath)' 2>&1", "r") else { return ["popen failed"] }
    var out: [UInt8] = []
    var buf = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = fread(&buf, 1, buf.count, pipe)
        if n <= 0 { break }
        out += buf[0..<n]
    }
    let status = pclose(pipe)
    let lines = String(decoding: out, as: UTF8.self).split(separator: "\n").map(String.init)
    return status == 0 ? lines : ["tar failed: \(status)"] + lines
}

@Suite struct PackerSelectionTests {
    func write(_ dir: TemporaryDirectory, _ files: [String: String]) {
        for (path, text) in files {
            var prefix = dir.path
            for part in path.split(separator: "/").dropLast() {
                prefix += "/" + part
                mkdirs(prefix)
            }
            writeFile(dir.path + "/" + path, Array(text.utf8))
        }
    }

    /// Secrets, state, keys and junk stay out; the .terraformignore (a glob, a negation, an anchored
    /// pattern, a directory pattern) applies and the .gitignore does not; GNU tar reads the result.
    @Test func packsExactlyTheModule() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        write(
            dir,
            [
                "m/main.tf": "variable \"x\" {}\n", "m/README.md": "# m\n", "m/.env": "TOKEN=1\n", "m/.env.production": "TOKEN=2\n",
                "m/x.tfvars": "x = 1\n", "m/secret.auto.tfvars": "password = \"p\"\n", "m/terraform.tfstate": "{}", "m/id_rsa": "-----BEGIN",
                "m/.terraform.lock.hcl": "# lock\n", "m/node_modules/x.js": "1", "m/.git/HEAD": "ref\n",
                "m/.gitignore": "*.log\n", "m/debug.log": "packed: .gitignore is not read when .terraformignore exists\n",
                "m/.terraformignore": "# build output\n*.zip\n!keep.zip\n/TODO.md\nbuild/\n",
                "m/a.zip": "z", "m/keep.zip": "k", "m/TODO.md": "todo", "m/build/out.txt": "o",
                "m/sub/TODO.md": "kept: the pattern is anchored", "m/sub/b.zip": "z", "m/sub/build/x": "x",
                "m/modules/net/main.tf": "locals {}\n", "m/modules/net/.env": "S=1\n",
            ]
        )
        let plan = try ModulePacker.plan(directory: dir.path + "/m")
        #expect(plan.ignoreFile == ".terraformignore")
        #expect(
            plan.leftOut.map(\.description) == [
                ".env (secret)", ".env.production (secret)", ".git/ (git)", ".terraform.lock.hcl (lock file: belongs to a root configuration)",
                "TODO.md (.terraformignore)", "a.zip (.terraformignore)", "build/ (.terraformignore)", "id_rsa (private key)",
                "modules/net/.env (secret)", "node_modules/ (dependencies)", "secret.auto.tfvars (variables, may hold secrets)",
                "sub/b.zip (.terraformignore)", "sub/build/ (.terraformignore)", "terraform.tfstate (state)",
                "x.tfvars (variables, may hold secrets)",
            ]
        )
        writeFile(dir.path + "/m.tar.gz", try ModulePacker.pack(plan, directory: dir.path + "/m"))
        #expect(
            tarListing(dir.path + "/m.tar.gz") == [
                ".gitignore", ".terraformignore", "README.md", "debug.log", "keep.zip", "main.tf",
                "modules/", "modules/net/", "modules/net/main.tf", "sub/", "sub/TODO.md",
            ]
        )
    }

    /// Without a .terraformignore the .gitignore files apply, nested ones with git's anchoring.
    @Test func gitignoreWhenThereIsNoTerraformignore() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        write(
            dir,
            [
                "m/main.tf": "", "m/.gitignore": "*.log\n/dist/\n", "m/debug.log": "", "m/dist/a.zip": "",
                "m/sub/.gitignore": "/generated.tf\n!important.log\n", "m/sub/generated.tf": "", "m/sub/important.log": "", "m/sub/dist/x": "",
                "m/sub/deeper/generated.tf": "",
            ]
        )
        let plan = try ModulePacker.plan(directory: dir.path + "/m")
        #expect(plan.ignoreFile == ".gitignore")
        #expect(
            plan.entries.map(\.path) == [
                ".gitignore", "main.tf", "sub", "sub/.gitignore", "sub/deeper", "sub/deeper/generated.tf", "sub/dist", "sub/dist/x",
                "sub/important.log",
            ]
        )
        #expect(plan.leftOut.map(\.description) == ["debug.log (.gitignore)", "dist/ (.gitignore)", "sub/generated.tf (.gitignore)"])
    }

    /// --exclude wins over everything; --include re-includes a default exclusion, also inside an
    /// excluded directory (whose other contents stay out and are listed).
    @Test func excludeAndInclude() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        write(
            dir,
            [
                "m/main.tf": "", "m/example.tfvars": "", "m/dev.tfvars": "", "m/docs/a.png": "", "m/lambda/node_modules/dep/index.js": "",
                "m/lambda/node_modules/dep/test.js": "", "m/.terraformignore": "docs/\n",
            ]
        )
        let options = try ModulePacker.Options(exclude: ["*.png", "test.js"], include: ["example.tfvars", "node_modules/", "docs/"])
        let plan = try ModulePacker.plan(directory: dir.path + "/m", options: options)
        // docs/ is re-included, but its only file is excluded: an emptied directory is not packed.
        #expect(
            plan.entries.map(\.path) == [
                ".terraformignore", "example.tfvars", "lambda", "lambda/node_modules", "lambda/node_modules/dep", "lambda/node_modules/dep/index.js",
                "main.tf",
            ]
        )
        #expect(
            plan.leftOut.map(\.description) == [
                "dev.tfvars (variables, may hold secrets)", "docs/a.png (--exclude *.png)", "lambda/node_modules/dep/test.js (--exclude test.js)",
            ]
        )

        // Including one file inside a default-excluded directory keeps only that file.
        write(dir, ["m/.terraform/modules/x/main.tf": "", "m/.terraform/providers/p": ""])
        let one = try ModulePacker.plan(
            directory: dir.path + "/m",
            options: try ModulePacker.Options(exclude: [], include: ["/.terraform/modules/x/main.tf"])
        )
        #expect(
            one.entries.map(\.path).filter { $0.hasPrefix(".terraform/") || $0 == ".terraform" } == [
                ".terraform", ".terraform/modules", ".terraform/modules/x", ".terraform/modules/x/main.tf",
            ]
        )
        #expect(one.leftOut.map(\.description).contains(".terraform/providers/ (Terraform working directory)"))
        #expect(throws: ArchiveError.self) { try ModulePacker.Options(exclude: ["!x"], include: []) }
        #expect(throws: ArchiveError.self) { try ModulePacker.Options(exclude: [], include: ["# x"]) }
    }

    /// Below a directory the .terraformignore excludes, only a `!` pattern brings a path back; a
    /// directory pattern without its trailing `/` still keeps the directory's files out (go-slug would
    /// pack them: it only drops the directory's own entry).
    @Test func negationsBelowAnExcludedDirectory() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        write(
            dir,
            [
                "m/main.tf": "", "m/vendor/keep.tf": "", "m/vendor/other.txt": "", "m/vendor/deep/x.txt": "",
                "m/build/keep.txt": "", "m/build/out.bin": "", "m/cache/a": "", "m/cache/b/c": "",
                "m/.terraformignore": "vendor\n!vendor/keep.tf\nbuild/\n!build/keep.txt\ncache\n",
            ]
        )
        let plan = try ModulePacker.plan(directory: dir.path + "/m")
        #expect(plan.entries.map(\.path) == [".terraformignore", "build", "build/keep.txt", "main.tf", "vendor", "vendor/keep.tf"])
        #expect(
            plan.leftOut.map(\.description) == [
                "build/out.bin (.terraformignore)", "cache/ (.terraformignore)", "vendor/deep/ (.terraformignore)",
                "vendor/other.txt (.terraformignore)",
            ]
        )
    }

    @Test func nothingLeftToPackIsAnError() throws {
        let dir = TemporaryDirectory()
        defer { dir.remove() }
        write(dir, ["m/main.tf": "", "m/README.md": ""])
        let plan = try ModulePacker.plan(directory: dir.path + "/m", options: try ModulePacker.Options(exclude: ["*.tf"], include: []))
        #expect(throws: ArchiveError.self) { try ModulePacker.pack(plan, directory: dir.path + "/m") }
    }
}
