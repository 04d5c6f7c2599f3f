import TFRegAPI
import TFRegCore
import Testing

@Suite struct GrantsAPITests {
    let json: [(name: String, value: String)] = [("Content-Type", "application/json")]

    func put(_ h: APIHarness, _ token: String?, _ identity: String, _ perms: String, ns: String = "acme") async -> APIResponse {
        await h.send(
            "PUT",
            "/v1/grants/\(ns)",
            token: token,
            headers: json,
            body: Array(#"{"identity": "\#(identity)", "permissions": {\#(perms)}}"#.utf8)
        )
    }

    @Test func delegationWithoutEscalation() async throws {
        let h = try APIHarness()
        let admin = try await h.token("admin", Permissions(download: true, upload: true, createGrant: true, deleteGrant: true))
        let lead = try await h.token("lead", Permissions(download: true, createGrant: true))
        let reader = try await h.token("reader", Permissions(download: true))
        let role = "arn:aws:iam::123456789012:role/ci"

        // The lead may hand out what it holds.
        let ok = await put(h, lead, role, #""download": true"#)
        #expect(ok.status == 200 && ok.text.contains(#""download":true"#), "\(ok.text)")
        // …but not upload, which it lacks; nor create a grant in another namespace.
        #expect(await put(h, lead, role, #""download": true, "upload": true"#).status == 403)
        #expect(await put(h, lead, role, #""download": true"#, ns: "other").status == 403)
        // The admin raises the role; the lead may then neither change nor delete that grant.
        #expect(await put(h, admin, role, #""download": true, "upload": true"#).status == 200)
        #expect(await put(h, lead, role, #""download": true"#).status == 403)
        #expect(await h.send("DELETE", "/v1/grants/acme/arn:aws:iam::123456789012:role/ci", token: lead).status == 403)
        // A reader can do nothing with grants; nobody unauthenticated can.
        #expect(await put(h, reader, role, #""download": true"#).status == 403)
        #expect(await h.send("GET", "/v1/grants/acme", token: reader).status == 403)
        #expect(await h.send("GET", "/v1/grants/acme").status == 401)

        let list = await h.send("GET", "/v1/grants/acme", token: lead)
        #expect(
            list.status == 200 && list.text.contains(#""identity":"arn:aws:iam::123456789012:role/ci""#) && list.text.contains(#""upload":true"#),
            "\(list.text)"
        )
        // The admin deletes it (the identity is written as it is, '/' included); a second delete is 404.
        #expect(await h.send("DELETE", "/v1/grants/acme/arn:aws:iam::123456789012:role/ci", token: admin).status == 204)
        #expect(await h.send("DELETE", "/v1/grants/acme/arn:aws:iam::123456789012:role/ci", token: admin).status == 404)
        // Assumed-role and SSO-path forms land on the same grant as the plain role.
        #expect(
            await put(h, admin, "arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/eu-west-1/AWSReservedSSO_Dev_1", #""download": true"#)
                .status == 200
        )
        let sso = try await h.store.grant(
            for: try Identity("arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_Dev_1/alice"),
            in: try Namespace("acme")
        )
        #expect(sso?.permissions == Permissions(download: true))
    }

    /// The attacks on name-bound grants, through the API: a grant for a token name nobody holds is a
    /// 404 (it would otherwise wait for whoever creates `newhire`), and a token created again under a
    /// revoked token's name gets none of its grants.
    @Test func grantsNeverPassToALaterTokenOfTheSameName() async throws {
        let h = try APIHarness()
        let admin = try await h.token("admin", Permissions(download: true, upload: true, createGrant: true, deleteGrant: true))
        let early = await put(h, admin, "token:newhire", #""download": true, "upload": true"#)
        #expect(early.status == 404 && early.text.contains("no token named 'newhire'"), "\(early.text)")
        let newhire = try await h.token("newhire", Permissions(), in: [])
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: newhire).status == 403)

        // A grant by name lands on the token holding it; revoke; recreate: the new token has nothing.
        #expect(await put(h, admin, "token:newhire", #""download": true, "upload": true"#).status == 200)
        #expect(try await h.publish("1.0.0", token: newhire).status == 201)
        #expect(try await h.store.revokeStaticToken(try Identity.token(named: "newhire")) == 1)
        let successor = try await h.token("newhire", Permissions(), in: [])
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: successor).status == 403)
        #expect(try await h.publish("1.1.0", token: successor).status == 403)
        let list = await h.send("GET", "/v1/grants/acme", token: admin)
        #expect(!list.text.contains("newhire"), "\(list.text)")
        // DELETE by name reaches the current token's grant.
        #expect(await put(h, admin, "token:newhire", #""download": true"#).status == 200)
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: successor).status == 200)
        #expect(await h.send("DELETE", "/v1/grants/acme/token:newhire", token: admin).status == 204)
        #expect(await h.send("GET", "/v1/modules/acme/vpc/aws/versions", token: successor).status == 403)
    }

    @Test func malformedGrantRequestsAre4xx() async throws {
        let h = try APIHarness()
        let admin = try await h.token("admin", Permissions(download: true, upload: true, createGrant: true, deleteGrant: true))
        for body in [
            #"{"identity": "arn:aws:iam::123456789012:role/ci"}"#, #"{"identity": "root", "permissions": {"download": true}}"#,
            #"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"admin": true}}"#,
            #"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": "yes"}}"#,
            #"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": false}}"#,
            #"{"identity": "arn:aws:iam::123456789012:role/ci", "permissions": {"download": true}, "namespace": "other"}"#, "nope",
        ] {
            let r = await h.send("PUT", "/v1/grants/acme", token: admin, headers: json, body: Array(body.utf8))
            #expect(r.status == 400 && r.text.hasPrefix(#"{"errors":["#), "\(body): \(r.status) \(r.text)")
        }
        #expect(await h.send("POST", "/v1/grants/acme", token: admin).status == 405)
        #expect(await h.send("GET", "/v1/grants/bad..ns", token: admin).status == 400)
        #expect(await h.send("DELETE", "/v1/grants/acme/not-an-identity", token: admin).status == 400)
        #expect(await h.send("GET", "/v1/grants/acme/x/y", token: admin).status == 405)
        // %2F is refused
        #expect(await h.send("DELETE", "/v1/grants/acme/arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fci", token: admin).status == 400)
    }
}
