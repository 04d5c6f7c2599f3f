import TFRegSystem
import Testing

@testable import TFRegSigV4

/// AWS's published Signature Version 4 test suite (aws-c-auth `tests/aws-signing-test-suite/v4/`):
/// credentials AKIDEXAMPLE, region us-east-1, service `service`, 2015-08-30T12:36:00Z.
@Suite struct SigV4VectorTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let now: Int64 = 1_440_938_160  // 20150830T123600Z
    let signer = SigV4Signer(service: "service", region: "us-east-1")

    func authorization(_ r: SigV4Request, credentials: AWSCredentials = credentials) -> String {
        signer.sign(r, credentials: credentials, now: Self.now).headers.first { $0.name == "Authorization" }!.value
    }

    func get(_ path: String, query: [(String, String)] = [], headers: [(String, String)] = []) -> SigV4Request {
        SigV4Request(
            method: "GET",
            path: path,
            query: query.map { ($0.0, $0.1) },
            headers: [("Host", "example.amazonaws.com")] + headers.map { ($0.0, $0.1) },
            payloadHash: SigV4.emptyPayloadHash
        )
    }

    @Test func dateFormat() {
        #expect(amzDate(Self.now) == "20150830T123600Z")
    }

    /// get-vanilla, stage by stage.
    @Test func getVanillaStages() {
        var r = get("/")
        r.headers.append(("X-Amz-Date", "20150830T123600Z"))
        let (canonical, signed) = SigV4.canonicalRequest(r, s3: false)
        #expect(
            canonical
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        )
        #expect(signed == "host;x-amz-date")
        let scope = SigV4.scope(date: "20150830T123600Z", region: "us-east-1", service: "service")
        #expect(scope == "20150830/us-east-1/service/aws4_request")
        let sts = SigV4.stringToSign(canonicalRequest: canonical, amzDate: "20150830T123600Z", scope: scope)
        #expect(
            sts
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nbb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"
        )
        let key = SigV4.signingKey(secret: Self.credentials.secretAccessKey, date: "20150830", region: "us-east-1", service: "service")
        #expect(SigV4.signature(stringToSign: sts, signingKey: key) == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            authorization(get("/"))
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
    }

    @Test func getHeaderValueTrim() {
        let r = get("/", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")])
        let (canonical, _) = SigV4.canonicalHeaders(r.headers)
        #expect(canonical.contains("my-header2:\"a b c\"\n"))
        #expect(
            authorization(r).hasSuffix(
                "SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736"
            )
        )
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let r = get("/", query: [("Param2", "value2"), ("Param1", "value1")])
        #expect(SigV4.canonicalQuery(r.query) == "Param1=value1&Param2=value2")
        #expect(authorization(r).hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test func getVanillaQueryUnreserved() {
        let u = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
        #expect(authorization(get("/", query: [(u, u)])).hasSuffix("Signature=9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197"))
    }

    @Test func getUTF8() {
        #expect(SigV4.canonicalURI("/ሴ", s3: false) == "/%E1%88%B4")
        #expect(authorization(get("/ሴ")).hasSuffix("Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"))
    }

    @Test func getSpaceNormalized() {
        #expect(SigV4.canonicalURI("/example space/", s3: false) == "/example%20space/")
        #expect(authorization(get("/example space/")).hasSuffix("Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741"))
    }

    @Test func getSlashesNormalized() {
        #expect(SigV4.canonicalURI("//example//", s3: false) == "/example/")
        #expect(authorization(get("//example//")).hasSuffix("Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"))
    }

    @Test func getVanillaWithSessionToken() {
        let creds = AWSCredentials(
            accessKeyID: "AKIDEXAMPLE",
            secretAccessKey: Self.credentials.secretAccessKey,
            sessionToken: "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267"
        )
        let signed = signer.sign(get("/"), credentials: creds, now: Self.now)
        #expect(signed.headers.contains { $0.name == "X-Amz-Security-Token" && $0.value == creds.sessionToken })
        #expect(
            authorization(get("/"), credentials: creds)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
        )
    }

    @Test func pathNormalization() {
        #expect(SigV4.normalizePath("") == "/")
        #expect(SigV4.normalizePath("/a/./b/../c/") == "/a/c/")
        #expect(SigV4.normalizePath("/../..") == "/")
        #expect(SigV4.normalizePath("/a//b") == "/a/b")
        // Non-S3 services encode the wire path again; S3 keeps it.
        #expect(SigV4.canonicalURI("/a%20b", s3: false) == "/a%2520b")
        #expect(SigV4.canonicalURI("/a%20b//c/../", s3: true) == "/a%20b//c/../")
    }

    @Test func repeatedHeadersJoinInOrder() {
        let (canonical, signed) = SigV4.canonicalHeaders([("X-B", "2"), ("x-a", " one "), ("X-A", "two\t  three")])
        #expect(canonical == "x-a:one,two three\nx-b:2\n")
        #expect(signed == "x-a;x-b")
    }

    @Test func credentialsNeverPrintSecrets() {
        let c = AWSCredentials(accessKeyID: "AKID", secretAccessKey: "SECRET", sessionToken: "TOKEN")
        #expect(!"\(c)".contains("SECRET") && !"\(c)".contains("TOKEN"))
    }
}

/// The S3 examples in AWS's "Signature Calculations for the Authorization Header" and
/// "Authenticating Requests: Using Query Parameters" documentation.
@Suite struct S3DocumentationExamples {
    static let credentials = AWSCredentials(accessKeyID: "AKIAIOSFODNN7EXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let now: Int64 = 1_369_353_600  // 20130524T000000Z
    let signer = SigV4Signer(service: "s3", region: "us-east-1")

    @Test func getObjectWithRange() {
        let r = SigV4Request(
            method: "GET",
            path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com"), ("Range", "bytes=0-9")],
            payloadHash: SigV4.emptyPayloadHash
        )
        let auth = signer.sign(r, credentials: Self.credentials, now: Self.now).headers.first { $0.name == "Authorization" }!.value
        #expect(
            auth
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
    }

    @Test func presignedGet() {
        let r = SigV4Request(
            method: "GET",
            path: "/test.txt",
            headers: [("Host", "examplebucket.s3.amazonaws.com")],
            payloadHash: SigV4.unsignedPayload
        )
        let query = signer.presignedQuery(r, credentials: Self.credentials, now: Self.now, expires: 86400)
        #expect(
            query
                == "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"
        )
    }
}
