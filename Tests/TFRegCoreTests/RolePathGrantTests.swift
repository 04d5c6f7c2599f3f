import TFRegCore
import Testing

/// Grants the replaced tool wrote under a role ARN with a path (`role/PATH/NAME`, e.g. IAM Identity
/// Center's `aws-reserved/sso.amazonaws.com/REGION/`) must meet an assumed-role caller, whose ARN never
/// carries the path: matched by partition + account + role name, and by nothing looser.
@Suite struct RolePathGrantTests {
    static let caller = "arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_0123456789abcdef/alice@example.com"
    static let written = "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_0123456789abcdef"

    @Test func aRoleWithAPathMatchesItsAssumedRoleSession() throws {
        let id = try Identity(Self.caller)
        #expect(id.value == "arn:aws:iam::123456789012:role/AWSReservedSSO_Dev_0123456789abcdef")
        #expect(id.matchesGrant(writtenAs: Self.written))
        #expect(id.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/AWSReservedSSO_Dev_0123456789abcdef"))
        #expect(id.roleARNPrefix == "arn:aws:iam::123456789012:role/")
        #expect(Self.written.hasPrefix(id.roleARNPrefix ?? "-"))
        #expect(Identity.isRoleARNWithPath(Self.written))
        #expect(!Identity.isRoleARNWithPath("arn:aws:iam::123456789012:role/dev"))
    }

    @Test func anotherAccountARoleOfAnotherNameOrAUserNeverMatch() throws {
        let dev = try Identity("arn:aws:sts::123456789012:assumed-role/dev/ci")
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::210987654321:role/team/dev"))  // other account
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/team/ops"))  // other role name
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/dev/ops"))  // the name is the last segment, not a path one
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/team/Dev"))  // names compare exactly
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::123456789012:user/team/dev"))  // a user of the same name
        #expect(!dev.matchesGrant(writtenAs: "arn:aws-cn:iam::123456789012:role/team/dev"))  // another partition
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/team//dev"))  // not an ARN
        #expect(!dev.matchesGrant(writtenAs: "arn:aws:sts::123456789012:assumed-role/dev/other-session-is-not-a-grant-key/x"))
        // A user caller never meets a role grant, and has no role prefix to look path variants up under.
        let user = try Identity("arn:aws:iam::123456789012:user/dev")
        #expect(!user.matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/team/dev"))
        #expect(user.roleARNPrefix == nil)
        #expect(try Identity.token(named: "ci").roleARNPrefix == nil)
        #expect(!(try Identity.token(named: "ci")).matchesGrant(writtenAs: "arn:aws:iam::123456789012:role/ci"))
    }
}
