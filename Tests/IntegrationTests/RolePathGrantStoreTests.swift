import Foundation
import TFRegAWS
import TFRegCore
import TFRegStoreAWS
import Testing

extension MotoBackedTests {
    /// Grants the replaced tool keyed by a role ARN with a path, read by the DynamoDB store (moto,
    /// signatures checked): matched by partition + account + role name, never by anything looser;
    /// deleting the role's grant removes every form of it.
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct RolePathGrantStoreTests {
        /// An IAM grant item in the replaced tool's layout, keyed by the ARN exactly as written.
        static func seedGrant(_ arn: String, _ namespace: String, _ p: Permissions) -> DynamoDBItem {
            [
                "pk": .s(namespace), "sk": .s("IAMBearerAuth~\(arn)"), "namespace": .s(namespace), "identifier": .s(arn),
                "permissions": .m([
                    "download": .bool(p.download), "upload": .bool(p.upload), "create_grant": .bool(p.createGrant),
                    "delete_grant": .bool(p.deleteGrant),
                ]),
            ]
        }

        @Test func roleGrantsWrittenWithAPathMatchByAccountAndName() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let dynamo = DynamoDBClient(client: moto.client())
            try await dynamo.createTable("role-paths")
            let s = DynamoDBMetadataStore(dynamo: dynamo, table: "role-paths")
            let acme = try Namespace("acme")
            for item in [
                Self.seedGrant("arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/Dev", "acme", .init(download: true)),
                Self.seedGrant("arn:aws:iam::210987654321:role/teams/Ops", "acme", .init(download: true, upload: true)),  // other account
                Self.seedGrant("arn:aws:iam::123456789012:user/people/Ops", "acme", .init(download: true)),  // a user named Ops
            ] {
                try await dynamo.putItem(table: "role-paths", item: item)
            }
            let dev = try Identity("arn:aws:sts::123456789012:assumed-role/Dev/alice@example.com")
            #expect(try await s.grant(for: dev, in: acme)?.permissions == Permissions(download: true))
            // Negative: same name in another account, a user of the same name, another role name.
            #expect(try await s.grant(for: try Identity("arn:aws:sts::123456789012:assumed-role/Ops/bob"), in: acme) == nil)
            #expect(try await s.grant(for: try Identity("arn:aws:iam::123456789012:user/Dev"), in: acme) == nil)
            #expect(try await s.grant(for: try Identity("arn:aws:sts::123456789012:assumed-role/Dev2/carol"), in: acme) == nil)
            #expect(try await s.grant(for: try Identity("arn:aws:sts::999999999999:assumed-role/Dev/alice"), in: acme) == nil)
            // Users keep the exact-key lookup: a user grant the replaced tool wrote with a path is not
            // looked up by name (that tool never matched users at all; only roles are widened).
            #expect(try await s.grant(for: try Identity("arn:aws:iam::123456789012:user/Ops"), in: acme) == nil)
            // Listing shows the grant as it matches; by identity too.
            #expect(try await s.grants(for: dev).map(\.namespace) == [acme])
            #expect(try await s.grants(in: acme).contains { $0.identity == dev })
            // An update of a grant that exists only as a path variant writes the tfreg form, which then wins.
            try await s.putGrant(Grant(namespace: acme, identity: dev, permissions: .init(download: true, upload: true)), mode: .update)
            #expect(try await s.grant(for: dev, in: acme)?.permissions == Permissions(download: true, upload: true))
            await #expect(throws: RegistryError.notFound("")) {
                try await s.putGrant(
                    Grant(namespace: acme, identity: try Identity("arn:aws:iam::123456789012:role/Nobody"), permissions: .init()),
                    mode: .update
                )
            }
            #expect(try await s.grants(in: acme).filter { $0.identity == dev }.count == 1)
            // Deleting the role's grant removes every form: no path variant keeps granting.
            #expect(try await s.deleteGrant(for: dev, in: acme))
            #expect(try await s.grant(for: dev, in: acme) == nil)
            #expect(try await s.roleGrantsWrittenWithPath().map(\.written) == ["arn:aws:iam::210987654321:role/teams/Ops"])
        }
    }
}
