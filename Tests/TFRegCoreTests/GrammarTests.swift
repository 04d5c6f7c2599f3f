import TFRegSystem
import Testing

@testable import TFRegCore

@Suite struct GrammarTests {
    @Test(arguments: ["hashicorp", "a", "A1", "my-team", "my_team", "x" + String(repeating: "y", count: 62) + "z", "0abc9"])
    func validNames(_ s: String) throws {
        #expect(throws: Never.self) { try Namespace(s) }
        #expect(throws: Never.self) { try ModuleAddress(namespace: s, name: s, system: "aws") }
    }

    @Test(arguments: [
        "", "-lead", "trail-", "_lead", "trail_", "has space", "dot.ted", "slash/x", "..", ".", "ünïcode",
        String(repeating: "a", count: 65), "a%2Fb", "semi;colon", "nul\u{0}x", "new\nline",
    ])
    func invalidNames(_ s: String) {
        #expect(throws: RegistryError.badRequest("")) { try Namespace(s) }
        #expect(throws: RegistryError.badRequest("")) { try ModuleAddress(namespace: "ok", name: s, system: "aws") }
    }

    @Test(arguments: ["aws", "google", "azurerm", "k8s", "a", String(repeating: "z", count: 64)])
    func validSystems(_ s: String) throws {
        #expect(throws: Never.self) { try ModuleAddress(namespace: "ns", name: "n", system: s) }
    }

    @Test(arguments: ["AWS", "a-b", "a_b", "", String(repeating: "z", count: 65), "aws/x", "aws.x"])
    func invalidSystems(_ s: String) {
        #expect(throws: RegistryError.self) { try ModuleAddress(namespace: "ns", name: "n", system: s) }
    }

    @Test func addressDescription() throws {
        #expect(try ModuleAddress(namespace: "acme", name: "vpc", system: "aws").description == "acme/vpc/aws")
    }

    @Test(arguments: [
        "arn:aws:iam::123456789012:role/deployer",
        "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_abc123",
        "arn:aws:iam::123456789012:user/alice@example.com",
        "arn:aws-cn:iam::123456789012:role/x",
        "arn:aws-us-gov:sts::123456789012:assumed-role/r/session",
        "token:ci", "token:team.deploy-1",
    ])
    func validIdentities(_ s: String) {
        #expect(throws: Never.self) { try Identity(s) }
    }

    @Test(arguments: [
        "", "arn:aws:iam::12345678901:role/x", "arn:aws:s3:::bucket/x", "arn:evil:iam::123456789012:role/x",
        "arn:aws:iam::123456789012:role/", "arn:aws:iam::123456789012:role//x", "arn:aws:iam::123456789012:role/x y",
        "arn:aws:iam::123456789012:rolex", "token:", "token:-x", "token:a/b", "token:" + String(repeating: "a", count: 65),
        "root", "arn:aws:iam::123456789012:role/x\n", "arn:aws:iam:us-east-1:123456789012:role/x", "ARN:aws:iam::123456789012:role/x",
        "arn:aws:iam::123456789012:role/x:y", "arn:aws:iam::12345678901a:role/x", "arn:aws:iam::123456789012", "arn:aws:iam::123456789012:/",
    ])
    func invalidIdentities(_ s: String) {
        #expect(throws: RegistryError.self) { try Identity(s) }
    }
}

/// `Identity.normalizeARN`'s fast path (`isNormalizedARN`, taken for every sealed token's subject) gives
/// exactly what the general rule gives, and only for ARNs that are already canonical.
@Suite struct NormalizedARNTests {
    @Test(arguments: [
        ("arn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci", true),
        ("arn:aws-cn:iam::123456789012:user/alice", "arn:aws-cn:iam::123456789012:user/alice", true),
        ("arn:aws:iam::123456789012:role/a/b/ci", "arn:aws:iam::123456789012:role/ci", false),
        ("arn:aws:sts::123456789012:assumed-role/ci/s1", "arn:aws:iam::123456789012:role/ci", false),
        ("arn:aws:sts::123456789012:role/ci", "arn:aws:sts::123456789012:role/ci", false),
        ("arn:aws:iam::123456789012:group/devs", "arn:aws:iam::123456789012:group/devs", false),
        ("arn:aws:iam:us-east-1:123456789012:role/ci", "arn:aws:iam::123456789012:role/ci", false),
        ("xrn:aws:iam::123456789012:role/ci", "arn:aws:iam::123456789012:role/ci", false),
        ("arn:aws:iam::123456789012:role/ci/", "arn:aws:iam::123456789012:role/", false),
        ("arn:aws:iam::123456789012:rolé/ci", "arn:aws:iam::123456789012:rolé/ci", false),
        ("arn:aws:iam::123456789012", "arn:aws:iam::123456789012", false),
    ])
    func fastPathAgreesWithTheRule(_ arn: String, _ normalized: String, _ fast: Bool) {
        #expect(Identity.isNormalizedARN(arn) == fast)
        #expect(Identity.normalizeARN(arn) == normalized)
    }
}

@Suite struct VersionTests {
    @Test(arguments: [
        "0.0.0", "1.2.3", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7", "1.0.0-x.7.z.92", "1.0.0+20130313144700",
        "1.0.0-beta+exp.sha.5114f85", "1.0.0-x-y-z.--",
    ])
    func valid(_ s: String) throws {
        #expect(try Version(s).description == s)
    }

    @Test(arguments: [
        "", "1", "1.2", "1.2.3.4", "v1.2.3", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01", "1.2.3-a..b", "1.2.3+a..b", "1.2.3-ü",
        " 1.2.3", "1.2.3 ", "-1.2.3", "1.2.3-a+b+c", "99999999999999999999.0.0",
    ])
    func invalid(_ s: String) {
        #expect(throws: RegistryError.self) { try Version(s) }
    }

    /// SemVer §11's own example chain plus tricky pairs.
    @Test func precedenceChain() throws {
        let chain = [
            "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11",
            "1.0.0-rc.1", "1.0.0", "1.0.1", "1.1.0-0", "1.1.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "10.0.0",
        ].map { try! Version($0) }
        for i in 0..<chain.count {
            for j in 0..<chain.count {
                #expect((chain[i] < chain[j]) == (i < j), "\(chain[i]) vs \(chain[j])")
            }
        }
        #expect(chain.shuffled().sorted() == chain)
    }

    @Test func buildMetadataIgnoredForPrecedence() throws {
        let a = try Version("1.0.0+a")
        let b = try Version("1.0.0+b")
        let c = try Version("1.0.0")
        #expect(!(a < b) && !(b < a))
        #expect(a.hasSamePrecedence(as: b) && a.hasSamePrecedence(as: c))
        #expect(a != b)
        #expect(try Version("1.0.0-rc.1+build") < c)
    }

    @Test func numericIdentifiersCompareNumerically() throws {
        #expect(try Version("1.0.0-2") < Version("1.0.0-10"))
        #expect(try Version("1.0.0-10") < Version("1.0.0-a"))
        #expect(try Version("1.0.0-B") < Version("1.0.0-a"))
    }
}

@Suite struct PermissionTests {
    @Test func coversIsSubset() {
        let all = Permissions(download: true, upload: true, createGrant: true, deleteGrant: true)
        let some = Permissions(download: true, createGrant: true)
        #expect(all.covers(some))
        #expect(!some.covers(all))
        #expect(some.covers(.none))
        #expect(!some.covers(Permissions(upload: true)))
        #expect(some.description == "download,create_grant")
    }
}

@Suite struct IdentityNormalizationTests {
    @Test(arguments: [
        ("arn:aws:sts::123456789012:assumed-role/deployer/ci-run-42", "arn:aws:iam::123456789012:role/deployer"),
        (
            "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Admin_0123abcd/alice@example.com",
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123abcd"
        ),
        (
            "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Admin_0123abcd",
            "arn:aws:iam::123456789012:role/AWSReservedSSO_Admin_0123abcd"
        ),
        ("arn:aws:iam::123456789012:role/deployer", "arn:aws:iam::123456789012:role/deployer"),
        ("arn:aws:iam::123456789012:user/alice", "arn:aws:iam::123456789012:user/alice"),
        ("arn:aws:iam::123456789012:user/division/team/alice", "arn:aws:iam::123456789012:user/alice"),
        ("arn:aws-cn:sts::123456789012:assumed-role/r/s", "arn:aws-cn:iam::123456789012:role/r"),
        ("arn:aws-us-gov:sts::123456789012:assumed-role/r/s", "arn:aws-us-gov:iam::123456789012:role/r"),
        ("arn:aws:sts::123456789012:federated-user/bob", "arn:aws:sts::123456789012:federated-user/bob"),
    ])
    func normalizes(_ input: String, _ expected: String) throws {
        #expect(try Identity(input).value == expected)
    }

    /// The session name never matters, and the account always does.
    @Test func sessionsCollapseAccountsDoNot() throws {
        #expect(try Identity("arn:aws:sts::123456789012:assumed-role/deployer/a") == Identity("arn:aws:sts::123456789012:assumed-role/deployer/b"))
        #expect(try Identity("arn:aws:sts::123456789012:assumed-role/deployer/a") != Identity("arn:aws:sts::210987654321:assumed-role/deployer/a"))
        #expect(try Identity("arn:aws:iam::123456789012:user/deployer") != Identity("arn:aws:iam::123456789012:role/deployer"))
    }
}
