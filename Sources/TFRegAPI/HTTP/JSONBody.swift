import TFRegCore
import TFRegJSON

/// Request bodies as JSON: `JSONValue(parsing:)` with `.strict` options, errors as 400.
public enum JSONParser {
    public static func parse(_ bytes: [UInt8]) throws(RegistryError) -> JSONValue {
        do { return try JSONValue(parsing: bytes, options: .strict) } catch { throw .badRequest("malformed JSON body: \(error.message)") }
    }
}

public enum JSONWriter {
    public static func errors(_ messages: [String]) -> [UInt8] {
        JSONValue.object([("errors", .array(messages.map(JSONValue.string)))]).serialized()
    }
}

extension RegistryAPI {
    /// The JSON object a handler reads: `Content-Type` application/json (or absent) else 415, at most
    /// `limit` bytes, parsed strictly, and only `allowed` keys (`unknownHint` follows the refusal).
    /// `notAnObject`, when given, is the 400 for a body that is not an object.
    func jsonObjectBody(
        _ req: APIRequest,
        limit: Int,
        allowed: [String],
        notAnObject: String? = nil,
        unknownHint: String? = nil
    ) async throws(RegistryError) -> JSONValue {
        if let type = req.header("content-type")?.lowercased(), !type.hasPrefix("application/json") {
            throw RegistryError(.unsupportedMediaType, "send the body as application/json")
        }
        let json = try JSONParser.parse(try await req.body.collect(limit: limit))
        if let notAnObject {
            guard case .object = json else { throw .badRequest(notAnObject) }
        }
        for k in json.keys where !allowed.contains(k) {
            throw .badRequest("unknown field '\(k.prefix(64))'" + (unknownHint.map { "; \($0)" } ?? ""))
        }
        return json
    }
}
