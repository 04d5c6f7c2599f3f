import Foundation
import Logging
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegTesting
import Testing

/// The provider publish path end to end below HTTP (issue 20): a goreleaser-shaped release made with
/// Python's zipfile and signed by gpg, through `RegistryService.publishProvider` with the real zip
/// inspector, on the in-memory stores. Every refusal is a 400 naming the file.
@Suite("Provider publish")
final class ProviderPublishTests {
    let gpg: GPG
    let dir: String
    let fpr: String
    let stranger: String
    let store = InMemoryMetadataStore()
    let blobs: MemoryBlobStore
    let service: RegistryService
    let provider = try! ProviderAddress(namespace: "team-a", type: "demo")
    let admin = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/admin"))
    let writer = Principal(identity: try! Identity("arn:aws:iam::123456789012:role/writer"))
    let logger = Logger(label: "t")

    init() async throws {
        gpg = try GPG()
        dir = gpg.home + "/release"
        try FileManager.default.createDirectory(atPath: dir + "/staging", withIntermediateDirectories: true)
        fpr = try gpg.generate("Release <release@example.com>", algorithm: "ed25519")
        stranger = try gpg.generate("Stranger <stranger@example.com>", algorithm: "rsa2048")
        blobs = MemoryBlobStore(stagingDirectory: dir + "/staging")
        service = RegistryService(store: store, storage: blobs, canonicalizer: TarGzCanonicalizer(), clock: TestClock(1_790_000_000))
        try await store.putGrant(
            Grant(namespace: provider.namespace, identity: admin.identity, permissions: Permissions(download: true, createGrant: true)),
            mode: .upsert
        )
        try await store.putGrant(
            Grant(namespace: provider.namespace, identity: writer.identity, permissions: Permissions(download: true, upload: true)),
            mode: .upsert
        )
    }

    deinit { gpg.close() }

    func zip(_ files: [String: String]) throws -> [UInt8] {
        let path = dir + "/z-\(UUID().uuidString).zip"
        let pairs = files.map { "(\(pyString($0.key)), \(pyString($0.value)))" }.joined(separator: ", ")
        let script =
            "import zipfile\nwith zipfile.ZipFile(\(pyString(path)), 'w', zipfile.ZIP_DEFLATED) as z:\n    for n, d in [\(pairs)]: z.writestr(n, d)\n"
        try gpg.runTool("/usr/bin/python3", ["-c", script])
        return try gpg.read(path)
    }

    func pyString(_ s: String) -> String {
        "'" + s.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "'", with: "\\'")
            + "'"
    }

    func stage(_ bytes: [UInt8]) throws -> StagedArchive {
        let path = dir + "/staging/u-\(UUID().uuidString)"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return StagedArchive(path: path, size: Int64(bytes.count), sha256: Hex.encode(SHA256.hash(bytes)))
    }

    static func sums(_ files: [String: [UInt8]]) -> [UInt8] {
        Array(files.sorted { $0.key < $1.key }.map { "\(Hex.encode(SHA256.hash($0.value)))  \($0.key)\n" }.joined().utf8)
    }

    /// A release: two platform zips, SHA256SUMS over them, a signature by `signer`; `change` may alter it.
    func release(
        version: String = "1.0.0",
        signer: String? = nil,
        change: (inout [String: [UInt8]], inout [UInt8], inout [UInt8]) throws -> Void = { _, _, _ in }
    ) throws -> ProviderReleaseUpload {
        let base = "terraform-provider-demo_\(version)"
        var zips: [String: [UInt8]] = [:]
        for platform in ["linux_amd64", "darwin_arm64"] {
            zips["\(base)_\(platform).zip"] = try zip(["terraform-provider-demo_v\(version)": "#!/bin/sh\necho \(platform)\n", "LICENSE": "MIT\n"])
        }
        var sums = Self.sums(zips)
        var signature = try gpg.sign(sums, key: signer ?? fpr)
        try change(&zips, &sums, &signature)
        return ProviderReleaseUpload(
            provider: provider,
            version: try Version(version),
            shasums: try stage(sums),
            signature: try stage(signature),
            zips: try zips.mapValues { try stage($0) }
        )
    }

    func refused(_ upload: ProviderReleaseUpload, naming file: String, _ what: String) async {
        do {
            _ = try await service.publishProvider(upload, caller: writer, inspector: ZipProviderInspector(), logger: logger)
            Issue.record("\(what) was published")
        } catch {
            #expect(error.code == .badRequest, "\(what): \(error)")
            #expect(error.message.contains(file), "\(what): \(error.message) does not name \(file)")
        }
    }

    func registerKey() async throws {
        let armored = [UInt8](try gpg.gpg(["--export", "--armor", fpr]))
        let key = try await service.addSigningKey(armored: armored, in: provider.namespace, caller: admin, logger: logger)
        #expect(key.fingerprint == fpr)
    }

    @Test("A signed two-platform release publishes with each package's h1:; the version is then immutable")
    func publishes() async throws {
        try await registerKey()
        let record = try await service.publishProvider(try release(), caller: writer, inspector: ZipProviderInspector(), logger: logger)
        #expect(record.keyFingerprint == fpr)
        #expect(record.packages.map(\.platform.description) == ["darwin_arm64", "linux_amd64"])
        #expect(record.packages.allSatisfy { $0.h1.hasPrefix("h1:") && $0.h1.count == 47 })
        #expect(record.packages[0].h1 != record.packages[1].h1)
        #expect(record.protocols == ["5.0"])
        #expect(await blobs.object(at: record.shasums.location) != nil)
        #expect(record.signature.location.key.hasSuffix("_SHA256SUMS.sig"))
        #expect(try await store.providerVersion(try Version("1.0.0"), of: provider) == record)
        do {
            _ = try await service.publishProvider(try release(), caller: writer, inspector: ZipProviderInspector(), logger: logger)
            Issue.record("a second 1.0.0 was published")
        } catch let error as RegistryError { #expect(error.code == .conflict) }
    }

    @Test("Refused with 400 naming the file: tampered zip, wrong signature, unregistered key, missing or unlisted platform, bad package")
    func refusals() async throws {
        let base = "terraform-provider-demo_1.0.0"
        await refused(try release(), naming: "\(base)_SHA256SUMS.sig", "a release while the namespace has no key")
        try await registerKey()
        await refused(
            try release { zips, _, _ in zips["\(base)_linux_amd64.zip"]! += [0] },
            naming: "\(base)_linux_amd64.zip",
            "a tampered zip"
        )
        await refused(try release { _, sums, _ in sums += Array("\n".utf8) }, naming: "\(base)_SHA256SUMS.sig", "SHA256SUMS changed after signing")
        await refused(try release { _, _, sig in sig[sig.count - 5] ^= 1 }, naming: "\(base)_SHA256SUMS.sig", "a corrupted signature")
        await refused(try release(signer: stranger), naming: "\(base)_SHA256SUMS.sig", "a release signed by an unregistered key")
        await refused(
            try release { zips, _, _ in zips["\(base)_darwin_arm64.zip"] = nil },
            naming: "\(base)_darwin_arm64.zip",
            "a listed zip not uploaded"
        )
        await refused(
            try release { zips, _, _ in zips["\(base)_windows_amd64.zip"] = try self.zip(["terraform-provider-demo.exe": "x"]) },
            naming: "\(base)_windows_amd64.zip",
            "an unlisted zip"
        )
        let noBinary = try zip(["README.md": "no provider here"])
        await refused(
            try release { zips, sums, sig in
                zips["\(base)_linux_amd64.zip"] = noBinary
                sums = Self.sums(zips)
                sig = try self.gpg.sign(sums, key: self.fpr)
            },
            naming: "\(base)_linux_amd64.zip",
            "a package without the provider executable"
        )
        #expect(try await store.providerVersions(of: provider).isEmpty)
    }

    @Test("Keys: create_grant registers and removes; upload alone may not; a secret key is refused")
    func keys() async throws {
        let armored = [UInt8](try gpg.gpg(["--export", "--armor", fpr]))
        do {
            _ = try await service.addSigningKey(armored: armored, in: provider.namespace, caller: writer, logger: logger)
            Issue.record("upload alone registered a key")
        } catch { #expect(error.code == .forbidden) }
        let secret = [UInt8](try gpg.gpg(["--export-secret-keys", "--armor", fpr]))
        do {
            _ = try await service.addSigningKey(armored: secret, in: provider.namespace, caller: admin, logger: logger)
            Issue.record("a secret key was registered")
        } catch { #expect(error.code == .badRequest) }
        try await registerKey()
        #expect(try await service.signingKeys(in: provider.namespace, caller: writer).map(\.fingerprint) == [fpr])
        try await service.removeSigningKey(fingerprint: fpr, in: provider.namespace, caller: admin, logger: logger)
        #expect(try await store.signingKeys(in: provider.namespace).isEmpty)
    }
}
