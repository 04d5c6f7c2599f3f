import Glibc
import Logging
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegStoreLocal
import TFRegTesting

/// A real API (SQLite store, local archive directory, real canonicalizer) with a movable clock, driven in process.
final class APIHarness: @unchecked Sendable {
    let dir = TemporaryDirectory("tfreg-api")
    let store: any MetadataStore
    let storage: FileArchiveStorage
    let clock = TestClock()
    let api: RegistryAPI
    let logger = Logger(label: "test")

    init(
        maxUploadBytes: Int64 = APIConfiguration.defaultMaxUploadBytes,
        publicURL: String? = nil,
        store: (any MetadataStore)? = nil,
        tokenIssuer: TokenIssuer? = nil,
        frontEndTokens: FrontEndAudienceTokens? = nil,
        documenter: (any ModuleDocumenter)? = nil,
        mirror: MirrorSettings = MirrorSettings()
    ) throws {
        self.store = try store ?? SQLiteMetadataStore(path: dir.path + "/registry.db")
        storage = try FileArchiveStorage(root: dir.path)
        // Built as serve and lambda build theirs (the composition root), with the test's clock.
        api =
            RegistryAssembly(
                store: self.store,
                storage: storage,
                canonicalizer: TarGzCanonicalizer(),
                clock: clock,
                tokenIssuer: tokenIssuer,
                frontEndTokens: frontEndTokens,
                linkKey: [UInt8](repeating: 7, count: 32),
                configuration: {
                    var c = APIConfiguration(publicURL: publicURL, maxUploadBytes: maxUploadBytes, version: "test")
                    c.mirror = mirror
                    return c
                }(),
                documenter: documenter
            ).api
    }

    deinit { dir.remove() }

    /// Creates a static token with a grant and returns the secret.
    func token(_ name: String, _ permissions: Permissions, in namespaces: [String] = ["acme"]) async throws -> String {
        let secret = StaticTokenAuthenticator.generate()
        let id = try Identity.token(named: name)
        try await store.createStaticToken(id, hash: StaticTokenAuthenticator.digest(of: secret), createdAt: 0)
        for ns in namespaces {
            try await store.putGrant(Grant(namespace: try Namespace(ns), identity: id, permissions: permissions), mode: .create)
        }
        return secret
    }

    func send(
        _ method: String,
        _ target: String,
        token: String? = nil,
        headers: [(name: String, value: String)] = [],
        body: [UInt8] = []
    ) async -> APIResponse {
        var path = target
        var query = ""
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
        }
        var h = headers
        if !h.contains(where: { $0.name.lowercased() == "host" }) { h.append(("Host", "registry.test:8443")) }
        if let token { h.append(("Authorization", "Bearer \(token)")) }
        return await api.respond(
            to: APIRequest(method: method, path: path, query: query, headers: h, body: APIRequestBody(bytes: body), scheme: "https", requestID: "t"),
            logger: logger
        )
    }

    static func moduleArchive(_ text: String = "output \"x\" { value = 1 }\n") throws -> [UInt8] {
        try Gzip.compress(TarWriter.archive([TarEntry(path: "main.tf", kind: .file(Array(text.utf8)))]))
    }

    /// Publishes through the upload route and returns the response.
    func publish(_ version: String, token: String, module: String = "acme/vpc/aws", body: [UInt8]? = nil) async throws -> APIResponse {
        await send(
            "POST",
            "/v1/modules/\(module)/\(version)/upload",
            token: token,
            headers: [("Content-Type", "application/gzip")],
            body: try body ?? Self.moduleArchive("# \(version)\noutput \"v\" { value = \"\(version)\" }\n")
        )
    }

    func filesUnder(_ sub: String) -> [String] {
        var out: [String] = []
        func walk(_ p: String) {
            guard let d = opendir(p) else { return }
            defer { closedir(d) }
            while let e = readdir(d) {
                let n = withUnsafePointer(to: e.pointee.d_name) { $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) } }
                if n == "." || n == ".." { continue }
                if e.pointee.d_type == UInt8(DT_DIR) { walk(p + "/" + n) } else { out.append(p + "/" + n) }
            }
        }
        walk(dir.path + "/" + sub)
        return out
    }
}

extension APIResponse {
    var text: String { String(decoding: bodyBytes, as: UTF8.self) }
}
