import TFRegCore

extension MetadataStoreConformance {
    /// A provider version record with two platforms, for the conformance checks.
    public static func providerRecord(_ p: ProviderAddress, _ v: String, at: Int64 = 1) throws -> ProviderVersionRecord {
        let blob = { (name: String, hex: Character) in
            ProviderBlob(location: ArchiveLocation(key: "sha256/\(hex)\(hex)/\(name)"), sha256: String(repeating: hex, count: 64), size: 42)
        }
        return ProviderVersionRecord(
            provider: p,
            version: try Version(v),
            protocols: ["5.0", "6.0"],
            packages: [
                ProviderPackageRecord(
                    platform: try ProviderPlatform("linux_amd64"),
                    filename: "terraform-provider-\(p.type)_\(v)_linux_amd64.zip",
                    zip: blob("a.zip", "a"),
                    h1: "h1:AAAA"
                ),
                ProviderPackageRecord(
                    platform: try ProviderPlatform("darwin_arm64"),
                    filename: "terraform-provider-\(p.type)_\(v)_darwin_arm64.zip",
                    zip: blob("b.zip", "b"),
                    h1: "h1:BBBB"
                ),
            ],
            shasums: blob("c_SHA256SUMS", "c"),
            signature: blob("d_SHA256SUMS.sig", "d"),
            keyFingerprint: String(repeating: "F", count: 40),
            publishedAt: at,
            publishedBy: "token:t"
        )
    }

    /// `ProviderStore`: round trip of every field, immutability by precedence (also after a delete),
    /// deprecation, namespace isolation, signing keys.
    public static func providerStore(_ store: any ProviderStore) async throws {
        let p = try ProviderAddress(namespace: "provns", type: "demo")
        let other = try ProviderAddress(namespace: "provns", type: "demo-two")
        let elsewhere = try ProviderAddress(namespace: "otherns", type: "demo")
        try await expect(store.providerVersions(of: p).isEmpty, "a new store has no provider versions")

        let r1 = try providerRecord(p, "1.0.0")
        try await store.insertProviderVersion(r1)
        try await store.insertProviderVersion(try providerRecord(p, "1.1.0-beta.1", at: 2))
        try await store.insertProviderVersion(try providerRecord(other, "1.0.0"))
        try await store.insertProviderVersion(try providerRecord(elsewhere, "1.0.0"))
        let read = try requireValue(try await store.providerVersion(try Version("1.0.0"), of: p), "provider version")
        try expect(read == r1, "a provider version reads back exactly: \(read) vs \(r1)")
        try expect(read.packages.map(\.platform.description) == ["darwin_arm64", "linux_amd64"], "packages sorted by platform")
        try await expect(Set(store.providerVersions(of: p).map(\.version.description)) == ["1.0.0", "1.1.0-beta.1"], "versions of one provider only")
        try await expect(store.allProviderVersions(in: p.namespace).count == 3, "all provider versions of a namespace")
        try await expect(store.allProviderVersions(in: nil).count >= 4, "all provider versions of the registry")
        try await expect(store.providerVersion(try Version("9.9.9"), of: p) == nil, "an unknown version is nil")

        try await refused(.conflict, "inserting the same provider version again") { try await store.insertProviderVersion(r1) }
        try await refused(.conflict, "inserting a version of the same precedence") {
            try await store.insertProviderVersion(try providerRecord(p, "1.0.0+build"))
        }

        let deprecation = Deprecation(reason: "use 2.x", replacement: "2.0.0", at: 5, by: "token:t")
        let deprecated = try await store.setProviderDeprecation(deprecation, version: try Version("1.0.0"), of: p)
        try expect(deprecated?.deprecation == deprecation, "deprecation is returned")
        try await expect(store.providerVersion(try Version("1.0.0"), of: p)?.deprecation == deprecation, "deprecation reads back")
        try await expect(
            store.setProviderDeprecation(nil, version: try Version("1.0.0"), of: p)?.deprecation == nil,
            "deprecation clears"
        )
        try await expect(store.setProviderDeprecation(deprecation, version: try Version("3.0.0"), of: p) == nil, "deprecating nothing is nil")

        let removed = try await store.tombstoneProviderVersion(try Version("1.0.0"), of: p, at: 9, by: "token:t")
        try expect(removed?.version.description == "1.0.0", "delete returns the removed version")
        try await expect(store.providerVersion(try Version("1.0.0"), of: p) == nil, "a deleted version is gone")
        try await expect(
            store.tombstoneProviderVersion(try Version("1.0.0"), of: p, at: 9, by: nil) == nil,
            "deleting again returns nil"
        )
        try await refused(.conflict, "reusing a deleted provider version number") { try await store.insertProviderVersion(r1) }
        try await expect(store.providerVersion(try Version("1.0.0"), of: other) != nil, "another provider keeps its version")

        // Signing keys, per namespace.
        let ns = p.namespace
        let key = ProviderSigningKey(
            namespace: ns,
            fingerprint: String(repeating: "A", count: 40),
            keyID: String(repeating: "A", count: 16),
            asciiArmor: "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nxx\n-----END PGP PUBLIC KEY BLOCK-----\n",
            addedAt: 3,
            addedBy: "token:t"
        )
        try await store.addSigningKey(key)
        var second = key
        second.fingerprint = String(repeating: "0", count: 40)
        try await store.addSigningKey(second)
        try await refused(.conflict, "registering a key twice") { try await store.addSigningKey(key) }
        try await expect(store.signingKeys(in: ns) == [second, key], "keys read back sorted by fingerprint")
        try await expect(store.signingKeys(in: elsewhere.namespace).isEmpty, "keys stay in their namespace")
        try await expect(store.removeSigningKey(fingerprint: key.fingerprint, in: ns), "removing a key")
        try await expect(!(store.removeSigningKey(fingerprint: key.fingerprint, in: ns)), "removing it again is false")
        try await expect(store.signingKeys(in: ns) == [second], "one key left")

        try await mirroredProviders(store, own: p, ownKey: second)
    }

    /// Providers mirrored from another registry (`origin`): filed apart from the own namespace of the
    /// same name (versions, precedence, keys), read back with their origin, seen by the registry-wide
    /// listing (gc, backup) but not by an own namespace's.
    static func mirroredProviders(_ store: any ProviderStore, own p: ProviderAddress, ownKey: ProviderSigningKey) async throws {
        let m = try ProviderAddress(origin: "registry.terraform.io", namespace: p.namespace.value, type: p.type)
        let r = try providerRecord(m, "1.0.0")
        // 1.0.0 of the own provider was deleted above; the mirrored one is another provider.
        try await store.insertProviderVersion(r)
        let read = try requireValue(try await store.providerVersion(try Version("1.0.0"), of: m), "mirrored provider version")
        try expect(read == r && read.provider.origin == "registry.terraform.io", "a mirrored version reads back with its origin: \(read)")
        try await expect(store.providerVersions(of: m).map(\.version.description) == ["1.0.0"], "a mirrored provider's versions")
        try await expect(
            !(store.providerVersions(of: p).contains { $0.provider.origin != nil }),
            "an own provider's versions never include a mirrored one"
        )
        try await expect(
            !(store.allProviderVersions(in: p.namespace).contains { $0.provider.origin != nil }),
            "an own namespace's listing leaves mirrored providers out"
        )
        try await expect(store.allProviderVersions(in: nil).contains { $0.provider == m }, "the registry-wide listing has mirrored providers")
        try await refused(.conflict, "a mirrored version is immutable too") { try await store.insertProviderVersion(r) }
        let other = try ProviderAddress(origin: "mirror.example.org", namespace: p.namespace.value, type: p.type)
        try await store.insertProviderVersion(try providerRecord(other, "1.0.0"))
        try await expect(store.providerVersions(of: other).count == 1, "another origin is another provider")

        var upstream = ownKey
        upstream.origin = "registry.terraform.io"
        try await store.addSigningKey(upstream)
        try await expect(
            store.signingKeys(in: p.namespace, origin: "registry.terraform.io") == [upstream],
            "an upstream key reads back with its origin"
        )
        try await expect(store.signingKeys(in: p.namespace) == [ownKey], "an upstream key is not the own namespace's")
        try await expect(store.signingKeys(in: p.namespace, origin: "mirror.example.org").isEmpty, "keys stay with their origin")
    }
}
