import TFRegAWS
import Testing

@testable import TFRegStoreAWS

/// `ArchivePlacement` from the version items one Scan page returned (`sk` and `bucket` only).
@Suite struct ArchivePlacementTests {
    @Test func countsUsersBucketsAndOwnArchivesAndEchoesOnlyValidBucketNames() {
        let items: [DynamoDBItem] = [
            ["sk": .s("Module~acme~vpc~aws~1.0.0"), "bucket": .s("byob")],
            ["sk": .s("Module~acme~vpc~aws~1.1.0"), "bucket": .s("byob")],
            ["sk": .s("Module~acme~db~aws~2.0.0"), "bucket": .s("other-bucket")],
            // An empty bucket is the registry's own storage, as the record codec reads it.
            ["sk": .s("Module~acme~db~aws~2.1.0"), "bucket": .s("")],
            ["sk": .s("Module~acme~db~aws~2.2.0")],
            // Written by someone else: counted, never echoed into a message.
            ["sk": .s("Module~acme~x~aws~0.1.0"), "bucket": .s("Bad\u{1b}[31mName")],
        ]
        let p = ArchivePlacement(versionItems: items, complete: false)
        #expect(p.userBuckets == ["byob", "other-bucket"])
        #expect(p.versionsInUserBuckets == 4 && p.versionsInOwnStorage == 2 && !p.complete)
        #expect(
            p.summary
                == "the first 6 version(s) (one page of the table): 2 in the registry's own storage, 4 in users' buckets (s3://byob, s3://other-bucket)"
        )
    }

    @Test func namesAtMostFiveBuckets() {
        let items: [DynamoDBItem] = (0..<8).map { ["sk": .s("Module~a~b~c~1.0.\($0)"), "bucket": .s("bucket-\($0)")] }
        let p = ArchivePlacement(versionItems: items, complete: true)
        #expect(p.userBuckets.count == ArchivePlacement.maximumBucketsNamed && p.versionsInUserBuckets == 8)
        #expect(p.summary.hasPrefix("all 8 version(s): 0 in the registry's own storage, 8 in users' buckets (s3://bucket-0,"))
    }
}
