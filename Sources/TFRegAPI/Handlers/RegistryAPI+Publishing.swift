import Logging
import TFRegCore
import TFRegCrypto
import TFRegJSON

extension RegistryAPI {
    /// `POST`/`PUT …/VERSION/upload`: the archive as the body, streamed to a staged file, then published.
    /// Optional query parameters `description` and `source` (`tfreg publish --description --source`),
    /// checked before the body is read.
    func upload(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        caller: Principal,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        // Authorize before reading a byte of the body.
        _ = try await service.authorizeUpload(module, caller: caller)
        if let length = req.header("content-length") {
            guard let n = Int64(length), n >= 0 else { throw .badRequest("invalid Content-Length") }
            guard n <= configuration.maxUploadBytes else {
                throw RegistryError(.payloadTooLarge, "the archive is larger than the limit of \(configuration.maxUploadBytes) bytes")
            }
        }
        if let type = req.header("content-type")?.lowercased(),
            !["application/gzip", "application/x-gzip", "application/octet-stream", "application/x-tar", "application/x-compressed-tar"]
                .contains(where: { type.hasPrefix($0) })
        {
            throw RegistryError(.unsupportedMediaType, "send the archive as application/gzip (a .tar.gz)")
        }
        let details = try publishDetails(req)
        let staged = try await ArchiveStager.stage(req.body, into: service.storage.stagingDirectory, limit: configuration.maxUploadBytes)
        let record = try await service.publish(staged, version: version, of: module, caller: caller, details: details, logger: logger)
        return .json(201, ModuleJSON.published(record).serialized(), headers: [("Location", ModuleRoute.version(module, version: version).path)])
    }

    /// `?description=…&source=…` of an upload, each at most once, validated.
    func publishDetails(_ req: APIRequest) throws(RegistryError) -> PublishDetails {
        guard let items = URLParsing.queryItems(req.query) else { throw .badRequest("malformed query string") }
        var details = PublishDetails()
        for item in items {
            switch item.name {
            case "description":
                guard details.description == nil else { throw .badRequest("parameter 'description' given more than once") }
                details.description = item.value
            case "source":
                guard details.source == nil else { throw .badRequest("parameter 'source' given more than once") }
                details.source = item.value
            default:
                continue
            }
        }
        return try details.validated()
    }

    /// `create`: registers an archive the caller already put in S3 (the replaced tool's route and body:
    /// `{"bucket", "key", "expected_checksum"}`, the checksum as S3 reports it, base64, or as hex).
    func create(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        caller: Principal,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        _ = try await service.authorizeUpload(module, caller: caller)
        let (location, expected, json) = try await objectReference(req, optional: ["description", "source"])
        var details = PublishDetails()
        for name in ["description", "source"] {
            guard let value = json[name] else { continue }
            guard let text = value.stringValue else { throw .badRequest("\(name) must be a string") }
            if name == "description" { details.description = text } else { details.source = text }
        }
        let record = try await service.register(
            existing: location,
            expectedSHA256: expected,
            maximumBytes: configuration.maxUploadBytes,
            version: version,
            of: module,
            caller: caller,
            details: details,
            logger: logger
        )
        return .json(201, ModuleJSON.published(record).serialized(), headers: [("Location", ModuleRoute.version(module, version: version).path)])
    }

    /// The body of a `create`, modules and providers alike: `{"bucket", "key", "expected_checksum"}`
    /// (the replaced tool's names) naming the caller's S3 object and its SHA-256 — base64 as S3
    /// reports it, or 64 hex digits — plus the `optional` members the route allows; at most 16 KiB.
    /// `servedAsArchive`: the object is a module archive Terraform may download where it is.
    func objectReference(
        _ req: APIRequest,
        optional: [String] = [],
        servedAsArchive: Bool = true
    ) async throws(RegistryError) -> (location: ArchiveLocation, sha256: String, json: JSONValue) {
        let json = try await jsonObjectBody(
            req,
            limit: 16 * 1024,
            allowed: ["bucket", "key", "expected_checksum"] + optional,
            notAnObject: "the body must be a JSON object with bucket, key and expected_checksum",
            unknownHint: "expected bucket, key and expected_checksum"
        )
        guard let bucket = json["bucket"]?.stringValue, let key = json["key"]?.stringValue, let checksum = json["expected_checksum"]?.stringValue
        else {
            throw .badRequest("bucket, key and expected_checksum are required strings")
        }
        let expected: String
        if checksum.utf8.count == 64, let d = Hex.decode(checksum.lowercased()), d.count == 32 {
            expected = Hex.encode(d)
        } else if let d = Base64.decode(checksum), d.count == 32 {
            expected = Hex.encode(d)
        } else {
            throw .badRequest("expected_checksum must be a SHA-256 digest: base64 (as S3 reports it) or 64 hex digits")
        }
        return (try ArchiveLocation.external(bucket: bucket, key: key, servedAsArchive: servedAsArchive), expected, json)
    }

    /// A deprecation's body, modules and providers alike: `{"reason": "…", "replacement": "…"}`, the
    /// reason required (it may be empty), at most 16 KiB.
    func deprecationBody(_ req: APIRequest) async throws(RegistryError) -> (reason: String, replacement: String?) {
        let json = try await jsonObjectBody(
            req,
            limit: 16 * 1024,
            allowed: ["reason", "replacement"],
            notAnObject: "the body must be a JSON object with reason and optional replacement",
            unknownHint: "expected reason and replacement"
        )
        guard let reason = json["reason"]?.stringValue else { throw .badRequest("reason is a required string (it may be empty)") }
        guard let value = json["replacement"] else { return (reason, nil) }
        guard let replacement = value.stringValue else { throw .badRequest("replacement must be a string") }
        return (reason, replacement)
    }

    /// `POST …/VERSION/deprecate` `{"reason": "…", "replacement": "…"}` marks a version deprecated;
    /// `DELETE …/VERSION/deprecate` (`clear`) removes the mark. Needs `upload`; authorized before the
    /// body is read.
    func deprecate(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        clear: Bool,
        caller: Principal,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .upload, in: module.namespace)
        var reason: String?
        var replacement: String?
        if !clear { (reason, replacement) = try await deprecationBody(req) }
        let record = try await service.deprecate(version, of: module, reason: reason, replacement: replacement, caller: caller, logger: logger)
        return .json(200, ModuleJSON.published(record).serialized())
    }
}
