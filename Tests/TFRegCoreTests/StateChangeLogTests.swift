import Logging
import TFRegTesting
import Testing

@testable import TFRegCore

/// Every state change goes through `RegistryService` and writes exactly one log line naming the
/// principal that made it (`by`): a caller's identity over the API, `local:USER@HOST` for the CLI on the
/// store. One test per use case; no line carries a token or its hash.
@Suite struct StateChangeLogTests {
    let store = InMemoryMetadataStore()
    let clock = TestClock(1_000)
    var service: RegistryService { RegistryService(store: store, storage: NullStorage(), canonicalizer: AcceptAll(), clock: clock) }
    let module = try! ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
    let admin = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/admin"))
    let op = LocalOperator(user: "alice", host: "build-01")
    let log = LogCapture()

    init() async throws {
        try await store.putGrant(
            Grant(
                namespace: module.namespace,
                identity: admin.identity,
                permissions: Permissions(download: true, upload: true, createGrant: true, deleteGrant: true)
            ),
            mode: .create
        )
    }

    /// The one line with `message`, and every change line (`by` set) there is: exactly one.
    func line(_ message: String) throws -> LogCapture.Line {
        #expect(log.all.filter { $0.metadata["by"] != nil }.count == 1, "\(log.all.map(\.message))")
        return try #require(log.lines(message).first, "\(log.all.map(\.message))")
    }

    func publish(_ version: String) async throws {
        let staged = StagedArchive(path: "/nonexistent/tfreg-staged", size: 1, sha256: "ab")
        _ = try await service.publish(staged, version: try Version(version), of: module, caller: admin, logger: Logger(label: "setup"))
    }

    @Test func publishNamesTheCaller() async throws {
        let staged = StagedArchive(path: "/nonexistent/tfreg-staged", size: 1, sha256: "ab")
        _ = try await service.publish(staged, version: try Version("1.0.0"), of: module, caller: admin, logger: log.logger())
        #expect(try line("published module version").metadata["by"] == admin.identity.value)
    }

    @Test func deleteNamesTheCaller() async throws {
        try await publish("1.0.0")
        try await service.deleteVersion(try Version("1.0.0"), of: module, caller: admin, logger: log.logger())
        #expect(try line("deleted module version").metadata["by"] == admin.identity.value)
    }

    @Test func deprecateAndUndeprecateNameTheCaller() async throws {
        try await publish("1.0.0")
        _ = try await service.deprecate(try Version("1.0.0"), of: module, reason: "old", replacement: nil, caller: admin, logger: log.logger())
        #expect(try line("version deprecated").metadata["by"] == admin.identity.value)
        let again = LogCapture()
        _ = try await service.deprecate(try Version("1.0.0"), of: module, reason: nil, replacement: nil, caller: admin, logger: again.logger())
        #expect(again.lines("version undeprecated").first?.metadata["by"] == admin.identity.value)
    }

    @Test func grantWritesOverTheAPINameTheCaller() async throws {
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        try await service.putGrant(
            Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true)),
            caller: admin,
            logger: log.logger()
        )
        let granted = try line("granted")
        #expect(granted.metadata["by"] == admin.identity.value && granted.metadata["identity"] == ci.value)
        let deleted = LogCapture()
        try await service.deleteGrant(for: ci, in: module.namespace, caller: admin, logger: deleted.logger())
        #expect(deleted.lines("revoked grant").first?.metadata["by"] == admin.identity.value)
    }

    @Test func grantWritesOnTheStoreNameTheOperator() async throws {
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        let grant = Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true))
        try await service.writeGrant(grant, mode: .create, by: op, logger: log.logger())
        #expect(try line("granted").metadata["by"] == "local:alice@build-01")
        #expect(try await store.grant(for: ci, in: module.namespace) == grant)
        // The store's rules stay: create refuses an existing grant, update a missing one.
        await #expect(throws: RegistryError.self) { try await service.writeGrant(grant, mode: .create, by: op, logger: log.logger()) }
        let deleted = LogCapture()
        #expect(try await service.deleteGrant(for: ci, in: module.namespace, by: op, logger: deleted.logger()) == ci)
        #expect(deleted.lines("revoked grant").first?.metadata["by"] == "local:alice@build-01")
        await #expect(throws: RegistryError.notFound("")) {
            try await service.deleteGrant(for: ci, in: module.namespace, by: op, logger: deleted.logger())
        }
        #expect(deleted.all.count == 1)
    }

    @Test func staticTokensOnTheStoreNameTheOperatorNeverTheToken() async throws {
        let name = try Identity.token(named: "ci")
        let (identity, token) = try await service.createStaticToken(named: name, discardingOrphans: false, by: op, logger: log.logger())
        let created = try line("created static token")
        #expect(created.metadata["by"] == "local:alice@build-01" && created.metadata["identity"] == identity.value)
        #expect(StaticTokenAuthenticator.isWellFormed(token))
        #expect(try await store.staticTokenIdentity(hash: StaticTokenAuthenticator.digest(of: token)) == identity)
        try await store.putGrant(Grant(namespace: module.namespace, identity: identity, permissions: Permissions(download: true)), mode: .create)
        let revoked = LogCapture()
        let (gone, grants) = try await service.revokeStaticToken(named: name, by: op, logger: revoked.logger())
        #expect(gone == identity && grants == 1)
        #expect(revoked.lines("revoked static token").first?.metadata["by"] == "local:alice@build-01")
        await #expect(throws: RegistryError.notFound("")) { try await service.revokeStaticToken(named: name, by: op, logger: revoked.logger()) }
        for line in log.all + revoked.all {
            for value in line.metadata.values {
                #expect(!value.contains(token) && !value.contains(StaticTokenAuthenticator.digest(of: token)))
            }
        }
    }

    @Test func tokenIssuanceNamesTheCaller() async throws {
        let tokens = SealedTokens(keys: StaticTokenKeys(keys: [[UInt8](repeating: 9, count: 32)]), audience: "registry.example.com", clock: clock)
        let (token, _) = try await service.issueToken(for: admin, requestedLifetime: 60, with: tokens, logger: log.logger())
        let issued = try line("issued token")
        #expect(issued.metadata["by"] == admin.identity.value && issued.metadata["via"] == "front end")
        #expect(!issued.metadata.values.contains { $0.contains(token) })

        let exchanged = LogCapture()
        let issuer = TokenIssuer(tokens: tokens, verifier: FixedVerifier(identity: admin.identity))
        let request = SignedCallerIdentityRequest(method: "POST", url: "https://sts.amazonaws.com/", headers: [], body: "")
        let result = try await service.issueToken(exchanging: request, requestedLifetime: nil, with: issuer, logger: exchanged.logger())
        #expect(result.identity == admin.identity)
        #expect(exchanged.lines("issued token").first?.metadata["by"] == admin.identity.value)
    }

    @Test func aServiceWithoutArchivesManagesGrants() async throws {
        let grantsOnly = RegistryService(store: store, clock: clock)
        let ci = try Identity("arn:aws:iam::123456789012:role/ci")
        try await grantsOnly.writeGrant(
            Grant(namespace: module.namespace, identity: ci, permissions: Permissions(download: true)),
            mode: .create,
            by: op,
            logger: log.logger()
        )
        let staged = StagedArchive(path: "/nonexistent/tfreg-staged", size: 1, sha256: "ab")
        await #expect(throws: RegistryError.internalError("")) {
            try await grantsOnly.publish(staged, version: try Version("1.0.0"), of: module, caller: admin, logger: log.logger())
        }
    }

    @Test(arguments: [
        ("alice", "build-01", "local:alice@build-01"),
        ("", "", "local:unknown@unknown"),
        ("a b\nc", "host:1@x", "local:a_b_c@host_1_x"),
        ("ünï", "h", "local:_n_@h"),
    ])
    func localOperatorsAreCleaned(_ user: String, _ host: String, _ expected: String) {
        #expect(LocalOperator(user: user, host: host).description == expected)
    }

    @Test func longNamesAreCut() {
        #expect(LocalOperator(user: String(repeating: "u", count: 200), host: "h").user.count == 64)
    }
}

struct FixedVerifier: CallerIdentityVerifier {
    let identity: Identity
    func verify(_ request: SignedCallerIdentityRequest, audience: String) async throws(RegistryError) -> Identity { identity }
}
