import Glibc
import Logging
import TFRegSystem

public struct Page<Item: Sendable>: Sendable {
    public let items: [Item]
    public let offset: Int
    public let limit: Int
    public let nextOffset: Int?
    public let previousOffset: Int?
}

/// Filters for listing and search.
public struct ModuleQuery: Sendable {
    public var namespace: Namespace?
    public var text: String?
    public var system: String?
    public var offset: Int
    public var limit: Int

    public static let defaultLimit = 15
    public static let maximumLimit = 100

    public init(namespace: Namespace? = nil, text: String? = nil, system: String? = nil, offset: Int = 0, limit: Int = defaultLimit) {
        self.namespace = namespace
        self.text = text
        self.system = system
        self.offset = offset
        self.limit = limit
    }
}

/// The registry's use cases, independent of transport and backend. Every method that touches a
/// namespace checks the caller's grant first: deny by default, 401 without a caller, 403 without the
/// permission, and only then 404 (so a caller without access cannot probe what exists).
///
/// Every state change goes through here, with the principal making it: a caller the registry
/// authenticated (`Principal`), or an operator running the CLI on the store (`LocalOperator`, trusted,
/// as whoever can open the store is). Each writes exactly one log line naming it (`by=`, through
/// `changed`), which records its audit event (`RegistryService+Audit.swift`). No other code writes grants, tokens
/// or versions; the exceptions are `tfreg restore` (a whole database file, server stopped) and
/// `tfreg gc` (only archives no version references).
public struct RegistryService: Sendable {
    public let store: any MetadataStore
    public let storage: any BlobStore
    public let canonicalizer: any ArchiveCanonicalizer
    public let clock: any WallClock
    /// Extracts a version's documentation when it is stored (publish, create, import-legacy,
    /// reindex); nil: versions are stored without documentation (`RegistryService+Documentation`).
    public let documenter: (any ModuleDocumenter)?
    /// Where each change's audit event goes (`changed`): the store (`StoreAuditSink`); `RegistryAssembly`
    /// adds the JSON line on standard error (`AuditLine`) for `serve` and `lambda` (the CLI on the store
    /// keeps its standard error for its own messages).
    public var auditSinks: [any AuditSink]
    /// Counts download URLs issued (`download`), flushed to the summaries by the transport
    /// (`DownloadCounter`); nil: downloads are not counted (the CLI on the store).
    public var downloadCounter: DownloadCounter?
    /// The namespace mirrored providers are authorized under and the upstreams that may be imported
    /// (`tfreg mirror pull`; `serve --mirror-namespace`, `--mirror-allow`).
    public var mirror = MirrorSettings()

    public init(
        store: any MetadataStore,
        storage: any BlobStore,
        canonicalizer: any ArchiveCanonicalizer,
        clock: any WallClock = SystemClock(),
        documenter: (any ModuleDocumenter)? = nil
    ) {
        self.store = store
        self.storage = storage
        self.canonicalizer = canonicalizer
        self.clock = clock
        self.documenter = documenter
        self.auditSinks = [StoreAuditSink(store: store)]
    }

    /// A service for the use cases that need only the metadata store: grants and static tokens managed
    /// on the store (`tfreg grant`) and token issuance. Opening an archive storage there would create
    /// directories or need a bucket for nothing; a module use case on this service is an internal error.
    public init(store: any MetadataStore, clock: any WallClock = SystemClock()) {
        self.init(store: store, storage: NoArchiveStorage(), canonicalizer: NoArchiveStorage(), clock: clock)
    }

    // MARK: Authorization

    /// Returns the caller's grant if it allows `permission` in `namespace`.
    @discardableResult
    public func authorize(_ caller: Principal?, _ permission: Permission, in namespace: Namespace) async throws(RegistryError) -> Grant {
        guard let caller else {
            throw .unauthenticated("authentication required: send 'Authorization: Bearer TOKEN'")
        }
        guard let grant = try await store.grant(for: caller.identity, in: namespace), grant.permissions.allows(permission) else {
            throw .forbidden("missing '\(permission.rawValue)' permission on namespace '\(namespace)'")
        }
        return grant
    }

    static func metadata(_ grant: Grant) -> Logger.Metadata {
        ["namespace": "\(grant.namespace)", "identity": "\(grant.identity)", "permissions": "\(grant.permissions)"]
    }

}
