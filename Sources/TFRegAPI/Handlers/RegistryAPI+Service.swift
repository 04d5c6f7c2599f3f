import TFRegCore
import TFRegJSON

extension RegistryAPI {
    /// Discovery and health: public, no body, no state but the configuration.
    func service(_ route: ServiceRoute, _ req: APIRequest) -> APIResponse {
        switch route {
        case .discovery: discovery(req)
        case .health: .json(200, JSONValue.object([("status", .string("ok"))]).serialized())
        }
    }

    /// `/.well-known/terraform.json` (Terraform's remote service discovery): `modules.v1`, and what
    /// tfreg's own clients need under `tfreg.v1`.
    func discovery(_ req: APIRequest) -> APIResponse {
        // Without a configured audience, GET /token works wherever the front end names the domain; the
        // service to sign for follows from that domain unless TFREG_TOKEN_SERVICE says it.
        let frontEndOnly = frontEndTokens != nil && req.trustedHost != nil
        var tokenService = configuration.frontEndTokenService
        if tokenService == nil, frontEndOnly, let host = req.trustedHost { tokenService = host.contains(".lambda-url.") ? "lambda" : "execute-api" }
        var auth: [String] = ["static-token"]
        if tokenIssuer != nil {
            auth.append("sts-presigned")
            if configuration.frontEndTokenService != nil { auth.append("iam-front-end") }
        } else if frontEndOnly {
            auth.append("iam-front-end")
        }
        let document = DiscoveryDocument(
            version: configuration.version,
            // Only what this registry has: `create` registers an object in S3, so a registry that
            // stores archives in its own directory does not offer it.
            offersCreate: service.storage.registersExistingObjects,
            maxUploadBytes: configuration.maxUploadBytes,
            auth: auth,
            tokenService: tokenService,
            tokenRegion: tokenService == nil ? nil : configuration.frontEndTokenRegion,
            offersToken: tokenIssuer != nil || frontEndOnly,
            audience: tokenIssuer?.tokens.audience
        )
        return .json(200, document.json.serialized(), headers: [("Cache-Control", "max-age=300")])
    }
}
