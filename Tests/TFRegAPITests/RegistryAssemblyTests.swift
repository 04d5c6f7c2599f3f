import TFRegAPI
import TFRegCore
import TFRegTesting
import Testing

/// Issue 18 (item 5): the composition root `serve`, `lambda` and these tests build through.
@Suite struct RegistryAssemblyTests {
    let tokens = SealedTokens(keys: StaticTokenKeys(keys: [[UInt8](repeating: 9, count: 32)]), audience: "registry.example.com")

    func assembly(issuer: TokenIssuer?, frontEnd: FrontEndAudienceTokens?) -> RegistryAssembly {
        RegistryAssembly(
            store: InMemoryMetadataStore(),
            storage: MemoryBlobStore(stagingDirectory: "/nonexistent"),
            canonicalizer: FailingCanonicalizer(),
            tokenIssuer: issuer,
            frontEndTokens: frontEnd,
            linkKey: [UInt8](repeating: 7, count: 32),
            configuration: APIConfiguration(downloadLinkLifetime: 120, version: "test")
        )
    }

    @Test func staticTokensAlwaysSealedTokensWithAnIssuer() {
        let plain = assembly(issuer: nil, frontEnd: nil)
        #expect(plain.authenticator.members.count == 1 && plain.authenticator.members.first is StaticTokenAuthenticator)
        let iam = assembly(issuer: TokenIssuer(tokens: tokens, verifier: Refusing()), frontEnd: nil)
        #expect(iam.authenticator.members.count == 2 && iam.authenticator.members.last is SealedTokenAuthenticator)
        #expect(iam.api.tokenIssuer != nil)
    }

    @Test func frontEndTokensOnlyWithoutAnIssuer() {
        let frontEnd = FrontEndAudienceTokens { _ in tokens }
        #expect(assembly(issuer: nil, frontEnd: frontEnd).api.frontEndTokens != nil)
        #expect(assembly(issuer: TokenIssuer(tokens: tokens, verifier: Refusing()), frontEnd: frontEnd).api.frontEndTokens == nil)
    }

    @Test func linksLiveAsLongAsConfigured() {
        #expect(assembly(issuer: nil, frontEnd: nil).signer.lifetime == 120)
    }

    struct Refusing: CallerIdentityVerifier {
        func verify(_ request: SignedCallerIdentityRequest, audience: String) async throws(RegistryError) -> Identity {
            throw .unauthenticated("no")
        }
    }

    /// Nothing here publishes: any archive call fails.
    struct FailingCanonicalizer: ArchiveCanonicalizer {
        func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive { throw .internalError("x") }
    }
}
