/// Registry metadata: module versions, grants, static-token hashes.
///
/// Shaped for a key-value store with range queries (DynamoDB: partition = namespace, sort key by item
/// kind), so every read is a point lookup or a query within one namespace, except `allVersions(in: nil)`
/// and `grants(for:)` (administrative).
/// Implementations throw `RegistryError` only: `.conflict` for a failed condition, `.unavailable` when the
/// backend cannot be reached.
///
/// The requirements live in one protocol per concern, each in its own file with its own section
/// of the conformance suite (`MetadataStoreConformance`): `ModuleStore` (versions, tombstones,
/// deprecation, summaries), `GrantStore`, `TokenStore` (static tokens and orphan grants). Code that
/// needs one concern may take that protocol; the stores (SQLite, DynamoDB, in-memory) implement all
/// of them on one backend, because a grant write checks the token table in the same transaction.
///
/// `ProviderStore` (private providers: versions, platforms, signing keys; issue 20) is the fourth, in
/// `ProviderStore.swift`, with its own `+Providers` file in each store and conformance section.
///
/// `AuditStore` (the queryable audit trail, issue 21) is part of the composition too: each store keeps
/// its events on the same backend (`+Audit` files, conformance section `+Audit`).
public protocol MetadataStore: ModuleStore, GrantStore, TokenStore, ProviderStore, AuditStore {}
