import Logging
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegSystem

extension RegistryAPI {
    /// `/v1/modules/…`, after authentication: each operation checks its parameters' grammar (400),
    /// then the service authorizes (403) before any body or state is looked at.
    func modules(_ route: ModuleRoute, _ req: APIRequest, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        switch route {
        case .list:
            return try await list(req, namespace: nil, search: false, caller: caller)
        case .listNamespace(let ns):
            return try await list(req, namespace: try Namespace(ns), search: false, caller: caller)
        case .search:
            return try await list(req, namespace: nil, search: true, caller: caller)
        case .module(let m):
            return try await moduleDetail(try m.address(), version: nil, caller: caller, logger: logger)
        case .versions(let m):
            let module = try m.address()
            let records = try await service.versions(of: module, caller: caller)
            return .json(200, ModuleJSON.versions(module, records))
        case .latestDownload(let m):
            let module = try m.address()
            let latest = try await service.latest(of: module, caller: caller)
            let location = ModuleRoute.download(module, version: latest.version).path
            return APIResponse(status: 302, headers: [("Location", location), ("Content-Type", "application/json")], body: .bytes(Array("{}".utf8)))
        case .version(let m, let v):
            return try await moduleDetail(try m.address(), version: try Version(v), caller: caller, logger: logger)
        case .download(let m, let v):
            return try await download(req, try m.address(), version: try Version(v), caller: caller)
        case .deleteVersion(let m, let v):
            let (module, version) = (try m.address(), try Version(v))
            try await service.deleteVersion(version, of: module, caller: caller, logger: Self.withRequestID(logger, req))
            return APIResponse(status: 204)
        case .upload(let m, let v):
            return try await upload(req, try m.address(), version: try Version(v), caller: caller, logger: Self.withRequestID(logger, req))
        case .create(let m, let v):
            return try await create(req, try m.address(), version: try Version(v), caller: caller, logger: Self.withRequestID(logger, req))
        case .deprecate(let m, let v):
            let (module, version) = (try m.address(), try Version(v))
            return try await deprecate(req, module, version: version, clear: false, caller: caller, logger: Self.withRequestID(logger, req))
        case .undeprecate(let m, let v):
            let (module, version) = (try m.address(), try Version(v))
            return try await deprecate(req, module, version: version, clear: true, caller: caller, logger: Self.withRequestID(logger, req))
        }
    }

    /// `GET /v1/modules/NS/NAME/SYS[/VER]`: the public registry's module detail document
    /// (`ModuleJSON.detail`), from the record and its stored documentation.
    func moduleDetail(_ module: ModuleAddress, version: Version?, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        let detail = try await service.moduleDetail(module, version: version, caller: caller, logger: logger)
        return .json(200, ModuleJSON.detail(detail).serialized())
    }

    /// 204 + `X-Terraform-Get`: a presigned URL from the storage, or a signed link to the archive route
    /// that names the digest it was issued for (it can only ever serve those bytes).
    func download(_ req: APIRequest, _ module: ModuleAddress, version: Version, caller: Principal) async throws(RegistryError) -> APIResponse {
        let (record, delivery) = try await service.download(version, of: module, caller: caller, expiresIn: configuration.downloadLinkLifetime)
        let location: String
        switch delivery {
        case .url(let url):
            location = url
        case .servedByRegistry:
            let path = ArchiveRoute.archive(record.module, version: record.version, sha256: record.sha256).path
            location = try baseURL(req) + path + "?" + signer.query(forPath: path, now: service.clock.now())
        }
        // 204 + X-Terraform-Get works for Terraform and OpenTofu alike (module registry protocol, "Download
        // Source Code for a Specific Module Version").
        return APIResponse(status: 204, headers: [("X-Terraform-Get", location), ("Cache-Control", "no-store")])
    }

    /// `GET /v1/modules[/NS]` and `/v1/modules/search`: a page of module summaries the caller may
    /// download, `next_url` written by the same route.
    func list(_ req: APIRequest, namespace: Namespace?, search: Bool, caller: Principal) async throws(RegistryError) -> APIResponse {
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
        var nextURL: String?
        if let next = page.nextOffset {
            var q = "offset=\(next)&limit=\(page.limit)"
            if let t = query.text { q += "&q=" + PercentEncoding.encode(t) }
            if let s = query.system { q += "&provider=" + s }
            if search, let ns = query.namespace { q += "&namespace=" + ns.value }
            let route: ModuleRoute = search ? .search : namespace.map { .listNamespace($0.value) } ?? .list
            nextURL = route.path + "?" + q
        }
        return .json(200, ModuleJSON.page(page, nextURL: nextURL).serialized())
    }
}
