import TFRegJSON

/// `/.well-known/terraform.json`: `modules.v1` and `providers.v1` for Terraform, and `tfreg.v1` for tfreg's own clients
/// (publishing routes, limits, how to get a token). Every path in it is written by its route.
struct DiscoveryDocument {
    var version: String
    var offersCreate: Bool
    var maxUploadBytes: Int64
    var auth: [String]
    var tokenService: String?
    var tokenRegion: String?
    var offersToken: Bool
    var audience: String?

    var json: JSONValue {
        var endpoints: [(String, JSONValue)] = [
            ("version", .string(version)),
            ("modules", .string(ModuleRoute.basePath)),
            ("upload", .string(ModuleRoute.Operation.upload.template)),
        ]
        if offersCreate { endpoints.append(("create", .string(ModuleRoute.Operation.create.template))) }
        return .object([
            ("modules.v1", .string(ModuleRoute.basePath)),
            ("providers.v1", .string(ProviderRoute.basePath)),
            (
                "tfreg.v1",
                .object(
                    endpoints + [
                        ("grants", .string(GrantRoute.basePath)),
                        ("max_upload_bytes", .int(maxUploadBytes)),
                        ("auth", .array(auth.map(JSONValue.string))),
                        ("token_service", tokenService.map { .string($0) } ?? .null),
                        ("token_region", tokenRegion.map { .string($0) } ?? .null),
                        ("token", offersToken ? .string(TokenRoute.exchange.path) : .null),
                        ("audience", audience.map { .string($0) } ?? .null),
                    ]
                )
            ),
        ])
    }
}
