import TFRegCore
import TFRegJSON
import TFRegSystem

/// `{"token", "principal", "expires_at"}`: the answer to `POST /token`, and to `GET /token` for a
/// client that asks for JSON.
struct IssuedTokenJSON {
    var token: String
    var principal: Identity
    var expiresAt: Int64

    var json: JSONValue {
        .object([("token", .string(token)), ("principal", .string(principal.value)), ("expires_at", .string(rfc3339(expiresAt)))])
    }
}
