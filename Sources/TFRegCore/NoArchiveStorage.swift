/// The archive side of a service built with `RegistryService.init(store:clock:)`: never reached by the
/// use cases such a service is for; any call is an internal error.
struct NoArchiveStorage: BlobStore, ArchiveCanonicalizer {
    var stagingDirectory: String { "/nonexistent" }
    var acceptsWrites: Bool { false }
    static var unavailable: RegistryError { .internalError("this service manages grants and tokens only; it has no archive storage") }
    func put(_ staged: StagedArchive, kind: BlobKind) async throws(RegistryError) -> ArchiveLocation { throw Self.unavailable }
    func settle(_ staged: StagedArchive, at location: ArchiveLocation) async throws(RegistryError) { throw Self.unavailable }
    func head(_ location: ArchiveLocation) async throws(RegistryError) -> ExistingArchive? { throw Self.unavailable }
    func get(_ location: ArchiveLocation, limit: Int64) async throws(RegistryError) -> StagedArchive? { throw Self.unavailable }
    func remove(_ location: ArchiveLocation) async throws(RegistryError) { throw Self.unavailable }
    func delivery(of location: ArchiveLocation, sha256: String, expiresIn seconds: Int) async throws(RegistryError) -> ArchiveDelivery {
        throw Self.unavailable
    }
    func localFile(for location: ArchiveLocation) async throws(RegistryError) -> LocalArchiveFile { throw Self.unavailable }
    func isCanonicalKey(_ key: String) -> Bool { false }
    func canonicalize(input: String, output: String) throws(RegistryError) -> CanonicalArchive { throw Self.unavailable }
}
