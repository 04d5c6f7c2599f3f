import Testing

@testable import TFRegStoreAWS

@Suite struct CallerARNParsingTests {
    let good = """
        <GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
          <GetCallerIdentityResult>
            <Arn>arn:aws:sts::123456789012:assumed-role/dev/ci</Arn>
            <UserId>AROAEXAMPLE:ci</UserId>
            <Account>123456789012</Account>
          </GetCallerIdentityResult>
          <ResponseMetadata><RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId></ResponseMetadata>
        </GetCallerIdentityResponse>
        """

    @Test func readsTheArnOfAWSsDocumentedResponse() {
        #expect(STSCallerIdentityVerifier.callerARN(Array(good.utf8)) == "arn:aws:sts::123456789012:assumed-role/dev/ci")
        #expect(
            STSCallerIdentityVerifier.callerARN(Array(("<?xml version=\"1.0\"?>\n" + good).utf8)) == "arn:aws:sts::123456789012:assumed-role/dev/ci"
        )
    }

    @Test func refusesAnythingAmbiguous() {
        let arn = "<Arn>arn:aws:sts::123456789012:assumed-role/dev/ci</Arn>"
        let bad = [
            good.replacing(arn, with: arn + "<Arn>arn:aws:iam::999999999999:role/admin</Arn>"),  // two ARNs
            "<!DOCTYPE x [<!ENTITY e \"arn\">]>" + good,
            good.replacing("GetCallerIdentityResponse", with: "AssumeRoleResponse"),
            good.replacing("<GetCallerIdentityResult>", with: "<Other>").replacing("</GetCallerIdentityResult>", with: "</Other>"),
            good.replacing(arn, with: "<Arn>&amp;arn</Arn>"),
            good.replacing("</GetCallerIdentityResult>", with: "</GetCallerIdentityResult>" + arn),  // ARN outside the result
            String(good.dropLast(10)),
            "",
        ]
        for b in bad { #expect(STSCallerIdentityVerifier.callerARN(Array(b.utf8)) == nil, "\(b.prefix(60))") }
        #expect(STSCallerIdentityVerifier.callerARN([0xff, 0xfe]) == nil)
    }
}
