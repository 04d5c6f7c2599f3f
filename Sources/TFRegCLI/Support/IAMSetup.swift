import ArgumentParser
import Glibc
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegServer
import TFRegStoreAWS
import TFRegStoreLocal

/// IAM authentication for `serve`: sealed tokens with keys from KMS (`IAM_AUTH_KMS_KEY`, envelope
/// encryption) or a local key file, and STS to check presigned GetCallerIdentity requests.
/// Shared by `serve` and `lambda` (`RegistryAssembly`).
enum IAMSetup {
    /// `MAX_IAM_TOKEN_EXPIRATION_WINDOW`, 60…43200 seconds, default 3600.
    static func maxLifetime(_ env: [String: String]) throws -> Int64 {
        guard let v = env["MAX_IAM_TOKEN_EXPIRATION_WINDOW"], !v.isEmpty else { return 3600 }
        guard let n = Int64(v), (60...43200).contains(n) else {
            throw CLIError.configuration("MAX_IAM_TOKEN_EXPIRATION_WINDOW must be 60...43200 seconds, got '\(v)'")
        }
        return n
    }

    /// Keys from KMS when `IAM_AUTH_KMS_KEY` is set, else from the local key file in `localKeyDirectory`;
    /// nil (IAM off) without an audience, or without either key source.
    static func issuer(
        audience: String?,
        maxLifetime: Int64,
        env: [String: String],
        aws: () throws -> AWSClient,
        localKeyDirectory: String?,
        replayGuard: any ReplayGuard
    ) throws -> TokenIssuer? {
        guard let audience, let source = RegistryAssembly.IAMKeys(env: env, localKeyDirectory: localKeyDirectory) else { return nil }
        let keys: any TokenKeySource
        let client: AWSClient?
        switch source {
        case .kms(let kmsKey):
            let aws = try aws()
            client = aws
            keys = KMSTokenKeys(kms: KMSClient(client: aws), keyID: kmsKey, audience: audience)
        case .dataDirectory(let dir):
            client = nil
            keys = StaticTokenKeys(keys: try LocalTokenKeys.loadOrCreate(dataDirectory: dir))
        }
        let http = client?.http ?? RegistryClient.make(environment: env)
        let verifier = STSCallerIdentityVerifier(http: http, environment: env)
        return TokenIssuer(
            tokens: SealedTokens(keys: keys, audience: audience, maxLifetime: maxLifetime),
            verifier: verifier,
            replayGuard: replayGuard
        )
    }
}
