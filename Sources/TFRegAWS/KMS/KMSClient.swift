import TFRegCrypto
import TFRegHTTPClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

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

    func call<Request: Encodable, Response: Decodable>(_ operation: String, _ request: Request, as: Response.Type) async throws(AWSError) -> Response
    {
        let body: Data
        do { body = try JSONEncoder().encode(request) } catch {
            throw AWSError(kind: .validation, code: "SerializationException", message: "cannot encode \(operation)", status: 0)
        }
        let r = try await client.send(
            service: "kms",
            method: "POST",
            headers: [("Content-Type", "application/x-amz-json-1.1"), ("X-Amz-Target", "TrentService.\(operation)")],
            body: Array(body)
        )
        do { return try JSONDecoder().decode(Response.self, from: Data(r.body)) } catch {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON",
                status: r.status
            )
        }
    }

    static func blob(_ s: String, _ what: String) throws(AWSError) -> [UInt8] {
        guard let b = Base64.decode(s) else {
            throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "\(what) is not base64", status: 200)
        }
        return b
    }

    /// A fresh AES-256 data key under `keyID` (key id, ARN or `alias/…`), bound to `context`.
    public func generateDataKey(keyID: String, context: [String: String] = [:]) async throws(AWSError) -> DataKey {
        struct Req: Encodable {
            let KeyId: String
            let KeySpec: String
            let EncryptionContext: [String: String]?
        }
        struct Resp: Decodable {
            let Plaintext: String
            let CiphertextBlob: String
            let KeyId: String
        }
        let r = try await call(
            "GenerateDataKey",
            Req(KeyId: keyID, KeySpec: "AES_256", EncryptionContext: context.isEmpty ? nil : context),
            as: Resp.self
        )
        return DataKey(
            plaintext: try Self.blob(r.Plaintext, "Plaintext"),
            ciphertext: try Self.blob(r.CiphertextBlob, "CiphertextBlob"),
            keyID: r.KeyId
        )
    }

    public func encrypt(keyID: String, plaintext: [UInt8], context: [String: String] = [:]) async throws(AWSError) -> [UInt8] {
        struct Req: Encodable {
            let KeyId: String
            let Plaintext: String
            let EncryptionContext: [String: String]?
        }
        struct Resp: Decodable { let CiphertextBlob: String }
        let r = try await call(
            "Encrypt",
            Req(KeyId: keyID, Plaintext: Base64.encode(plaintext), EncryptionContext: context.isEmpty ? nil : context),
            as: Resp.self
        )
        return try Self.blob(r.CiphertextBlob, "CiphertextBlob")
    }

    /// Decrypts; with `keyID` set, KMS refuses ciphertext made under another key.
    public func decrypt(ciphertext: [UInt8], keyID: String? = nil, context: [String: String] = [:]) async throws(AWSError) -> [UInt8] {
        struct Req: Encodable {
            let CiphertextBlob: String
            let KeyId: String?
            let EncryptionContext: [String: String]?
        }
        struct Resp: Decodable { let Plaintext: String }
        let r = try await call(
            "Decrypt",
            Req(CiphertextBlob: Base64.encode(ciphertext), KeyId: keyID, EncryptionContext: context.isEmpty ? nil : context),
            as: Resp.self
        )
        return try Self.blob(r.Plaintext, "Plaintext")
    }

    /// Creates a symmetric key (tests and first setup); returns its key id.
    public func createKey(description: String) async throws(AWSError) -> String {
        struct Req: Encodable { let Description: String }
        struct Meta: Decodable { let KeyId: String }
        struct Resp: Decodable { let KeyMetadata: Meta }
        return try await call("CreateKey", Req(Description: description), as: Resp.self).KeyMetadata.KeyId
    }
}
