import ArgumentParser
import Logging
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegStoreAWS

extension TFReg {
    struct ImportLegacy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-legacy",
            abstract: "Replace versions that point at users' S3 objects by the registry's own canonical copies.",
            discussion: """
                Versions written by the replaced tool (or registered without an archive bucket of the \
                registry's own) reference an object in a user's bucket, which its owner can overwrite: tfreg \
                checks such an object's SHA-256 on every download and refuses a mismatch. This command reads \
                each such object once, checks it still has the recorded SHA-256, writes the registry's \
                canonical copy of the same files into --storage, and points the version at it; later \
                downloads need no extra call and never depend on the user's object again. The recorded \
                digest becomes the canonical copy's. Objects that no longer match are reported and left \
                as they are. The users' objects are never modified.
                """)

        @OptionGroup var store: StoreOptions

        @Option(help: "The registry's own archive storage: s3://BUCKET[/PREFIX] (env: TFREG_STORAGE).")
        var storage: String?

        @Flag(help: "Only list the versions that would be imported.")
        var dryRun = false

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        func run() async throws {
            guard let url = storage ?? Env.value("TFREG_STORAGE"), url.hasPrefix("s3://") else {
                throw CLIFailure("import-legacy needs the registry's own bucket: --storage s3://BUCKET[/PREFIX] (or TFREG_STORAGE)")
            }
            let (metadata, archives) = try store.open(storage: url)
            print("metadata \(store.resolvedTable.map { "DynamoDB table " + $0 } ?? "data dir " + store.resolvedDataDirectory); archives \(url)")
            let legacy = try await metadata.allVersions(in: nil).filter { $0.location.bucket != nil }
                .sorted { ($0.module, $0.version.description) < ($1.module, $1.version.description) }
            for r in legacy { print("\(dryRun ? "would import" : "importing") \(r.module) \(r.version) from s3://\(r.location.bucket ?? "")/\(r.location.key)") }
            guard !legacy.isEmpty else {
                print("no versions reference users' objects: nothing to import")
                return
            }
            guard !dryRun else {
                print("\(legacy.count) version(s) would be imported (--dry-run: nothing changed)")
                return
            }
            try Confirmation.require("import \(legacy.count) version(s) into \(url)?", yes: yes)
            let service = RegistryService(store: metadata, storage: archives, canonicalizer: TarGzCanonicalizer())
            let logger = Logger(label: "tfreg.import-legacy")
            var failed = 0
            for r in legacy {
                do {
                    guard let updated = try await service.adopt(r, maximumBytes: APIConfiguration.defaultMaxUploadBytes, logger: logger) else {
                        throw CLIFailure("the storage has no bucket of its own")
                    }
                    print("imported \(r.module) \(r.version): sha256:\(updated.sha256) (was \(r.sha256))")
                } catch let e as RegistryError {
                    failed += 1
                    print("left \(r.module) \(r.version): \(e.detail.map { "\(e.message) (\($0))" } ?? e.message)")
                }
            }
            print("imported \(legacy.count - failed) of \(legacy.count) version(s)")
            if failed > 0 { throw CLIFailure("\(failed) version(s) could not be imported (see above); they stay as they were") }
        }
    }
}
