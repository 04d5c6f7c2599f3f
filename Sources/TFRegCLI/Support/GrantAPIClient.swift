import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

/// `tfreg grant --registry`: the grants API with the caller's own token.
struct GrantAPIClient {
    let host: RegistryHost
    let token: String
    let http: CurlHTTPClient

    func send(_ method: String, _ path: String, body: JSONValue? = nil) async throws -> HTTPResponse {
        var headers: [(name: String, value: String)] = [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader]
        if body != nil { headers.append(("Content-Type", "application/json")) }
        return try await http.send(
            HTTPRequest(method: method, url: "https://\(host.name)\(path)", headers: headers, body: body?.serialized() ?? [], timeout: 30)
        )
    }

    func list(_ ns: Namespace) async throws -> [Grant] {
        let r = try await send("GET", GrantRoute.list(namespace: ns.value).path)
        guard r.status == 200, let doc = try? JSONParser.parse(r.body), case .array(let items)? = doc["grants"] else {
            throw CLIError.registry(r, action: "list grants of '\(ns)'")
        }
        return try items.map { item in
            guard let id = item["identity"]?.stringValue, let p = item["permissions"] else { throw CLIError("unexpected grants answer") }
            return Grant(
                namespace: ns,
                identity: try Identity(id),
                permissions: Permissions(
                    download: p["download"]?.boolValue ?? false,
                    upload: p["upload"]?.boolValue ?? false,
                    createGrant: p["create_grant"]?.boolValue ?? false,
                    deleteGrant: p["delete_grant"]?.boolValue ?? false
                )
            )
        }
    }

    func put(_ g: Grant) async throws {
        let body = g.requestJSON
        let r = try await send("PUT", GrantRoute.put(namespace: g.namespace.value).path, body: body)
        guard r.status == 200 else { throw CLIError.registry(r, action: "write the grant") }
    }

    func delete(_ id: Identity, in ns: Namespace) async throws {
        let r = try await send("DELETE", GrantRoute.delete(id, in: ns).path)
        guard r.status == 204 else { throw CLIError.registry(r, action: "delete the grant") }
    }
}
