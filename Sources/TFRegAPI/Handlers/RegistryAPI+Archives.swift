import TFRegCore
import TFRegSystem

extension RegistryAPI {
    /// `GET`/`HEAD /v1/archives/NS/NAME/SYS/VER/SHA256.tar.gz?expires=…&signature=…`: the link a
    /// download signed (`ArchiveURLSigner`), served only while the version is live with that digest.
    func archive(_ route: ArchiveRoute, _ req: APIRequest, headOnly: Bool) async throws(RegistryError) -> APIResponse {
        let module: ModuleAddress
        let version: Version
        let file: String
        switch route {
        case .archive(let m, let v, let f): (module, version, file) = (try m.address(), try Version(v), f)
        case .providerFile(let p, let v, let sha256, let f):
            return try await providerFile(try p.address(), version: v, sha256: sha256, file: f, req, headOnly: headOnly)
        case .mirrorFile(let host, let p, let v, let sha256, let f):
            let provider = try ProviderAddress(origin: host, namespace: p.namespace, type: p.type)
            return try await providerFile(provider, version: v, sha256: sha256, file: f, req, headOnly: headOnly)
        }
        guard file.hasSuffix(".tar.gz"), Grammar.isSHA256Hex(file.dropLast(7)) else { throw .notFound("no such archive") }
        let digest = String(file.dropLast(7))
        let (expires, signature) = try Self.linkQuery(req)
        // The path the link was signed for, written by the same route as the download wrote it.
        let path = ArchiveRoute.archive(module, version: version, sha256: digest).path
        try signer.verify(path: path, expires: expires, signature: signature, now: service.clock.now())
        guard let record = try await service.store.version(version, of: module), record.sha256 == digest else {
            throw .notFound("no such archive (the version was deleted); ask the registry for a new download")
        }
        let local = try await service.storage.localFile(for: record.location)
        let headers: [(name: String, value: String)] = [
            ("Content-Type", "application/gzip"), ("Content-Length", String(local.size)),
            ("ETag", "\"\(record.sha256)\""), ("Cache-Control", "private, max-age=300"),
        ]
        return APIResponse(status: 200, headers: headers, body: headOnly ? .empty : .file(path: local.path, size: local.size))
    }

    /// A signed link's `expires` and `signature` (each at most once, else the link is refused).
    static func linkQuery(_ req: APIRequest) throws(RegistryError) -> (expires: String?, signature: String?) {
        guard let items = URLParsing.queryItems(req.query) else { throw .badRequest("malformed query string") }
        let expires = items.filter { $0.name == "expires" }
        let signature = items.filter { $0.name == "signature" }
        guard expires.count <= 1, signature.count <= 1 else {
            throw .forbidden("the archive link is invalid or has expired; ask the registry for a new download")
        }
        return (expires.first?.value, signature.first?.value)
    }
}
