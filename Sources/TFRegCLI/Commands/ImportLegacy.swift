import ArgumentParser
import Logging
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegStoreAWS
import TFRegStoreLocal
import TFRegSystem

extension TFReg {
    struct ImportLegacy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "import-legacy",
            abstract: "Give every version the registry's own canonical archive (users' S3 objects, archives stored before canonicalization).",
            discussion: """
                Versions written by the replaced tool (or registered without an archive bucket of the \
                registry's own) reference an object in a user's bucket, which its owner can overwrite: tfreg \
                checks such an object's SHA-256 on every download and refuses a mismatch. This command reads \
                each such object once, checks it still has the recorded SHA-256, writes the registry's \
                canonical copy of the same files into --storage, and points the version at it; later \
                downloads need no extra call and never depend on the user's object again. The recorded \
                digest becomes the canonical copy's. Objects that no longer match are reported and left \
                as they are. The users' objects are never modified. Archives an older tfreg stored as \
                uploaded (before the registry wrote canonical archives) are re-read through the strict reader \
                and replaced by their canonical copy the same way; one the strict reader refuses is reported \
                and left (delete or deprecate that version). Without --storage the local data directory is \
                the registry's storage. On a DynamoDB table it also lists the grants the replaced tool wrote \
                under a role ARN with a path (arn:aws:iam::ACCT:role/PATH/NAME): tfreg matches them by account and \
                role name, as an assumed-role caller (whose ARN has no path) requires, and leaves them as written. \
                It also refreshes every module's listing summary: a table written before summaries existed \
                (by an older tfreg or the replaced tool) lists a module only once it has one (or after its \
                next publish, delete or deprecation).
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The registry's own archive storage: s3://BUCKET[/PREFIX] (env: TFREG_STORAGE; default: the data directory).")
        var storage: String?

        @Flag(help: "Only list the versions that would be imported.")
        var dryRun = false

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        func run() async throws {
            let url = Setting("--storage", env: "TFREG_STORAGE").text(storage)?.value
            let (metadata, archives) = try store.open(storage: url, creating: false)
            store.announce()
            let where_ = url ?? "data dir \(store.resolvedDataDirectory)"
            print("metadata \(store.resolvedTable.map { "DynamoDB table " + $0 } ?? "data dir " + store.resolvedDataDirectory); archives \(where_)")
            if let table = metadata as? DynamoDBMetadataStore { try await reportRoleGrantsWithPath(table) }
            let service = RegistryService(store: metadata, storage: archives, canonicalizer: TarGzCanonicalizer())
            let everything = try await metadata.allVersions(in: nil)
            // Tables written before module summaries (an older tfreg, the replaced tool) have none: the
            // listing shows a module once its summary exists. Refreshing is idempotent and changes no version.
            let modules = Set(everything.map(\.module)).sorted()
            if dryRun {
                print("would refresh the listing summaries of \(modules.count) module(s)")
            } else {
                for m in modules { try await metadata.refreshSummary(of: m) }
                print("refreshed the listing summaries of \(modules.count) module(s)")
            }
            let legacy = everything.filter(service.needsAdoption)
                .sorted { ($0.module, $0.version.description) < ($1.module, $1.version.description) }
            for r in legacy {
                let from = r.location.bucket.map { "s3://\($0)/\(r.location.key)" } ?? "\(r.location.key) (stored as uploaded)"
                print("\(dryRun ? "would import" : "importing") \(r.module) \(r.version) from \(from)")
            }
            guard !legacy.isEmpty else {
                print("every version is served from the registry's own canonical archive: nothing to import")
                return
            }
            guard !dryRun else {
                print("\(legacy.count) version(s) would be imported (--dry-run: nothing changed)")
                return
            }
            try Confirmation.require("import \(legacy.count) version(s) into \(where_)?", yes: yes)
            let logger = Logger(label: "tfreg.import-legacy")
            var failed = 0
            for r in legacy {
                do {
                    guard let updated = try await service.adopt(r, maximumBytes: APIConfiguration.defaultMaxUploadBytes, logger: logger) else {
                        throw CLIError("the storage has no bucket of its own")
                    }
                    print("imported \(r.module) \(r.version): sha256:\(updated.sha256) (was \(r.sha256))")
                } catch let e as RegistryError {
                    failed += 1
                    print("left \(r.module) \(r.version): \(e.detail.map { "\(e.message) (\($0))" } ?? e.message)")
                }
            }
            print("imported \(legacy.count - failed) of \(legacy.count) version(s)")
            if failed > 0 { throw CLIError("\(failed) version(s) could not be imported (see above); they stay as they were") }
        }

        /// Grants under `IAMBearerAuth~arn:…:role/PATH/NAME` never matched a caller before tfreg matched roles
        /// by account + name. They need no change (and are not rewritten, so the replaced tool still reads
        /// the table after a rollback); this says which there are and whom each now applies to.
        func reportRoleGrantsWithPath(_ table: DynamoDBMetadataStore) async throws {
            let found = try await table.roleGrantsWrittenWithPath()
            for g in found {
                print(
                    "grant in namespace \(g.namespace) for \(g.written): written with a role path; applies to \(g.matchedAs) (any session of it), left as written"
                )
            }
            print(
                found.isEmpty
                    ? "no grants written with a role path"
                    : "\(found.count) grant(s) written with a role path: matched by account and role name, nothing changed"
            )
        }
    }
}
