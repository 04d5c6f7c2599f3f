import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON

/// A data key from GenerateDataKey: the plaintext (keep in memory only) and the KMS-encrypted copy.
public struct DataKey: Sendable {
    public let plaintext: [UInt8]
    public let ciphertext: [UInt8]
    public let keyID: String
}

/// KMS over its JSON 1.1 protocol (`TrentService.*`): the envelope-encryption calls tfreg needs.
public struct KMSClient: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// One operation; `request` members that are nil are left out.
    func call(_ operation: String, _ request: [(String, JSONValue?)]) async throws(AWSError) -> JSONValue {
        let body = JSONValue.object(request.compactMap { name, value in value.map { (name, $0) } })
        let r = try await client.sendJSON(service: "kms", target: "TrentService.\(operation)", jsonVersion: "1.1", body: body.serialized())
        return try AWSClient.jsonAnswer(r, operation: operation)
    }

    static func context(_ c: [String: String]) -> JSONValue? {
        c.isEmpty ? nil : .object(c.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) })
    }

    /// A required string member of an answer.
    static func string(_ answer: JSONValue, _ name: String, _ operation: String) throws(AWSError) -> String {
        guard let s = answer[name]?.stringValue else {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "\(operation) answered with unreadable JSON", status: 200)
        }
        return s
    }

    static func blob(_ s: String, _ what: String) throws(AWSError) -> [UInt8] {
        guard let b = Base64.decode(s) else {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "\(what) is not base64", status: 200)
        }
        return b
    }

    /// A fresh AES-256 data key under `keyID` (key id, ARN or `alias/…`), bound to `context`.
    public func generateDataKey(keyID: String, context: [String: String] = [:]) async throws(AWSError) -> DataKey {
        let op = "GenerateDataKey"
        let r = try await call(op, [("KeyId", .string(keyID)), ("KeySpec", .string("AES_256")), ("EncryptionContext", Self.context(context))])
        let plaintext = try Self.string(r, "Plaintext", op)
        let ciphertext = try Self.string(r, "CiphertextBlob", op)
        let id = try Self.string(r, "KeyId", op)
        return DataKey(plaintext: try Self.blob(plaintext, "Plaintext"), ciphertext: try Self.blob(ciphertext, "CiphertextBlob"), keyID: id)
    }

    public func encrypt(keyID: String, plaintext: [UInt8], context: [String: String] = [:]) async throws(AWSError) -> [UInt8] {
        let r = try await call(
            "Encrypt",
            [("KeyId", .string(keyID)), ("Plaintext", .string(Base64.encode(plaintext))), ("EncryptionContext", Self.context(context))]
        )
        return try Self.blob(try Self.string(r, "CiphertextBlob", "Encrypt"), "CiphertextBlob")
    }

    /// Decrypts; with `keyID` set, KMS refuses ciphertext made under another key.
    public func decrypt(ciphertext: [UInt8], keyID: String? = nil, context: [String: String] = [:]) async throws(AWSError) -> [UInt8] {
        let r = try await call(
            "Decrypt",
            [
                ("CiphertextBlob", .string(Base64.encode(ciphertext))), ("KeyId", keyID.map(JSONValue.string)),
                ("EncryptionContext", Self.context(context)),
            ]
        )
        return try Self.blob(try Self.string(r, "Plaintext", "Decrypt"), "Plaintext")
    }

    /// Creates a symmetric key (tests and first setup); returns its key id.
    public func createKey(description: String) async throws(AWSError) -> String {
        let r = try await call("CreateKey", [("Description", .string(description))])
        guard let meta = r["KeyMetadata"] else {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "CreateKey answered with unreadable JSON", status: 200)
        }
        return try Self.string(meta, "KeyId", "CreateKey")
    }
}
