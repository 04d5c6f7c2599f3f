import Foundation
import TFRegAWS
import Testing

/// tfreg's own SigV4 and libcurl client against moto with signature checking on.
@Suite(.serialized, .enabled(if: MotoServer.available, "moto_server is not installed (make test installs it)"))
struct AWSMotoTests {
    @Test func signedCallsAreAcceptedAndWrongSecretsRejected() async throws {
        let moto = try MotoServer()
        let identity = try await STSClient(client: moto.client()).getCallerIdentity()
        #expect(identity.arn == "arn:aws:iam::123456789012:user/tfreg-test")
        #expect(identity.account == "123456789012")

        let error = await #expect(throws: AWSError.self) { try await STSClient(client: moto.client(secret: "wrong")).getCallerIdentity() }
        #expect(error?.kind == .authentication)
        #expect(error?.code == "SignatureDoesNotMatch")
        moto.stop()
    }

    @Test func aBackendThatIsDownIsANetworkError() async throws {
        let moto = try MotoServer()
        let client = moto.client()
        moto.stop()
        let error = await #expect(throws: AWSError.self) { try await STSClient(client: client).getCallerIdentity() }
        #expect(error?.kind == .network)
        #expect(error?.isRetryable == true)
    }
}
