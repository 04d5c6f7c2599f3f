import Logging
import TFRegAPI
import TFRegCore
import TFRegJSON

/// Where `tfreg grant` reads and writes grants: the registry's store directly (`StoreGrantTarget`,
/// the administrator's path) or the registry's grants API as the caller (`APIGrantTarget`, with
/// `--registry`). The subcommands are written once against this.
protocol GrantTarget: Sendable {
    /// The identity as this target stores it (`token:NAME` becomes the current token's `token:NAME#ID`
    /// in the store; the API resolves names itself).
    func resolved(_ identity: Identity) async throws -> Identity
    func grants(in namespace: Namespace) async throws -> [Grant]
    func grants(for identity: Identity) async throws -> [Grant]
    func grant(for identity: Identity, in namespace: Namespace) async throws -> Grant?
    /// Refuses when the identity already has a grant in the namespace.
    func create(_ grant: Grant) async throws
    /// Refuses when the identity has no grant in the namespace.
    func update(_ grant: Grant) async throws
    /// Returns the identity whose grant was deleted; refuses when there is none.
    func delete(_ identity: Identity, in namespace: Namespace) async throws -> Identity
    /// Notes for standard error about an identity (the store's orphan grants).
    func notes(about identity: Identity) async throws -> [String]
}

/// The store opened directly: reads from it, writes through `RegistryService` as the operator
/// running the command (`local:USER@HOST`), so every change is logged (and, next, audited) in one place.
struct StoreGrantTarget: GrantTarget {
    let service: RegistryService
    let op: LocalOperator
    let logger: Logger

    init(store: any MetadataStore, op: LocalOperator = .current(), logger: Logger = LocalOperator.changeLogger("tfreg.grant")) {
        self.service = RegistryService(store: store)
        self.op = op
        self.logger = logger
    }

    var store: any MetadataStore { service.store }

    func resolved(_ identity: Identity) async throws -> Identity { try await store.resolvingTokenName(identity) }
    func grants(in namespace: Namespace) async throws -> [Grant] { try await store.grants(in: namespace) }
    func grants(for identity: Identity) async throws -> [Grant] { try await store.grants(for: identity) }
    func grant(for identity: Identity, in namespace: Namespace) async throws -> Grant? {
        try await store.grant(for: try await resolved(identity), in: namespace)
    }
    func create(_ grant: Grant) async throws { try await service.writeGrant(grant, mode: .create, by: op, logger: logger) }
    func update(_ grant: Grant) async throws { try await service.writeGrant(grant, mode: .update, by: op, logger: logger) }
    func delete(_ identity: Identity, in namespace: Namespace) async throws -> Identity {
        try await service.deleteGrant(for: identity, in: namespace, by: op, logger: logger)
    }
    func notes(about identity: Identity) async throws -> [String] {
        guard let name = identity.tokenName else { return [] }
        let orphans = try await store.orphanGrants(named: name)
        guard !orphans.isEmpty else { return [] }
        return [
            "note: \(orphans.count) orphan grant(s) for the name \(name) belong to no token and never apply: \(orphans.map { "\($0.identity) on '\($0.namespace)'" }.joined(separator: ", "))"
        ]
    }
}

struct APIGrantTarget: GrantTarget {
    let api: GrantAPIClient

    func resolved(_ identity: Identity) async throws -> Identity { identity }
    func grants(in namespace: Namespace) async throws -> [Grant] { try await api.list(namespace) }
    func grants(for identity: Identity) async throws -> [Grant] {
        throw CLIError("with --registry, give --namespace: the grants API lists one namespace at a time")
    }
    /// The API lists a static token as `token:NAME#ID`; `--token-name NAME` means the current one.
    func grant(for identity: Identity, in namespace: Namespace) async throws -> Grant? {
        try await api.list(namespace).first { listed in
            listed.identity == identity
                || (identity.tokenID == nil && identity.tokenName != nil && listed.identity.tokenName == identity.tokenName)
        }
    }
    func create(_ grant: Grant) async throws {
        if try await self.grant(for: grant.identity, in: grant.namespace) != nil {
            throw CLIError("a grant for \(grant.identity) on namespace '\(grant.namespace)' exists; use update")
        }
        try await api.put(grant)
    }
    func update(_ grant: Grant) async throws {
        guard try await self.grant(for: grant.identity, in: grant.namespace) != nil else {
            throw CLIError("no grant for \(grant.identity) on namespace '\(grant.namespace)'")
        }
        try await api.put(grant)
    }
    func delete(_ identity: Identity, in namespace: Namespace) async throws -> Identity {
        try await api.delete(identity, in: namespace)
        return identity
    }
    func notes(about identity: Identity) async throws -> [String] { [] }
}

/// Grants as text (a tab-separated table) or JSON (written by the project's JSON writer, so every
/// string is escaped). JSON fields in this order: namespace, identity, permissions (download, upload,
/// create_grant, delete_grant).
enum GrantOutput {
    static func document(_ g: Grant) -> JSONValue { g.jsonValue }

    /// A list (`grant list`): a JSON array, or the table.
    static func render(_ grants: [Grant], format: OutputFormat) -> String {
        switch format {
        case .json:
            return String(decoding: JSONValue.array(grants.map(document)).serialized(), as: UTF8.self) + "\n"
        case .text:
            var out = "NAMESPACE\tIDENTITY\tPERMISSIONS\n"
            for g in grants { out += "\(g.namespace)\t\(g.identity)\t\(g.permissions)\n" }
            return out
        }
    }

    /// One grant (`grant show`): a JSON object, or the table with one row.
    static func print(_ grant: Grant, format: OutputFormat) {
        switch format {
        case .json: printJSON(document(grant))
        case .text: print([grant], format: .text)
        }
    }

    static func print(_ grants: [Grant], format: OutputFormat) {
        writeStandardOutput(Array(render(grants, format: format).utf8))
    }
}
