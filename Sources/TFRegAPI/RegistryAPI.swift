import Logging
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem

/// Settings of the HTTP API that do not depend on the transport.
public struct APIConfiguration: Sendable {
    /// The registry's external base URL (`https://registry.example.com`), used in download links.
    /// When nil, links are built from the request's scheme and `Host` header.
    public var publicURL: String?
    /// Largest accepted upload body.
    public var maxUploadBytes: Int64
    /// Lifetime of signed archive links and presigned URLs, seconds.
    public var downloadLinkLifetime: Int
    /// tfreg's version, reported in discovery.
    public var version: String
    /// When `GET /token` sits behind an IAM-authorizing front end: the SigV4 service clients sign for
    /// (`execute-api` or `lambda`), advertised in discovery so `tfreg token` needs no flag.
    public var frontEndTokenService: String? = nil
    /// The region clients sign `GET /token` for behind that front end (the function's region): a custom
    /// domain's host name does not say it.
    public var frontEndTokenRegion: String? = nil

    public static let defaultMaxUploadBytes: Int64 = 50 * 1024 * 1024

    public init(publicURL: String? = nil, maxUploadBytes: Int64 = defaultMaxUploadBytes, downloadLinkLifetime: Int = 300, version: String) {
        self.publicURL = publicURL.map { $0.hasSuffix("/") ? String($0.dropLast()) : $0 }
        self.maxUploadBytes = maxUploadBytes
        self.downloadLinkLifetime = downloadLinkLifetime
        self.version = version
    }
}

/// The registry's HTTP API as a function from request to response, shared by every transport.
/// It never throws: every failure becomes `{"errors": [...]}` with a 4xx/5xx status here.
public struct RegistryAPI: Sendable {
    public let service: RegistryService
    public let authenticator: any Authenticator
    public let signer: ArchiveURLSigner
    public let configuration: APIConfiguration
    /// IAM authentication (`POST /token`), when configured.
    public let tokenIssuer: TokenIssuer?
    /// IAM tokens without a configured audience (a Lambda function set up as the replaced tool was):
    /// `GET /token` behind an IAM-authorizing front end seals for the domain the front end reports, and
    /// `tfi_` tokens are checked against the domain of the request they arrive on. Used only when
    /// `tokenIssuer` is nil; `POST /token` is then refused (it needs `TFREG_AUDIENCE`).
    public let frontEndTokens: FrontEndAudienceTokens?

    public init(
        service: RegistryService,
        authenticator: any Authenticator,
        signer: ArchiveURLSigner,
        configuration: APIConfiguration,
        tokenIssuer: TokenIssuer? = nil,
        frontEndTokens: FrontEndAudienceTokens? = nil
    ) {
        self.service = service
        self.authenticator = authenticator
        self.signer = signer
        self.configuration = configuration
        self.tokenIssuer = tokenIssuer
        self.frontEndTokens = tokenIssuer == nil ? frontEndTokens : nil
    }

    public func respond(to request: APIRequest, logger: Logger) async -> APIResponse {
        do {
            return try await route(request, logger: logger)
        } catch {
            switch error.code {
            case .internalError, .unavailable, .upstreamMismatch, .misconfigured:
                logger.error(
                    "request failed",
                    metadata: ["request_id": "\(request.requestID)", "method": "\(request.method)", "path": "\(request.path)", "error": "\(error)"]
                )
            default:
                logger.debug(
                    "request rejected",
                    metadata: ["request_id": "\(request.requestID)", "status": "\(error.code.httpStatus)", "error": "\(error.message)"]
                )
            }
            return .error(error)
        }
    }

    // MARK: Routing

    /// Dispatches in the order documented on `Endpoint`: shape, method, authentication, parameters,
    /// then the handler (authorization, body, state).
    private func route(_ req: APIRequest, logger: Logger) async throws(RegistryError) -> APIResponse {
        guard let seg = URLParsing.segments(of: req.path) else {
            throw .badRequest("malformed request path")
        }
        guard let endpoint = Endpoint.parse(seg) else { throw .notFound("no such endpoint") }
        let method = req.method.uppercased()
        guard endpoint.methods.contains(method) else {
            var response = APIResponse.error(
                RegistryError(
                    .methodNotAllowed,
                    "method \(req.method.prefix(16)) is not allowed here; use \(endpoint.methods.filter { $0 != "HEAD" }.joined(separator: ", "))"
                )
            )
            response.headers.append(("Allow", endpoint.methods.joined(separator: ", ")))
            return response
        }
        var caller: Principal?
        if endpoint.needsCaller {
            caller = try await authenticate(req)
            guard caller != nil else { throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'") }
        }
        func address(_ m: Endpoint.ModulePath) throws(RegistryError) -> ModuleAddress {
            try ModuleAddress(namespace: m.namespace, name: m.name, system: m.system)
        }
        let log = Self.withRequestID(logger, req)
        switch endpoint {
        case .discovery:
            return discovery(req)
        case .health:
            return .json(200, JSONValue.object([("status", .string("ok"))]).serialized())
        case .token:
            if method == "GET" || method == "HEAD" { return try await tokenFromFrontEnd(req, logger: logger) }
            return try await token(req, logger: logger)
        case .archive(let m, let version, let file):
            return try await archive(req, module: try address(m), version: try Version(version), file: file, headOnly: method == "HEAD")
        case .modules(let namespace):
            return try await list(req, namespace: try namespace.map { ns throws(RegistryError) in try Namespace(ns) }, search: false, caller: caller)
        case .search:
            return try await list(req, namespace: nil, search: true, caller: caller)
        case .module(let m):
            return try await moduleDetail(try address(m), version: nil, caller: caller)
        case .versions(let m):
            return try await versions(try address(m), caller: caller)
        case .latestDownload(let m):
            let module = try address(m)
            let latest = try await service.latest(of: module, caller: caller)
            let location = "/v1/modules/\(module)/\(latest.version)/download"
            return APIResponse(status: 302, headers: [("Location", location), ("Content-Type", "application/json")], body: .bytes(Array("{}".utf8)))
        case .version(let m, let v):
            let module = try address(m)
            let version = try Version(v)
            if method == "DELETE" {
                try await service.deleteVersion(version, of: module, caller: caller, logger: log)
                return APIResponse(status: 204)
            }
            return try await moduleDetail(module, version: version, caller: caller)
        case .download(let m, let v):
            return try await download(req, try address(m), version: try Version(v), caller: caller)
        case .upload(let m, let v):
            return try await upload(req, try address(m), version: try Version(v), caller: caller, logger: log)
        case .create(let m, let v):
            return try await create(req, try address(m), version: try Version(v), caller: caller, logger: log)
        case .deprecate(let m, let v):
            return try await deprecate(req, try address(m), version: try Version(v), clear: method == "DELETE", caller: caller, logger: log)
        case .grants(let ns):
            let namespace = try Namespace(ns)
            if method == "PUT" { return try await putGrant(req, namespace: namespace, caller: caller, logger: log) }
            let list = try await service.grants(in: namespace, caller: caller)
            return .json(200, JSONValue.object([("grants", .array(list.map(\.jsonValue)))]).serialized())
        case .grant(let ns, let identity):
            let namespace = try Namespace(ns)
            try await service.deleteGrant(for: try Identity(identity), in: namespace, caller: caller, logger: log)
            return APIResponse(status: 204)
        }
    }

    /// Writes are rare: their log lines carry the request id (reads skip the metadata copy).
    static func withRequestID(_ logger: Logger, _ req: APIRequest) -> Logger {
        var l = logger
        l[metadataKey: "request_id"] = "\(req.requestID)"
        return l
    }

    // MARK: Authentication

    /// Reads `Authorization: Bearer TOKEN`. No header → nil (the service answers 401 where needed);
    /// a malformed header or unknown token → 401 at once.
    func authenticate(_ req: APIRequest) async throws(RegistryError) -> Principal? {
        let values = req.headers(named: "authorization")
        guard let value = values.first else { return nil }
        guard values.count == 1 else { throw .unauthenticated("send exactly one Authorization header") }
        // `Bearer` (any case), one or more spaces, the token; on UTF-8 code units (a Character split and
        // lowercasing cost more than the rest of a cached static-token check).
        let utf8 = value.utf8.drop { $0 == UInt8(ascii: " ") }
        let scheme = utf8.prefix { $0 != UInt8(ascii: " ") }
        let rest = utf8[scheme.endIndex...].drop { $0 == UInt8(ascii: " ") }
        guard scheme.count == 6, !rest.isEmpty, zip(scheme, "bearer".utf8).allSatisfy({ $0 | 0x20 == $1 }) else {
            throw .unauthenticated("the Authorization header must be 'Bearer TOKEN'")
        }
        let token = Substring(rest).trimmingSpaces()
        guard !token.isEmpty, token.utf8.count <= 8192, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f }) else {
            throw .unauthenticated("invalid or expired token")
        }
        if let frontEndTokens, token.hasPrefix(SealedTokens.prefix), let host = req.trustedHost {
            return Principal(identity: try await frontEndTokens.tokens(for: host).verify(token).subject)
        }
        return try await authenticator.authenticate(token)
    }

    // MARK: Handlers

    func discovery(_ req: APIRequest) -> APIResponse {
        // Without a configured audience, GET /token works wherever the front end names the domain; the
        // service to sign for follows from that domain unless TFREG_TOKEN_SERVICE says it.
        let frontEndOnly = frontEndTokens != nil && req.trustedHost != nil
        var tokenService = configuration.frontEndTokenService
        if tokenService == nil, frontEndOnly, let host = req.trustedHost { tokenService = host.contains(".lambda-url.") ? "lambda" : "execute-api" }
        var auth: [JSONValue] = [.string("static-token")]
        if tokenIssuer != nil {
            auth.append(.string("sts-presigned"))
            if configuration.frontEndTokenService != nil { auth.append(.string("iam-front-end")) }
        } else if frontEndOnly {
            auth.append(.string("iam-front-end"))
        }
        let tokenRegion: JSONValue = tokenService == nil ? .null : configuration.frontEndTokenRegion.map { .string($0) } ?? .null
        let tokenPath: JSONValue = tokenIssuer == nil && !frontEndOnly ? .null : .string("/token")
        var endpoints: [(String, JSONValue)] = [
            ("version", .string(configuration.version)),
            ("modules", .string("/v1/modules/")),
            ("upload", .string("/v1/modules/{namespace}/{name}/{system}/{version}/upload")),
        ]
        // Only what this registry has: `create` registers an object in S3, so a registry that
        // stores archives in its own directory does not offer it.
        if service.storage.registersExistingObjects {
            endpoints.append(("create", .string("/v1/modules/{namespace}/{name}/{system}/{version}/create")))
        }
        let body = JSONValue.object([
            ("modules.v1", .string("/v1/modules/")),
            (
                "tfreg.v1",
                .object(
                    endpoints + [
                        ("grants", .string("/v1/grants/")),
                        ("max_upload_bytes", .int(configuration.maxUploadBytes)),
                        ("auth", .array(auth)),
                        ("token_service", tokenService.map { .string($0) } ?? .null),
                        ("token_region", tokenRegion),
                        ("token", tokenPath),
                        ("audience", tokenIssuer.map { .string($0.tokens.audience) } ?? .null),
                    ]
                )
            ),
        ])
        return .json(200, body.serialized(), headers: [("Cache-Control", "max-age=300")])
    }

    func versions(_ module: ModuleAddress, caller: Principal?) async throws(RegistryError) -> APIResponse {
        let records = try await service.versions(of: module, caller: caller)
        let body = JSONValue.object([
            (
                "modules",
                .array([
                    .object([
                        ("source", .string(module.description)),
                        (
                            "versions",
                            .array(
                                records.map { r in
                                    var fields: [(String, JSONValue)] = [("version", .string(r.version.description))]
                                    if let d = r.deprecation { fields.append(("deprecation", Self.deprecationJSON(d))) }
                                    return .object(fields)
                                }
                            )
                        ),
                    ])
                ])
            )
        ])
        return .json(200, body.serialized())
    }

    func download(_ req: APIRequest, _ module: ModuleAddress, version: Version, caller: Principal?) async throws(RegistryError) -> APIResponse {
        let (record, delivery) = try await service.download(version, of: module, caller: caller, expiresIn: configuration.downloadLinkLifetime)
        let location: String
        switch delivery {
        case .url(let url):
            location = url
        case .servedByRegistry:
            // The link names the digest it was issued for: it can only ever serve those bytes.
            let path = "/v1/archives/\(record.module)/\(record.version)/\(record.sha256).tar.gz"
            location = try baseURL(req) + path + "?" + signer.query(forPath: path, now: service.clock.now())
        }
        // 204 + X-Terraform-Get works for Terraform and OpenTofu alike (module registry protocol, "Download
        // Source Code for a Specific Module Version").
        return APIResponse(status: 204, headers: [("X-Terraform-Get", location), ("Cache-Control", "no-store")])
    }

    func archive(_ req: APIRequest, module: ModuleAddress, version: Version, file: String, headOnly: Bool) async throws(RegistryError) -> APIResponse
    {
        guard file.hasSuffix(".tar.gz"), Grammar.isSHA256Hex(file.dropLast(7)) else { throw .notFound("no such archive") }
        let digest = String(file.dropLast(7))
        guard let items = URLParsing.queryItems(req.query) else { throw .badRequest("malformed query string") }
        let expires = items.filter { $0.name == "expires" }
        let signature = items.filter { $0.name == "signature" }
        guard expires.count <= 1, signature.count <= 1 else {
            throw .forbidden("the archive link is invalid or has expired; ask the registry for a new download")
        }
        let path = "/v1/archives/\(module)/\(version)/\(digest).tar.gz"
        try signer.verify(path: path, expires: expires.first?.value, signature: signature.first?.value, now: service.clock.now())
        guard let record = try await service.store.version(version, of: module), record.sha256 == digest else {
            throw .notFound("no such archive (the version was deleted); ask the registry for a new download")
        }
        let file = try await service.storage.localFile(for: record.location)
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/gzip"), ("Content-Length", String(file.size)),
            ("ETag", "\"\(record.sha256)\""), ("Cache-Control", "private, max-age=300"),
        ]
        return APIResponse(status: 200, headers: headers, body: headOnly ? .empty : .file(path: file.path, size: file.size))
    }

    func upload(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        // Authorize before reading a byte of the body.
        try await service.authorize(caller, .upload, in: module.namespace)
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
        let staged = try await ArchiveStager.stage(req.body, into: service.storage.stagingDirectory, limit: configuration.maxUploadBytes)
        let record = try await service.publish(staged, version: version, of: module, caller: caller, logger: logger)
        return .json(201, Self.publishedBody(record).serialized(), headers: [("Location", "/v1/modules/\(module)/\(version)")])
    }

    /// `create`: registers an archive the caller already put in S3 (the replaced tool's route and body:
    /// `{"bucket", "key", "expected_checksum"}`, the checksum as S3 reports it, base64, or as hex).
    func create(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .upload, in: module.namespace)
        let json = try await jsonObjectBody(
            req,
            limit: 16 * 1024,
            allowed: ["bucket", "key", "expected_checksum"],
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
        let location = try ArchiveLocation.external(bucket: bucket, key: key)
        let record = try await service.register(
            existing: location,
            expectedSHA256: expected,
            maximumBytes: configuration.maxUploadBytes,
            version: version,
            of: module,
            caller: caller,
            logger: logger
        )
        return .json(201, Self.publishedBody(record).serialized(), headers: [("Location", "/v1/modules/\(module)/\(version)")])
    }

    /// `POST /token`: exchanges a presigned GetCallerIdentity for a sealed token. Body:
    /// `{"method", "url", "headers": {name: value}, "body", "expiration_seconds"?}`.
    func token(_ req: APIRequest, logger: Logger) async throws(RegistryError) -> APIResponse {
        guard let issuer = tokenIssuer else {
            // 404 as on a registry without IAM: this registry does not offer the exchange (retrying
            // cannot help, unlike a 503), and the message says what the operator has to set.
            if frontEndTokens != nil {
                throw .notFound(
                    "POST /token (a presigned GetCallerIdentity) needs TFREG_AUDIENCE, the registry's host name, set on the function; behind API Gateway or a Function URL with AWS_IAM use GET /token"
                )
            }
            throw .notFound("IAM authentication is not configured on this registry")
        }
        if let type = req.header("content-type")?.lowercased(), !type.hasPrefix("application/json") {
            throw RegistryError(.unsupportedMediaType, "send the body as application/json")
        }
        let json = try JSONParser.parse(try await req.body.collect(limit: 32 * 1024))
        for k in json.keys where !["method", "url", "headers", "body", "expiration_seconds"].contains(k) {
            throw .badRequest("unknown field '\(k.prefix(64))'")
        }
        guard let method = json["method"]?.stringValue, let url = json["url"]?.stringValue, let body = json["body"]?.stringValue,
            case .object(let fields)? = json["headers"]
        else { throw .badRequest("method, url, body (strings) and headers (an object) are required") }
        var headers: [(name: String, value: String)] = []
        for (name, value) in fields {
            guard let v = value.stringValue else { throw .badRequest("header values must be strings") }
            headers.append((name, v))
        }
        var lifetime: Int64?
        if let e = json["expiration_seconds"] {
            guard let n = e.intValue, n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        if let q = URLParsing.queryItems(req.query)?.first(where: { $0.name == "expiration_seconds" }) {
            guard let n = Int64(q.value), n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        let result = try await service.issueToken(
            exchanging: SignedCallerIdentityRequest(method: method, url: url, headers: headers, body: body),
            requestedLifetime: lifetime,
            with: issuer,
            logger: Self.withRequestID(logger, req)
        )
        let out = JSONValue.object([
            ("token", .string(result.token)), ("principal", .string(result.identity.value)), ("expires_at", .string(rfc3339(result.expiresAt))),
        ])
        return .json(200, out.serialized(), headers: [("Cache-Control", "no-store")])
    }

    // MARK: Grants API

    /// `PUT /v1/grants/NS` (body `{"identity", "permissions": {…}}`); `GET /v1/grants/NS` and
    /// `DELETE /v1/grants/NS/IDENTITY` (the identity as written, `/` included:
    /// `/v1/grants/acme/arn:aws:iam::123456789012:role/ci`; `%2F` is never a separator) are routed
    /// straight to the service. The body is read only after the caller may write grants here.
    func putGrant(_ req: APIRequest, namespace: Namespace, caller: Principal?, logger: Logger) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .createGrant, in: namespace)
        let json = try await jsonObjectBody(req, limit: 16 * 1024, allowed: ["identity", "permissions"])
        guard let id = json["identity"]?.stringValue, case .object(let fields)? = json["permissions"] else {
            throw .badRequest("identity (a string) and permissions (an object) are required")
        }
        let grant = Grant(namespace: namespace, identity: try Identity(id), permissions: try Permissions(json: .object(fields)))
        try await service.putGrant(grant, caller: caller, logger: logger)
        return .json(200, grant.jsonValue.serialized())
    }

    /// `GET /token?expiration_seconds=N` behind an IAM-authorizing front end: the caller is the ARN the
    /// front end put in the Lambda event's request context (`APIRequest.trustedCallerARN`).
    ///
    /// The answer is the bare token as `text/plain` (what the replaced tool's clients use verbatim as
    /// the bearer token) unless the client asks for JSON with `Accept: application/json`, as tfreg's
    /// own clients do: then `{"token", "principal", "expires_at"}`.
    func tokenFromFrontEnd(_ req: APIRequest, logger: Logger) async throws(RegistryError) -> APIResponse {
        guard tokenIssuer != nil || frontEndTokens != nil else { throw .notFound("IAM authentication is not configured on this registry") }
        guard let arn = req.trustedCallerARN else {
            throw .unauthenticated(
                "GET /token needs an IAM-authorized front end (API Gateway or a Function URL with AWS_IAM); otherwise POST a presigned GetCallerIdentity to /token"
            )
        }
        var lifetime: Int64?
        if let q = URLParsing.queryItems(req.query)?.first(where: { $0.name == "expiration_seconds" }) {
            guard let n = Int64(q.value), n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        let identity: Identity
        do { identity = try Identity(arn) } catch { throw .unauthenticated("this IAM principal cannot be used with the registry") }
        let tokens: SealedTokens
        if let issuer = tokenIssuer {
            tokens = issuer.tokens
        } else if let frontEndTokens, let host = req.trustedHost {
            tokens = frontEndTokens.tokens(for: host)
        } else {
            throw .unauthenticated("GET /token needs the front end to name the registry's domain (requestContext.domainName), or TFREG_AUDIENCE")
        }
        let (token, expires) = try await service.issueToken(
            for: Principal(identity: identity),
            requestedLifetime: lifetime,
            with: tokens,
            logger: Self.withRequestID(logger, req)
        )
        guard AcceptNegotiation.prefersJSON(req.header("accept")) else {
            return APIResponse(
                status: 200,
                headers: [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"), ("Vary", "Accept")],
                body: .bytes(Array(token.utf8))
            )
        }
        let out = JSONValue.object([("token", .string(token)), ("principal", .string(identity.value)), ("expires_at", .string(rfc3339(expires)))])
        return .json(200, out.serialized(), headers: [("Cache-Control", "no-store"), ("Vary", "Accept")])
    }

    static func deprecationJSON(_ d: Deprecation) -> JSONValue {
        var fields: [(String, JSONValue)] = [("reason", .string(d.reason))]
        if let r = d.replacement { fields.append(("replacement", .string(r))) }
        fields.append(("deprecated_at", .string(rfc3339(d.at))))
        if let by = d.by { fields.append(("deprecated_by", .string(by))) }
        return .object(fields)
    }

    /// `POST …/VERSION/deprecate` `{"reason": "…", "replacement": "…"}` marks a version deprecated;
    /// `DELETE …/VERSION/deprecate` clears the mark. Needs `upload`; authorized before the body is read.
    func deprecate(
        _ req: APIRequest,
        _ module: ModuleAddress,
        version: Version,
        clear: Bool,
        caller: Principal?,
        logger: Logger
    ) async throws(RegistryError) -> APIResponse {
        try await service.authorize(caller, .upload, in: module.namespace)
        var reason: String?
        var replacement: String?
        if !clear {
            let json = try await jsonObjectBody(
                req,
                limit: 16 * 1024,
                allowed: ["reason", "replacement"],
                notAnObject: "the body must be a JSON object with reason and optional replacement",
                unknownHint: "expected reason and replacement"
            )
            guard let r = json["reason"]?.stringValue else { throw .badRequest("reason is a required string (it may be empty)") }
            reason = r
            if let value = json["replacement"] {
                guard let text = value.stringValue else { throw .badRequest("replacement must be a string") }
                replacement = text
            }
        }
        let record = try await service.deprecate(version, of: module, reason: reason, replacement: replacement, caller: caller, logger: logger)
        return .json(200, Self.publishedBody(record).serialized())
    }

    static func publishedBody(_ record: ModuleVersionRecord) -> JSONValue {
        let module = record.module
        return JSONValue.object(
            [
                ("id", .string("\(module)/\(record.version)")), ("namespace", .string(module.namespace.value)), ("name", .string(module.name)),
                ("provider", .string(module.system)), ("version", .string(record.version.description)), ("sha256", .string(record.sha256)),
                ("size", .int(record.size)), ("published_at", .string(rfc3339(record.publishedAt))),
            ] + (record.deprecation.map { [("deprecation", deprecationJSON($0))] } ?? [])
        )
    }

    func moduleDetail(_ module: ModuleAddress, version: Version?, caller: Principal?) async throws(RegistryError) -> APIResponse {
        let all = try await service.versions(of: module, caller: caller)
        let record: ModuleVersionRecord
        if let version {
            guard let r = all.first(where: { $0.version == version }) else {
                throw .notFound("version \(version) of module \(module) not found")
            }
            record = r
        } else {
            record = RegistryService.latestRecord(all)
        }
        var fields = Self.listItem(record)
        fields.append(("versions", .array(all.map { .string($0.version.description) })))
        fields.append(("sha256", .string(record.sha256)))
        if let d = record.deprecation { fields.append(("deprecation", Self.deprecationJSON(d))) }
        return .json(200, JSONValue.object(fields).serialized())
    }

    static func listItem(_ r: ModuleVersionRecord) -> [(String, JSONValue)] {
        [
            ("id", .string("\(r.module)/\(r.version)")), ("owner", .string(r.publishedBy ?? "")),
            ("namespace", .string(r.module.namespace.value)), ("name", .string(r.module.name)),
            ("version", .string(r.version.description)), ("provider", .string(r.module.system)),
            ("description", .string("")), ("source", .string("")),
            ("published_at", .string(rfc3339(r.publishedAt))), ("downloads", .int(0)), ("verified", .bool(false)),
        ]
    }

    /// The same fields as `listItem(_:)` of the module's latest version, from its summary.
    static func listItem(_ s: ModuleSummary) -> [(String, JSONValue)] {
        [
            ("id", .string("\(s.module)/\(s.latest)")), ("owner", .string(s.latestPublishedBy ?? "")),
            ("namespace", .string(s.module.namespace.value)), ("name", .string(s.module.name)),
            ("version", .string(s.latest.description)), ("provider", .string(s.module.system)),
            ("description", .string(s.description)), ("source", .string("")),
            ("published_at", .string(rfc3339(s.latestPublishedAt))), ("downloads", .int(s.downloads)), ("verified", .bool(false)),
        ]
    }

    func list(_ req: APIRequest, namespace: Namespace?, search: Bool, caller: Principal?) async throws(RegistryError) -> APIResponse {
        guard let items = URLParsing.queryItems(req.query) else { throw .badRequest("malformed query string") }
        func value(_ name: String) throws(RegistryError) -> String? {
            let v = items.filter { $0.name == name }
            guard v.count <= 1 else { throw .badRequest("parameter '\(name)' given more than once") }
            return v.first?.value
        }
        var query = ModuleQuery(namespace: namespace)
        if let o = try value("offset") {
            guard let n = Int(o), n >= 0, n <= 1_000_000 else { throw .badRequest("offset must be a non-negative integer") }
            query.offset = n
        }
        if let l = try value("limit") {
            guard let n = Int(l), n >= 1 else { throw .badRequest("limit must be a positive integer") }
            query.limit = min(n, ModuleQuery.maximumLimit)
        }
        if let p = try value("provider") {
            guard !p.isEmpty, p.utf8.count <= 64, p.utf8.allSatisfy(ASCII.isLowerAlnum) else {
                throw .badRequest("invalid provider filter")
            }
            query.system = p
        }
        if search {
            guard let q = try value("q"), !q.isEmpty else { throw .badRequest("search needs a 'q' parameter") }
            guard q.utf8.count <= 256 else { throw .badRequest("the search text is too long") }
            query.text = q
            if let ns = try value("namespace") { query.namespace = try Namespace(ns) }
        }
        let page = try await service.list(query, caller: caller)
        var meta: [(String, JSONValue)] = [("limit", .int(Int64(page.limit))), ("current_offset", .int(Int64(page.offset)))]
        if let next = page.nextOffset {
            meta.append(("next_offset", .int(Int64(next))))
            var q = "offset=\(next)&limit=\(page.limit)"
            if let t = query.text { q += "&q=" + PercentEncoding.encode(t) }
            if let s = query.system { q += "&provider=" + s }
            if search, let ns = query.namespace { q += "&namespace=" + ns.value }
            let base = search ? "/v1/modules/search" : (namespace.map { "/v1/modules/\($0)" } ?? "/v1/modules")
            meta.append(("next_url", .string(base + "?" + q)))
        }
        if let prev = page.previousOffset { meta.append(("prev_offset", .int(Int64(prev)))) }
        let body = JSONValue.object([
            ("meta", .object(meta)),
            ("modules", .array(page.items.map { .object(Self.listItem($0)) })),
        ])
        return .json(200, body.serialized())
    }

    /// `https://host[:port]` for links: the configured public URL, else the domain an IAM-authorizing
    /// front end reports (`trustedHost`), else (`serve` only) the request's Host header. A Lambda
    /// event's Host header is never used: a caller can send any.
    func baseURL(_ req: APIRequest) throws(RegistryError) -> String {
        if let url = configuration.publicURL { return url }
        if let host = req.trustedHost { return "https://\(host)" }
        guard req.linksMayUseHostHeader else {
            throw .misconfigured(
                "download links",
                explanation:
                    "no public URL is configured and the front end reports no domain (an ALB event): set TFREG_AUDIENCE to the registry's host name"
            )
        }
        guard let host = req.header("host"), URLParsing.isValidHost(host) else {
            throw .badRequest("missing or invalid Host header")
        }
        return "\(req.scheme)://\(host)"
    }
}
