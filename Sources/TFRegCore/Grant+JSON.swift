import TFRegJSON

/// The grant ⇄ JSON codec, once: the grants API writes and reads it, `tfreg grant --registry` sends
/// and reads it. Permissions are `{"download", "upload", "create_grant", "delete_grant"}` (the replaced
/// tool's names, `Permission.rawValue`), in that order.
extension Permissions {
    public var jsonValue: JSONValue {
        .object(Permission.allCases.map { ($0.rawValue, .bool(allows($0))) })
    }

    /// Strict, as a request body: every member true or false, no other names; missing ones are false.
    public init(json: JSONValue) throws(RegistryError) {
        guard case .object(let fields) = json else { throw .badRequest("permissions must be an object") }
        self.init()
        for (name, value) in fields {
            guard let on = value.boolValue else { throw .badRequest("permission '\(name.prefix(32))' must be true or false") }
            switch Permission(rawValue: name) {
            case .download: download = on
            case .upload: upload = on
            case .createGrant: createGrant = on
            case .deleteGrant: deleteGrant = on
            case nil: throw .badRequest("unknown permission '\(name.prefix(32))'; use download, upload, create_grant, delete_grant")
            }
        }
    }
}

extension Grant {
    /// `{"namespace", "identity", "permissions": {…}}`, as the grants API answers.
    public var jsonValue: JSONValue {
        .object([("namespace", .string(namespace.value)), ("identity", .string(identity.value)), ("permissions", permissions.jsonValue)])
    }

    /// `{"identity", "permissions": {…}}`, as the grants API is sent (`PUT /v1/grants/NS`).
    public var requestJSON: JSONValue {
        .object([("identity", .string(identity.value)), ("permissions", permissions.jsonValue)])
    }
}
