import TFRegAWS
import TFRegCore
import Testing

@testable import TFRegStoreAWS

/// The DynamoDB item codecs of `DynamoDBMetadataStore` (the replaced tool's table layout), without AWS.
@Suite struct ItemCodecTests {
    let module = try! ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
    let digest = String(repeating: "ab", count: 32)

    @Test func versionRecordsRoundTripThroughItems() throws {
        let plain = ModuleVersionRecord(
            module: module,
            version: try Version("1.2.3"),
            location: ArchiveLocation(key: "sha256/ab/\(digest).tar.gz"),
            sha256: digest,
            size: 42,
            publishedAt: 1_700_000_000
        )
        var full = plain
        full.location = ArchiveLocation(bucket: "modules", key: "acme/vpc/aws/1.2.3.tar.gz")
        full.publishedBy = "token:ci#1"
        full.deprecation = Deprecation(reason: "old", replacement: "2.0.0", at: 1_700_000_100, by: "token:admin#2")
        for r in [plain, full] {
            let item = DynamoDBMetadataStore.item(r)
            #expect(DynamoDBMetadataStore.record(item) == r)
            #expect(item["pk"] == .s("acme") && item["sk"] == .s("Module~acme~vpc~aws~1.2.3"))
            // The seed tool's base64 checksum is written beside the hex digest.
            #expect(item["expected_checksum"]?.string?.hasSuffix("=") == true)
        }
    }

    @Test func seedToolItemsWithOnlyABase64ChecksumReadAsHex() throws {
        let item: DynamoDBItem = [
            "namespace": .s("acme"), "name": .s("vpc"), "system": .s("aws"), "version": .s("1.0.0"), "key": .s("k.tar.gz"),
            "expected_checksum": .s("q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s="),
        ]
        let r = try #require(DynamoDBMetadataStore.record(item))
        #expect(r.sha256 == digest && r.size == 0 && r.location.bucket == nil)
        var broken = item
        broken["version"] = .s("not-a-version")
        #expect(DynamoDBMetadataStore.record(broken) == nil)
    }

    @Test func grantsRoundTripAndSeedFlagsAreRead() throws {
        let g = Grant(
            namespace: try Namespace("acme"),
            identity: try Identity("arn:aws:iam::123456789012:role/ci"),
            permissions: Permissions(download: true, upload: false, createGrant: true, deleteGrant: false)
        )
        let item = DynamoDBMetadataStore.item(g)
        #expect(item["sk"] == .s("IAMBearerAuth~arn:aws:iam::123456789012:role/ci"))
        #expect(DynamoDBMetadataStore.grant(item) == g)
        var seed = item
        seed["permissions"] = .m(["download": .n("1"), "upload": .s("TRUE"), "create_grant": .n("0")])
        #expect(DynamoDBMetadataStore.grant(seed)?.permissions == Permissions(download: true, upload: true))
        seed["identifier"] = .s("not an identity")
        #expect(DynamoDBMetadataStore.grant(seed) == nil)
    }
}
