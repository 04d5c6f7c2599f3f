import ArgumentParser
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegStoreAWS
import TFRegStoreLocal

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// What the registry's versions list says about a version about to be published.
enum RegistryVersions {
    enum Answer: Equatable {
        /// A version of the same precedence (build metadata ignored) exists: this one.
        case exists(String)
        case absent
        /// The list may not be read: a token with upload but not download permission (403).
        case unknown(String)
    }

    /// `GET …/NS/NAME/SYSTEM/versions` with the caller's token; 404 is an unknown module. Any other
    /// failure (a bad token, a registry that is down) stops the publish before anything is uploaded.
    static func lookUp(_ version: Version, of module: ModuleAddress, base: String, token: String, client: any HTTPClient) async throws -> Answer {
        let r = try await client.send(
            HTTPRequest(
                url: base + ModuleRoute.versions(of: module).relativePath,
                headers: [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader],
                timeout: 30
            )
        )
        switch r.status {
        case 200: return answer(for: version, body: r.body)
        case 404: return .absent
        case 403: return .unknown(CLIError.registry(r, action: "list versions").description)
        default: throw CLIError.registry(r, action: "check whether \(module) \(version) exists")
        }
    }

    static func answer(for version: Version, body: [UInt8]) -> Answer {
        struct Document: Decodable {
            struct Module: Decodable { let versions: [Entry] }
            struct Entry: Decodable { let version: String }
            let modules: [Module]
        }
        guard let doc = try? JSONDecoder().decode(Document.self, from: Data(body)) else { return .unknown("the versions list does not parse") }
        for entry in doc.modules.flatMap(\.versions) {
            if let v = try? Version(entry.version), v.hasSamePrecedence(as: version) { return .exists(entry.version) }
        }
        return .absent
    }
}
