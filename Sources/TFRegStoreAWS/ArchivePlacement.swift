import TFRegAWS
import TFRegCore

/// Where the archives of a table's versions live, as far as one bounded look saw
/// (`DynamoDBMetadataStore.archivePlacement()`): the users' buckets that versions the replaced tool
/// registered point at, and how many versions use the registry's own storage (no `bucket`, which
/// records no bucket name: that is `--storage`/`TFREG_STORAGE`, or a local data directory).
public struct ArchivePlacement: Sendable, Equatable {
    /// The users' buckets seen, sorted, at most `maximumBucketsNamed` of them (names that are not
    /// valid S3 bucket names are not repeated: they are counted in `versionsInUserBuckets`).
    public var userBuckets: [String]
    /// Versions seen whose archive is an object in a user's bucket.
    public var versionsInUserBuckets: Int
    /// Versions seen whose archive is in the registry's own storage.
    public var versionsInOwnStorage: Int
    /// False when the table holds more than the one page that was read.
    public var complete: Bool

    public static let maximumBucketsNamed = 5

    public init(userBuckets: [String], versionsInUserBuckets: Int, versionsInOwnStorage: Int, complete: Bool) {
        self.userBuckets = userBuckets
        self.versionsInUserBuckets = versionsInUserBuckets
        self.versionsInOwnStorage = versionsInOwnStorage
        self.complete = complete
    }

    /// The placement of these version items' archives (`bucket` attribute: absent or empty is the
    /// registry's own storage, as `DynamoDBMetadataStore.record` reads it).
    public init(versionItems items: [DynamoDBItem], complete: Bool) {
        var buckets = Set<String>()
        var user = 0
        for item in items {
            guard let bucket = item["bucket"]?.string, !bucket.isEmpty else { continue }
            user += 1
            // Only a name that follows S3's bucket naming rules is echoed in a message.
            if (try? ArchiveLocation.external(bucket: bucket, key: "probe.tar.gz")) != nil { buckets.insert(bucket) }
        }
        self.init(
            userBuckets: Array(buckets.sorted().prefix(Self.maximumBucketsNamed)),
            versionsInUserBuckets: user,
            versionsInOwnStorage: items.count - user,
            complete: complete
        )
    }

    /// What was read, for a log line or `--check-config`.
    public var summary: String {
        let seen = versionsInUserBuckets + versionsInOwnStorage
        let scope = complete ? "all \(seen) version(s)" : "the first \(seen) version(s) (one page of the table)"
        let users =
            versionsInUserBuckets == 0
            ? "none in users' buckets" : "\(versionsInUserBuckets) in users' buckets (\(userBuckets.map { "s3://" + $0 }.joined(separator: ", ")))"
        return "\(scope): \(versionsInOwnStorage) in the registry's own storage, \(users)"
    }
}
