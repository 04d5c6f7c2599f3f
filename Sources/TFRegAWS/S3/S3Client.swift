import Glibc
import TFRegCrypto
import TFRegHTTPClient
import TFRegSystem

/// What GetObjectAttributes reports.
public struct S3ObjectAttributes: Sendable, Equatable {
    /// Base64 SHA-256 the object was stored with (nil when it was uploaded without a checksum).
    public let checksumSHA256: String?
    public let size: Int64?
}

/// S3: exactly the calls tfreg makes. Virtual-hosted addressing on AWS, path-style on a configured
/// endpoint (`AWS_ENDPOINT_URL_S3`, as local S3 implementations expect). Keys are encoded once on the
/// wire and signed as sent (S3's SigV4 rules).
public struct S3Client: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// Endpoint and wire path for an object.
    func location(bucket: String, key: String) -> (AWSEndpoint, String) {
        let base = client.endpoint(for: "s3")
        let encodedKey = SigV4.uriEncode(key, keepSlash: true)
        if base.isCustom { return (base, "/\(bucket)/\(encodedKey)") }
        let host = "\(bucket).s3.\(client.region).\(AWSEndpoint.dnsSuffix(region: client.region))"
        return (AWSEndpoint(baseURL: "https://\(host)", isCustom: false), "/\(encodedKey)")
    }

    public func createBucket(_ bucket: String) async throws(AWSError) {
        let base = client.endpoint(for: "s3")
        let (ep, path) =
            base.isCustom
            ? (base, "/\(bucket)")
            : (AWSEndpoint(baseURL: "https://\(bucket).s3.\(client.region).\(AWSEndpoint.dnsSuffix(region: client.region))", isCustom: false), "/")
        var body: [UInt8] = []
        if client.region != "us-east-1" {
            body = Array(
                "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>\(client.region)</LocationConstraint></CreateBucketConfiguration>"
                    .utf8
            )
        }
        _ = try await client.send(service: "s3", endpoint: ep, method: "PUT", path: path, body: body)
    }

    /// HeadBucket (https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html): true when the
    /// bucket exists and these credentials may use it, false when there is no such bucket; a refusal
    /// (403) is thrown.
    public func bucketExists(_ bucket: String) async throws(AWSError) -> Bool {
        let base = client.endpoint(for: "s3")
        let (ep, path) =
            base.isCustom
            ? (base, "/\(bucket)")
            : (AWSEndpoint(baseURL: "https://\(bucket).s3.\(client.region).\(AWSEndpoint.dnsSuffix(region: client.region))", isCustom: false), "/")
        do {
            _ = try await client.send(service: "s3", endpoint: ep, method: "HEAD", path: path)
            return true
        } catch {
            if error.kind == .notFound || error.status == 404 { return false }
            throw error
        }
    }

    /// PutObject with `x-amz-checksum-sha256`, so S3 verifies the bytes and records the digest.
    ///
    /// `onlyIfAbsent` sends `If-None-Match: *` (S3 conditional writes,
    /// https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html): S3 then never
    /// replaces an existing object and answers 412 `PreconditionFailed` (`AWSError.Kind.conditionalCheckFailed`)
    /// when the key exists, or 409 `ConditionalRequestConflict` while another conditional write to it is
    /// in flight. A retried attempt whose first try did land also sees 412: callers compare checksums.
    public func putObject(
        bucket: String,
        key: String,
        body: [UInt8],
        contentType: String = "application/gzip",
        onlyIfAbsent: Bool = false
    ) async throws(AWSError) {
        let (ep, path) = location(bucket: bucket, key: key)
        var headers: [(name: String, value: String)] = [
            ("Content-Type", contentType), ("x-amz-checksum-sha256", Base64.encode(SHA256.hash(body))), ("x-amz-sdk-checksum-algorithm", "SHA256"),
        ]
        if onlyIfAbsent { headers.append(("If-None-Match", "*")) }
        _ = try await client.send(service: "s3", endpoint: ep, method: "PUT", path: path, headers: headers, body: body)
    }

    /// PutObject of a file, streamed from disk (never held in memory), with `x-amz-checksum-sha256`
    /// from `sha256` (the file's digest, computed by the caller as it wrote or read the file), so S3
    /// verifies the bytes and records the digest. One PUT: S3 takes at most 5 GB.
    public func putObject(bucket: String, key: String, file: AWSFileBody, contentType: String) async throws(AWSError) {
        let (ep, path) = location(bucket: bucket, key: key)
        let headers: [(name: String, value: String)] = [
            ("Content-Type", contentType), ("x-amz-checksum-sha256", Base64.encode(file.sha256)), ("x-amz-sdk-checksum-algorithm", "SHA256"),
        ]
        _ = try await client.send(service: "s3", endpoint: ep, method: "PUT", path: path, headers: headers, bodyFile: file)
    }

    /// DeleteObject (S3 answers 204 whether or not the object existed).
    public func deleteObject(bucket: String, key: String) async throws(AWSError) {
        let (ep, path) = location(bucket: bucket, key: key)
        _ = try await client.send(service: "s3", endpoint: ep, method: "DELETE", path: path)
    }

    /// HeadObject: the size, or nil when there is no such object.
    public func headObject(bucket: String, key: String) async throws(AWSError) -> Int64? {
        let (ep, path) = location(bucket: bucket, key: key)
        do {
            let r = try await client.send(service: "s3", endpoint: ep, method: "HEAD", path: path)
            return r.header("content-length").flatMap { Int64($0) }
        } catch {
            if error.kind == .notFound || error.status == 404 { return nil }
            throw error
        }
    }

    /// GetObjectAttributes for `Checksum` and `ObjectSize`; nil when the object does not exist.
    public func objectAttributes(bucket: String, key: String) async throws(AWSError) -> S3ObjectAttributes? {
        try await objectAttributesAndVersion(bucket: bucket, key: key)?.0
    }

    /// A presigned URL for `method` (GET for downloads), valid `expires` seconds. The key's path ends
    /// in the object's own extension, which is how Terraform picks the archive type.
    public func presignedURL(method: String = "GET", bucket: String, key: String, expires: Int) async throws(AWSError) -> String {
        let (ep, path) = location(bucket: bucket, key: key)
        let creds = try await client.credentialProvider.credentials()
        let signer = SigV4Signer(service: "s3", region: client.region)
        let request = SigV4Request(method: method, path: path, headers: [("Host", ep.host)], payloadHash: SigV4.unsignedPayload)
        return ep.baseURL + path + "?" + signer.presignedQuery(request, credentials: creds, now: SystemClock().now(), expires: expires)
    }

    /// PutObject that never replaces an object (`If-None-Match: *`, S3 conditional writes): false
    /// when an object already exists under `key` (412), which is then left untouched.
    public func putObjectIfAbsent(bucket: String, key: String, body: [UInt8], contentType: String = "application/gzip") async throws(AWSError) -> Bool
    {
        let (ep, path) = location(bucket: bucket, key: key)
        do {
            _ = try await client.send(
                service: "s3",
                endpoint: ep,
                method: "PUT",
                path: path,
                headers: [
                    ("Content-Type", contentType), ("If-None-Match", "*"),
                    ("x-amz-checksum-sha256", Base64.encode(SHA256.hash(body))), ("x-amz-sdk-checksum-algorithm", "SHA256"),
                ],
                body: body
            )
            return true
        } catch {
            if error.status == 412 || error.code == "PreconditionFailed" { return false }
            throw error
        }
    }

    /// GetObject of a whole object streamed into the file at `path` (created; never whole in memory),
    /// refused (an error, status 413) when it is larger than `limit` bytes; nil when there is no such
    /// object. Returns its size.
    public func getObject(bucket: String, key: String, limit: Int64, toFile path: String) async throws(AWSError) -> Int64? {
        guard try await getWhole(bucket: bucket, key: key, limit: limit, toFile: path) != nil else { return nil }
        var st = stat()
        guard lstat(path, &st) == 0 else { throw AWSError(kind: .network, code: "ResponseFile", message: "no response file", status: 0) }
        guard Int64(st.st_size) <= limit else { throw Self.tooLarge(limit) }
        return Int64(st.st_size)
    }

    /// GetObject of a whole object, refused (nil) when it is larger than `limit` bytes; nil when
    /// there is no such object. Returns the bytes and the version id S3 reports (versioned buckets).
    public func getObject(bucket: String, key: String, limit: Int64) async throws(AWSError) -> (body: [UInt8], versionId: String?)? {
        guard let r = try await getWhole(bucket: bucket, key: key, limit: limit, toFile: nil) else { return nil }
        guard Int64(r.body.count) <= limit else { throw Self.tooLarge(limit) }
        return (r.body, r.header("x-amz-version-id"))
    }

    static func tooLarge(_ limit: Int64) -> AWSError {
        AWSError(kind: .validation, code: "EntityTooLarge", message: "the object is larger than \(limit) bytes", status: 413)
    }

    /// Both GetObjects: a HEAD (nil when there is no such object, 413 when it is larger than `limit`),
    /// then a GET of the same object version (If-Match on its ETag) for never more than `limit` + 1
    /// bytes (Range), so an object swapped for a huge one in between fills neither memory nor disk;
    /// the body in the response, or in the file at `path`.
    private func getWhole(bucket: String, key: String, limit: Int64, toFile path: String?) async throws(AWSError) -> HTTPResponse? {
        let (ep, urlPath) = location(bucket: bucket, key: key)
        do throws(AWSError) {
            let head: HTTPResponse
            do { head = try await client.send(service: "s3", endpoint: ep, method: "HEAD", path: urlPath) } catch {
                if error.kind == .notFound || error.status == 404 { return nil }
                throw error
            }
            guard let size = head.header("content-length").flatMap({ Int64($0) }), size <= limit else { throw Self.tooLarge(limit) }
            var headers: [(name: String, value: String)] = [("Range", "bytes=0-\(limit)")]
            if let etag = head.header("etag") { headers.append(("If-Match", etag)) }
            return try await client.send(service: "s3", endpoint: ep, method: "GET", path: urlPath, headers: headers, responseFile: path)
        } catch {
            if error.kind == .notFound || error.status == 404 { return nil }
            throw error
        }
    }

    /// GetObjectAttributes plus the object's current version id (nil on unversioned buckets).
    public func objectAttributesAndVersion(bucket: String, key: String) async throws(AWSError) -> (S3ObjectAttributes, versionId: String?)? {
        let (ep, path) = location(bucket: bucket, key: key)
        do {
            let r = try await client.send(
                service: "s3",
                endpoint: ep,
                method: "GET",
                path: path,
                query: [("attributes", "")],
                headers: [("x-amz-object-attributes", "Checksum,ObjectSize")]
            )
            let text = r.bodyText
            let attributes = S3ObjectAttributes(
                checksumSHA256: XMLText.first("ChecksumSHA256", in: text),
                size: XMLText.first("ObjectSize", in: text).flatMap { Int64($0) }
            )
            // "null" is the version of an object written before versioning (or while suspended): pinned too.
            return (attributes, r.header("x-amz-version-id"))
        } catch {
            if error.kind == .notFound || error.status == 404 { return nil }
            throw error
        }
    }

    /// A presigned GET of one object version: the URL can only ever return those bytes.
    public func presignedURL(bucket: String, key: String, versionId: String, expires: Int) async throws(AWSError) -> String {
        let (ep, path) = location(bucket: bucket, key: key)
        let creds = try await client.credentialProvider.credentials()
        let signer = SigV4Signer(service: "s3", region: client.region)
        let request = SigV4Request(
            method: "GET",
            path: path,
            query: [("versionId", versionId)],
            headers: [("Host", ep.host)],
            payloadHash: SigV4.unsignedPayload
        )
        return ep.baseURL + path + "?" + signer.presignedQuery(request, credentials: creds, now: SystemClock().now(), expires: expires)
    }
}
