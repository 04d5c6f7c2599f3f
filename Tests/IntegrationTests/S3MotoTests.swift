import Foundation
import TFRegAWS
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegStoreAWS
import Testing

extension MotoBackedTests {
    @Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
    struct S3MotoTests {
        @Test func putWithChecksumAttributesAndPresignedGet() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let s3 = S3Client(client: moto.client())
            try await s3.createBucket("modules")
            let body = Array("not really a tarball, but bytes with a digest".utf8)
            // A space must survive encoding and signing. ('+' is covered by the botocore comparison: moto's
            // server rejects it in keys even from boto3.)
            let key = "acme/vpc aws/1.0.0-rc.1/module.tar.gz"
            try await s3.putObject(bucket: "modules", key: key, body: body)

            #expect(try await s3.headObject(bucket: "modules", key: key) == Int64(body.count))
            #expect(try await s3.headObject(bucket: "modules", key: "missing.tar.gz") == nil)
            let attributes = try #require(try await s3.objectAttributes(bucket: "modules", key: key))
            #expect(attributes.checksumSHA256 == Base64.encode(SHA256.hash(body)))
            #expect(try await s3.objectAttributes(bucket: "modules", key: "missing.tar.gz") == nil)

            // moto's server cannot check query-string (presigned) signatures while header signatures are
            // enforced (it answers 500 for boto3's presigned URLs too), so the presigned form is verified
            // against AWS's documented example and botocore in TFRegAWSTests; here only its shape.
            let url = try await s3.presignedURL(bucket: "modules", key: key, expires: 300)
            #expect(url.hasPrefix(moto.endpoint + "/modules/acme/vpc%20aws/1.0.0-rc.1/module.tar.gz?X-Amz-Algorithm=AWS4-HMAC-SHA256&"))
            #expect(url.contains("&X-Amz-Expires=300&") && url.contains("&X-Amz-SignedHeaders=host&X-Amz-Signature="))
        }

        /// The registry may not read a user's bucket: `create` answers 403 naming the permissions it needs
        /// (moto enforces the IAM policy: this user may only touch the bucket "open").
        @Test func deniedReadOfABroughtObjectIsForbidden() async throws {
            let moto = try MotoServer()
            defer { moto.stop() }
            let admin = S3Client(client: moto.client())
            try await admin.createBucket("secret")
            try await admin.putObject(bucket: "secret", key: "m.tar.gz", body: Array("x".utf8))
            let r = try runCommand(
                which("python3")!,
                [
                    "-c",
                    """
                    import boto3, json
                    iam = boto3.client("iam", endpoint_url="\(moto.endpoint)", region_name="us-east-1",
                                       aws_access_key_id="\(moto.accessKeyID)", aws_secret_access_key="\(moto.secretAccessKey)")
                    iam.create_user(UserName="limited")
                    k = iam.create_access_key(UserName="limited")["AccessKey"]
                    iam.put_user_policy(UserName="limited", PolicyName="open-only", PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                        {"Effect": "Allow", "Action": "s3:*", "Resource": ["arn:aws:s3:::open", "arn:aws:s3:::open/*"]}]}))
                    print(k["AccessKeyId"]); print(k["SecretAccessKey"])
                    """,
                ],
                env: ["HOME": NSTemporaryDirectory()]
            )
            let keys = r.stdout.split(separator: "\n").map(String.init)
            #expect(r.status == 0 && keys.count == 2, "\(r.stderr)")
            let limited = AWSClient(
                http: CurlHTTPClient(),
                credentials: StaticCredentialProvider(AWSCredentials(accessKeyID: keys[0], secretAccessKey: keys[1])),
                region: "us-east-1",
                environment: ["AWS_ENDPOINT_URL": moto.endpoint],
                timeout: 60
            )
            let storage = try S3ArchiveStorage(s3: S3Client(client: limited), bucket: "open", prefix: "", stagingDirectory: NSTemporaryDirectory())
            let e = await #expect(throws: RegistryError.forbidden("")) {
                try await storage.head(ArchiveLocation(bucket: "secret", key: "m.tar.gz"))
            }
            #expect(e?.message.contains("s3:GetObjectAttributes") == true && e?.message.contains("s3://secret/m.tar.gz") == true)
        }
    }
}
