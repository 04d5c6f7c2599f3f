import Logging
import TFRegArchive
import TFRegCore
import TFRegJSON
import TFRegSystem

extension RegistryAPI {
    /// `/v1/providers/…`, after authentication: parameters against their grammar (400), then the
    /// service authorizes (403) before any body or state is looked at.
    func providers(_ route: ProviderRoute, _ req: APIRequest, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        switch route {
        case .versions(let p):
            let provider = try p.address()
            let records = try await service.providerVersions(of: provider, caller: caller)
            return .json(200, ProviderJSON.versions(provider, records).serialized())
        case .download(let p, let v, let os, let arch):
            let (provider, version, platform) = (try p.address(), try Version(v), try ProviderPlatform(os: os, arch: arch))
            return try await providerDownload(req, provider, version: version, platform: platform, caller: caller)
        case .upload(let p, let v):
            let (provider, version) = (try p.address(), try Version(v))
            return try await providerUpload(req, provider, version: version, caller: caller, logger: Self.withRequestID(logger, req))
        case .create(let p, let v):
            let (provider, version) = (try p.address(), try Version(v))
            return try await providerCreate(req, provider, version: version, caller: caller, logger: Self.withRequestID(logger, req))
        case .deleteVersion(let p, let v):
            let (provider, version) = (try p.address(), try Version(v))
            try await service.deleteProviderVersion(version, of: provider, caller: caller, logger: Self.withRequestID(logger, req))
            return APIResponse(status: 204)
        case .deprecate(let p, let v), .undeprecate(let p, let v):
            let (provider, version) = (try p.address(), try Version(v))
            try await service.authorize(caller, .upload, in: provider.namespace)
            var reason: String?
            var replacement: String?
            if case .deprecate = route { (reason, replacement) = try await deprecationBody(req) }
            let record = try await service.deprecateProvider(
                version,
                of: provider,
                reason: reason,
                replacement: replacement,
                caller: caller,
                logger: Self.withRequestID(logger, req)
            )
            return .json(200, ProviderJSON.published(record).serialized())
        case .keys(let ns):
            let keys = try await service.signingKeys(in: try ProviderAddress.namespace(ns), caller: caller)
            return .json(200, ProviderJSON.keys(keys).serialized())
        case .addKey(let ns):
            let namespace = try ProviderAddress.namespace(ns)
            try await service.authorize(caller, .createGrant, in: namespace)
            let armored = try await req.body.collect(limit: Self.maximumKeyBytes)
            let key = try await service.addSigningKey(armored: armored, in: namespace, caller: caller, logger: Self.withRequestID(logger, req))
            return .json(201, ProviderJSON.key(key).serialized())
        case .removeKey(let ns, let fingerprint):
            let namespace = try ProviderAddress.namespace(ns)
            try await service.removeSigningKey(fingerprint: fingerprint, in: namespace, caller: caller, logger: Self.withRequestID(logger, req))
            return APIResponse(status: 204)
        }
    }

    /// An ASCII-armored public key (RSA 4096 with a few signatures is under 8 KiB).
    static let maximumKeyBytes = 64 * 1024

    /// "Find a Provider Package": the platform's package and the registry's signed links for its zip,
    /// the release's `SHA256SUMS` and signature, which Terraform fetches without credentials. Always the
    /// registry's links, whatever the storage: Terraform 1.11 sends HEAD before GET, which an S3 URL
    /// presigned for GET refuses; the link answers HEAD itself and redirects GET to the storage
    /// (`providerFile`). 404 for a platform the version has no package for.
    func providerDownload(
        _ req: APIRequest,
        _ provider: ProviderAddress,
        version: Version,
        platform: ProviderPlatform,
        caller: Principal
    ) async throws(RegistryError) -> APIResponse {
        let (record, package, keys) = try await service.providerDownload(version, of: provider, platform: platform, caller: caller)
        let base = try baseURL(req)
        let sumsName = "terraform-provider-\(provider.type)_\(version)_SHA256SUMS"
        func link(_ blob: ProviderBlob, _ file: String) -> String {
            providerFileLink(blob, file: file, provider, version: version, base: base)
        }
        let links = ProviderJSON.Links(
            zip: link(package.zip, package.filename),
            shasums: link(record.shasums, sumsName),
            signature: link(record.signature, sumsName + ".sig")
        )
        let json = ProviderJSON.download(record, package: package, keys: keys, links: links, sourceURL: base)
        return .json(200, json.serialized(), headers: [("Cache-Control", "no-store")])
    }

    /// `POST`/`PUT …/VERSION/upload`: the release's files as one uncompressed tar (`ProviderReleaseStager`),
    /// at most `maxProviderUploadBytes`; verified and published by the service (400 naming a bad file).
    func providerUpload(
        _ req: APIRequest,
        _ provider: ProviderAddress,
        version: Version,
        caller: Principal,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        // Authorize before reading a byte of the body; a mirrored provider's origin must also be on the
        // allow-list before its body fills the staging disk (the service checks it again).
        try await service.authorize(caller, .upload, in: service.grantNamespace(of: provider))
        if let origin = provider.origin, !service.mirror.allows(provider) {
            throw .forbidden("\(origin)/\(provider.namespace) is not on this registry's mirror allow-list (--mirror-allow)")
        }
        let limit = configuration.maxProviderUploadBytes
        if let length = req.header("content-length") {
            guard let n = Int64(length), n >= 0 else { throw .badRequest("invalid Content-Length") }
            guard n <= limit else { throw RegistryError(.payloadTooLarge, "the release is larger than the limit of \(limit) bytes") }
        }
        if let type = req.header("content-type")?.lowercased(),
            !["application/x-tar", "application/tar", "application/octet-stream"].contains(where: { type.hasPrefix($0) })
        {
            throw RegistryError(.unsupportedMediaType, "send the release's files as one uncompressed tar (application/x-tar)")
        }
        let upload = try await ProviderReleaseStager.stage(
            req.body,
            provider: provider,
            version: version,
            into: service.storage.stagingDirectory,
            limit: limit
        )
        let record = try await service.publishProvider(upload, caller: caller, inspector: ZipProviderInspector(), logger: logger)
        let location =
            provider.origin == nil
            ? ProviderRoute.versions(of: provider).path : MirrorRoute.index(hostname: provider.origin!, ProviderPath(provider)).path
        return .json(201, ProviderJSON.published(record).serialized(), headers: [("Location", location)])
    }

    /// `POST …/VERSION/create` `{"bucket", "key", "expected_checksum"}`: the release tar the caller put
    /// in S3 (a Lambda request carries at most a few MB; a release is often hundreds), copied from
    /// there with its checksum checked (S3's record and the bytes read), then split, verified and
    /// published exactly as an upload. Needs `upload`, checked before the body is read; only with S3
    /// storage (the registry's own bucket receives the release's files).
    func providerCreate(
        _ req: APIRequest,
        _ provider: ProviderAddress,
        version: Version,
        caller: Principal,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .upload, in: provider.namespace)
        let (location, expected, _) = try await objectReference(req, servedAsArchive: false)
        guard let tar = try await service.importCopy(of: location, expectedSHA256: expected, limit: configuration.maxProviderUploadBytes) else {
            throw .badRequest("this registry has no bucket of its own to copy the release into (set TFREG_STORAGE): publish with the upload endpoint")
        }
        let upload = try await ProviderReleaseStager.stage(tar: tar, provider: provider, version: version, into: service.storage.stagingDirectory)
        let record = try await service.publishProvider(upload, caller: caller, inspector: ZipProviderInspector(), logger: logger)
        return .json(201, ProviderJSON.published(record).serialized(), headers: [("Location", ProviderRoute.versions(of: provider).path)])
    }

    /// `GET`/`HEAD /v1/archives/providers/NS/TYPE/VER/SHA256/FILE?expires=…&signature=…`: a file of a
    /// provider release that a download signed, served only while the version is live and names that
    /// file with that digest. HEAD is answered from the record (no storage read); GET streams a local
    /// file, or redirects (302) to a URL the storage presigns (S3), which then serves the bytes.
    func providerFile(
        _ provider: ProviderAddress,
        version v: String,
        sha256: String,
        file: String,
        _ req: APIRequest,
        headOnly: Bool
    ) async throws(RegistryError) -> APIResponse {
        let version = try Version(v)
        guard Grammar.isSHA256Hex(sha256) else { throw .notFound("no such file") }
        let (expires, signature) = try Self.linkQuery(req)
        let path = ArchiveRoute.providerFile(provider, version: version, sha256: sha256, file: file).path
        try signer.verify(path: path, expires: expires, signature: signature, now: service.clock.now())
        guard let record = try await service.store.providerVersion(version, of: provider) else {
            throw .notFound("no such file (the version was deleted); ask the registry for a new download")
        }
        let sumsName = "terraform-provider-\(provider.type)_\(version)_SHA256SUMS"
        let blob: ProviderBlob
        let type: String
        if let package = record.packages.first(where: { $0.filename == file && $0.zip.sha256 == sha256 }) {
            (blob, type) = (package.zip, "application/zip")
        } else if file == sumsName, record.shasums.sha256 == sha256 {
            (blob, type) = (record.shasums, "text/plain; charset=utf-8")
        } else if file == sumsName + ".sig", record.signature.sha256 == sha256 {
            (blob, type) = (record.signature, "application/pgp-signature")
        } else {
            throw .notFound("no such file")
        }
        let headers: [(name: String, value: String)] = [
            ("Content-Type", type), ("Content-Length", String(blob.size)), ("ETag", "\"\(blob.sha256)\""),
            ("Cache-Control", "private, max-age=300"),
        ]
        if headOnly { return APIResponse(status: 200, headers: headers, body: .empty) }
        switch try await service.storage.delivery(of: blob.location, sha256: blob.sha256, expiresIn: configuration.downloadLinkLifetime) {
        case .url(let url):
            return APIResponse(status: 302, headers: [("Location", url), ("Cache-Control", "no-store")])
        case .servedByRegistry:
            let local = try await service.storage.localFile(for: blob.location)
            return APIResponse(status: 200, headers: headers, body: .file(path: local.path, size: local.size))
        }
    }
}
