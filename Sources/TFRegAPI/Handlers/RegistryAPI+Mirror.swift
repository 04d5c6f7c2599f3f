import Logging
import TFRegCore
import TFRegJSON
import TFRegSystem

extension RegistryAPI {
    /// `/v1/mirror/HOSTNAME/…` after authentication. HOSTNAME this registry's own (the host of its
    /// public URL, or of the request when none is configured): its own providers, `download` in their
    /// namespace. Any other host name: providers pulled from that origin (`tfreg mirror pull`), under
    /// the mirror namespace's grants (`download` to read, `upload` to import); a host name that is not a
    /// lower-case DNS name without a port is 404 (nothing can have been pulled from it). The service
    /// authorizes (403) before anything is looked up.
    func mirror(_ route: MirrorRoute, _ req: APIRequest, caller: Principal, logger: Logger) async throws(RegistryError) -> APIResponse {
        switch route {
        case .index(let host, let p):
            let provider = try mirroredProvider(host, p, req).provider
            let records = try await service.providerVersions(of: provider, caller: caller)
            return .json(200, MirrorJSON.index(records).serialized())
        case .version(let host, let p, let v):
            let (provider, base) = try mirroredProvider(host, p, req)
            // The public URL's path, if it has one (a proxy's prefix): "https://host/prefix" → "/prefix".
            let prefix = base.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3).first.map { "/" + $0 } ?? ""
            let version = try Version(v)
            let record = try await service.providerVersion(version, of: provider, caller: caller)
            var urls: [String] = []
            for package in record.packages {
                // A path-absolute reference: Terraform resolves it against this document's URL, so the
                // archive comes from whichever host name the client reached the mirror by (a provider's
                // origin host name has no port — Terraform cannot join one to the mirror's URL — and
                // need not resolve at all).
                urls.append(providerFileLink(package.zip, file: package.filename, provider, version: version, base: prefix))
            }
            return .json(200, MirrorJSON.version(record, urls: urls).serialized(), headers: [("Cache-Control", "no-store")])
        case .upload(let host, let p, let v):
            let (provider, _) = try mirroredProvider(host, p, req)
            guard provider.origin != nil else {
                throw .badRequest("\(host.prefix(255)) is this registry: publish its providers with 'tfreg provider publish'")
            }
            let version = try Version(v)
            return try await providerUpload(req, provider, version: version, caller: caller, logger: Self.withRequestID(logger, req))
        }
    }

    /// The provider a mirror path names and this registry's base URL: an own provider when `host` is
    /// this registry's host name, else one mirrored from `host` (404 when `host` cannot be an origin).
    func mirroredProvider(_ host: String, _ p: ProviderPath, _ req: APIRequest) throws(RegistryError) -> (provider: ProviderAddress, base: String) {
        if let base = try? ownMirrorHost(host, req) { return (try p.address(), base) }
        let base = try baseURL(req)
        let origin = host.lowercased()
        guard host.utf8.count <= 253, ProviderAddress.isOriginHost(origin) else {
            throw .notFound("no mirror of \(host.prefix(255)): not a host name a provider can come from")
        }
        return (try ProviderAddress(origin: origin, namespace: p.namespace, type: p.type), base)
    }

    /// This registry's base URL when `host` names it (ASCII case-insensitively, port included as
    /// Terraform writes it), else 404.
    func ownMirrorHost(_ host: String, _ req: APIRequest) throws(RegistryError) -> String {
        let base = try baseURL(req)
        let own = base.split(separator: "/", omittingEmptySubsequences: true).dropFirst().first.map(String.init) ?? ""
        guard !own.isEmpty, host.utf8.count <= 255, host.lowercased() == own.lowercased() else {
            throw .notFound("this registry mirrors only its own providers (\(own)); no mirror of \(host.prefix(255))")
        }
        return base
    }

    /// A link to one file of a provider release that its client fetches without credentials: the
    /// registry's signed link (`ArchiveRoute.providerFile`), with every storage.
    func providerFileLink(
        _ blob: ProviderBlob,
        file: String,
        _ provider: ProviderAddress,
        version: Version,
        base: String
    ) -> String {
        // Always the registry's signed link, whatever the storage: Terraform 1.11 sends HEAD before GET,
        // which an S3 URL presigned for GET refuses; the link answers HEAD from the record and redirects
        // GET to the storage's presigned URL (`providerFile`).
        let path = ArchiveRoute.providerFile(provider, version: version, blob: blob, file: file).path
        return base + path + "?" + signer.query(forPath: path, now: service.clock.now())
    }
}
