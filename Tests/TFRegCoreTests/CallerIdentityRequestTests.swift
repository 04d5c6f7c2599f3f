import TFRegSystem
import Testing

@testable import TFRegCore

@Suite struct CallerIdentityRequestTests {
    let audience = "registry.example.com"
    let auth =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261126/eu-west-1/sts/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-tfreg-audience, Signature=abcd"

    func request(
        url: String = "https://sts.eu-west-1.amazonaws.com/",
        method: String = "POST",
        body: String = "Action=GetCallerIdentity&Version=2011-06-15",
        headers: [(name: String, value: String)]? = nil
    ) -> SignedCallerIdentityRequest {
        SignedCallerIdentityRequest(
            method: method,
            url: url,
            headers: headers ?? [
                ("Host", "sts.eu-west-1.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded"), ("X-Amz-Date", "20261126T100000Z"),
                ("X-TFReg-Audience", audience), ("Authorization", auth),
            ],
            body: body
        )
    }

    @Test func aWellFormedRequestNamesItsHostAndRegion() throws {
        let (host, region) = try request().validate(audience: audience)
        #expect(host == "sts.eu-west-1.amazonaws.com" && region == "eu-west-1")
        #expect(try request(body: "Version=2011-06-15&Action=GetCallerIdentity").validate(audience: audience).region == "eu-west-1")
    }

    /// 2026-11-26T10:00:00Z, the X-Amz-Date of the requests above.
    let signedAt: Int64 = 1_795_687_200

    @Test func aRequestSignedTwentyMinutesAgoIsRefused() throws {
        #expect(parseAmzDate("20261126T100000Z") == signedAt)
        _ = try request().validate(audience: audience, now: signedAt + 14 * 60)
        #expect(throws: RegistryError.badRequest("")) { try request().validate(audience: audience, now: signedAt + 20 * 60) }
        #expect(throws: RegistryError.badRequest("")) { try request().validate(audience: audience, now: signedAt - 20 * 60) }
    }

    @Test func duplicateCredentialQueryKeysInAnyCaseAreRefused() {
        // Query-signed (presigned-URL) forms are not accepted at all: the URL must carry no query.
        let url =
            "https://sts.eu-west-1.amazonaws.com/?X-Amz-Credential=AKIDEXAMPLE%2F20261126%2Feu-west-1%2Fsts%2Faws4_request&x-amz-credential=OTHER"
        #expect(throws: RegistryError.badRequest("")) { try request(url: url).validate(audience: audience) }
    }

    @Test func anotherSTSActionIsRefused() {
        #expect(throws: RegistryError.badRequest("")) {
            try request(body: "Action=AssumeRole&Version=2011-06-15&RoleArn=arn:aws:iam::123456789012:role/admin").validate(audience: audience)
        }
    }

    @Test func aNonSTSHostOrPlainHTTPIsRefused() {
        for url in ["http://sts.eu-west-1.amazonaws.com/", "https://attacker.example/", "https://sts.eu-west-1.amazonaws.com.attacker.example/"] {
            #expect(throws: RegistryError.badRequest(""), "\(url)") { try request(url: url).validate(audience: audience) }
        }
    }

    @Test func everyRuleRejects() {
        var base = request().headers
        let cases: [SignedCallerIdentityRequest] = [
            request(method: "GET"),
            request(url: "http://sts.eu-west-1.amazonaws.com/"),
            request(url: "https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity"),
            request(url: "https://sts.eu-west-1.amazonaws.com.attacker.example/"),
            request(url: "https://user@sts.eu-west-1.amazonaws.com/"),
            request(url: "https://sts.us-east-1.amazonaws.com/"),  // host region ≠ signature region
            request(url: "https://iam.amazonaws.com/"),
            request(body: "Action=GetCallerIdentity&Version=2011-06-15&Action=AssumeRole"),
            request(body: "Action=GetCallerIdentity&Version=2011-06-15&action=GetCallerIdentity"),
            request(body: "Action=AssumeRole&Version=2011-06-15"),
            request(body: "Action=GetCallerIdentity"),
            request(headers: base + [("x-amz-date", "20261126T100000Z")]),
            request(headers: base + [("X-Forwarded-Host", "evil")]),
            request(headers: base.filter { $0.name != "Host" }),
            request(headers: base.map { $0.name == "Host" ? ($0.name, "sts.amazonaws.com") : $0 }),
            request(headers: base.map { $0.name == "Authorization" ? ($0.name, auth.replacing(";x-tfreg-audience", with: "")) : $0 }),
            request(headers: base.map { $0.name == "Authorization" ? ($0.name, auth.replacing("/sts/", with: "/iam/")) : $0 }),
            request(headers: base.map { $0.name == "Authorization" ? ($0.name, "AWS4-HMAC-SHA256 Credential=x") : $0 }),
            request(headers: base.map { $0.name == "X-Amz-Date" ? ($0.name, "x\r\nInjected: 1") : $0 }),
        ]
        for (i, c) in cases.enumerated() {
            #expect(throws: RegistryError.badRequest(""), "case \(i)") { try c.validate(audience: audience) }
        }
        base = base.map { $0.name == "X-TFReg-Audience" ? ($0.name, "other.example.com") : $0 }
        #expect(throws: RegistryError.unauthenticated("")) { try request(headers: base).validate(audience: audience) }
    }
}
