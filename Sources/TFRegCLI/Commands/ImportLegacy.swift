import ArgumentParser
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegJSON
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
                the registry's storage: on a DynamoDB table only a --data-dir given on purpose (a registry whose \
                archives are local), and never for versions in S3. The command asks before it changes anything \
                (--yes in scripts) and exits non-zero when a version was left: 69 if retrying may help, 77/78 \
                for permissions or configuration, 66 for a missing archive, else 1. On a DynamoDB table it also lists the grants the replaced tool wrote \
                under a role ARN with a path (arn:aws:iam::ACCT:role/PATH/NAME): tfreg matches them by account and \
                role name, as an assumed-role caller (whose ARN has no path) requires, and leaves them as written. \
                It also refreshes every module's listing summary (idempotent; no version changes): a table written \
                before summaries existed (by an older tfreg or the replaced tool) lists a module only once it has \
                one (or after its next publish, delete or deprecation); a module with a summary but no version left \
                (an older tfreg deleted its last version) loses its summary.

                Examples:
                  tfreg import-legacy --table registry --storage s3://my-registry-archives --dry-run
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The registry's own archive storage: s3://BUCKET[/PREFIX] (env: TFREG_STORAGE; default: the data directory).")
        var storage: String?

        @Flag(help: "Only list the versions that would be imported.")
        var dryRun = false

        @Flag(name: [.customLong("yes"), .customShort("y")], help: "Do not ask for confirmation.")
        var yes = false

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let json = try output.format() == .json
            // With --output json the progress lines go to standard error and standard output carries
            // one document: the outcome (or, in a dry run, what would be imported).
            func say(_ line: String) { if json { printError(line) } else { print(line) } }
            let url = Setting("--storage", env: "TFREG_STORAGE").text(storage)?.value
            let table = try store.resolvedTable.map(AWSSetup.validTable)
            // On a table the data directory is not the registry's: without --storage the copies would go
            // into whatever directory the default names. Refused before anything is opened or created.
            if let table, url == nil, !dryRun, !store.dataDirectoryGiven {
                throw CLIError.configuration(
                    "import-legacy writes the registry's own copies into its archive storage, and none was given for DynamoDB table \(table): pass --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE), the bucket the registry serves from (--data-dir DIR only for a registry that keeps its archives in a local directory); nothing was written (the default data directory \(store.resolvedDataDirectory) was not touched)"
                )
            }
            let (metadata, listing, scratch) = try openStores(table: table, storage: url)
            defer { scratch?.remove() }
            // (On a table without --storage only a dry run or a --data-dir given on purpose gets here.)
            let destination = url ?? (table == nil || store.dataDirectoryGiven ? "data dir \(store.resolvedDataDirectory)" : "none given (--storage)")
            say("metadata \(table.map { "DynamoDB table " + $0 } ?? "data dir " + store.resolvedDataDirectory); archives \(destination)")
            if let table = metadata as? DynamoDBMetadataStore { try await reportRoleGrantsWithPath(table, say: say) }
            let everything = try await metadata.allVersions(in: nil)
            // Tables written before module summaries (an older tfreg, the replaced tool) have none: the
            // listing shows a module once its summary exists. Refreshing is idempotent and changes no version.
            // Modules with a summary but no version left (an older binary deleted the last version after
            // the summary moved, touching only the old key) are refreshed too: that removes their summaries.
            var summarized: Set<ModuleAddress> = []
            for ns in try await metadata.summaryNamespaces() {
                for s in try await metadata.moduleSummaries(in: ns) { summarized.insert(s.module) }
            }
            let modules = Set(everything.map(\.module)).union(summarized).sorted()
            if dryRun {
                say("would refresh the listing summaries of \(modules.count) module(s)")
            } else {
                for m in modules { try await metadata.refreshSummary(of: m) }
                say("refreshed the listing summaries of \(modules.count) module(s)")
            }
            let legacy = everything.filter(
                RegistryService(store: metadata, storage: listing, canonicalizer: TarGzCanonicalizer()).needsAdoption
            )
            .sorted { ($0.module, $0.version.description) < ($1.module, $1.version.description) }
            guard !legacy.isEmpty else {
                say("every version is served from the registry's own canonical archive: nothing to import")
                if json { printJSON(Outcome(total: 0).jsonValue) }
                return
            }
            let userBuckets = Set(legacy.compactMap(\.location.bucket)).sorted()
            if dryRun {
                for r in legacy { say("would import \(Self.describe(r))") }
                say("\(legacy.count) version(s) would be imported (--dry-run: nothing changed)")
                if json {
                    printJSON(
                        .object([
                            ("dry_run", .bool(true)),
                            (
                                "would_import",
                                .array(legacy.map { .object([("module", .string("\($0.module)")), ("version", .string($0.version.description))]) })
                            ),
                        ])
                    )
                }
                if url == nil, !userBuckets.isEmpty {
                    say("to import them, name the registry's own bucket: --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE)")
                }
                return
            }
            // A local directory cannot hold copies of S3 objects: every such version would be left.
            if url == nil, !userBuckets.isEmpty {
                throw CLIError.configuration(
                    "\(legacy.filter { $0.location.bucket != nil }.count) version(s) have their archive in S3 (\(userBuckets.prefix(5).map { "s3://" + $0 }.joined(separator: ", "))) and the archive storage is a local directory, which cannot import them: pass --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE), the bucket the registry serves from; nothing was changed"
                )
            }
            // Asked (or refused) before anything is printed as done; on a terminal the question comes
            // after the list of what it is about.
            if Confirmation.willAsk(yes: yes) { for r in legacy { printError("would import \(Self.describe(r))") } }
            try Confirmation.require("import \(legacy.count) version(s) into \(destination)?", yes: yes)
            // Only now, on a table with archives in a local directory given with --data-dir, is it created.
            let archives: any ArchiveStorage = table != nil && url == nil ? try FileArchiveStorage(root: store.resolvedDataDirectory) : listing
            let service = RegistryService(
                store: metadata,
                storage: archives,
                canonicalizer: TarGzCanonicalizer(),
                documenter: ModuleDocumenters.production
            )
            let logger = Logger(label: "tfreg.import-legacy")
            var outcome = Outcome(total: legacy.count)
            for r in legacy {
                do {
                    guard
                        let updated = try await service.adopt(r, maximumBytes: APIConfiguration.defaultMaxUploadBytes, by: .current(), logger: logger)
                    else {
                        throw RegistryError.misconfigured("the archive storage", explanation: "the storage has no bucket of its own")
                    }
                    outcome.imported.append(.init(module: r.module, version: r.version, sha256: updated.sha256, was: r.sha256))
                    say("imported \(r.module) \(r.version): sha256:\(updated.sha256) (was \(r.sha256))")
                } catch {
                    let reason = CLIError.from(error) ?? CLIError("\(error)")
                    outcome.left.append(.init(module: r.module, version: r.version, reason: reason.message, kind: reason.kind))
                    say("left \(r.module) \(r.version): \(reason.message)")
                }
            }
            say(outcome.summary)
            if json { printJSON(outcome.jsonValue) }
            if let failure = outcome.failure { throw failure }
        }

        /// `MODULE VERSION from WHERE`, as the dry run and the question list a version.
        static func describe(_ r: ModuleVersionRecord) -> String {
            "\(r.module) \(r.version) from \(r.location.bucket.map { "s3://\($0)/\(r.location.key)" } ?? "\(r.location.key) (stored as uploaded)")"
        }

        /// The metadata store, the archive storage to list against (nothing is created for it), and a
        /// private staging directory when one was made. A table's S3 copies are staged in a private
        /// temporary directory, so the command writes nothing into a data directory; without --storage
        /// the listing uses the view the Lambda function has (no bucket of its own), which creates nothing.
        func openStores(table: String?, storage url: String?) throws -> (any MetadataStore, any ArchiveStorage, PrivateTemporaryDirectory?) {
            guard table != nil else {
                let (metadata, archives) = try store.open(storage: url, creating: false)
                store.announce()
                return (metadata, archives, nil)
            }
            let metadata = try store.openMetadata()
            guard let dynamo = metadata as? DynamoDBMetadataStore else { throw CLIError("a table's store is DynamoDB") }
            let s3 = S3Client(client: dynamo.dynamo.client)
            guard let url else { return (metadata, try S3ArchiveStorage(s3: s3, bucket: nil, prefix: "", stagingDirectory: ""), nil) }
            let (bucket, prefix) = try S3ArchiveStorage.parse(url)
            let scratch = try PrivateTemporaryDirectory(prefix: "tfreg-import")
            do {
                return (metadata, try S3ArchiveStorage(s3: s3, bucket: bucket, prefix: prefix, stagingDirectory: scratch.path), scratch)
            } catch {
                scratch.remove()
                throw error
            }
        }

        /// What an import did: one home for the summary line, the exit status and the JSON form.
        struct Outcome {
            struct Imported {
                let module: ModuleAddress
                let version: Version
                let sha256: String
                let was: String
            }
            struct Left {
                let module: ModuleAddress
                let version: Version
                let reason: String
                let kind: CLIError.Kind
            }
            let total: Int
            var imported: [Imported] = []
            var left: [Left] = []

            /// `imported N of M version(s)`, and what was left (the first few named).
            var summary: String {
                var line = "imported \(imported.count) of \(total) version(s)"
                if !left.isEmpty {
                    let named = left.prefix(5).map { "\($0.module) \($0.version)" }.joined(separator: ", ")
                    line += "; left \(left.count) as they were: \(named)\(left.count > 5 ? ", …" : "")"
                }
                return line
            }

            /// Nil when every version was imported. Otherwise the kind says what would help: 69 when
            /// a backend was unavailable (run it again later), 78/77 when the storage or the role is set
            /// up wrong, 66 when an archive is missing, else 1 (a user's object changed or a stored archive
            /// is refused: only deleting or deprecating that version settles it). Mixed reasons: the first
            /// of those in that order, so "retrying may help" is never hidden.
            var failure: CLIError? {
                guard !left.isEmpty else { return nil }
                let kinds = Set(left.map(\.kind))
                let kind = [CLIError.Kind.unavailable, .configuration, .denied, .notFound].first(where: kinds.contains) ?? .failure
                return CLIError("\(left.count) of \(total) version(s) could not be imported (see above); they stay as they were", kind: kind)
            }

            /// The same outcome as one JSON document (`--output json`).
            var jsonValue: JSONValue {
                .object([
                    ("total", .number(String(total))),
                    (
                        "imported",
                        .array(
                            imported.map {
                                .object([
                                    ("module", .string("\($0.module)")), ("version", .string($0.version.description)),
                                    ("sha256", .string($0.sha256)), ("previous_sha256", .string($0.was)),
                                ])
                            }
                        )
                    ),
                    (
                        "left",
                        .array(
                            left.map {
                                .object([
                                    ("module", .string("\($0.module)")), ("version", .string($0.version.description)),
                                    ("reason", .string($0.reason)),
                                ])
                            }
                        )
                    ),
                ])
            }
        }

        /// Grants under `IAMBearerAuth~arn:…:role/PATH/NAME` never matched a caller before tfreg matched roles
        /// by account + name. They need no change (and are not rewritten, so the replaced tool still reads
        /// the table after a rollback); this says which there are and whom each now applies to.
        func reportRoleGrantsWithPath(_ table: DynamoDBMetadataStore, say: (String) -> Void) async throws {
            let found = try await table.roleGrantsWrittenWithPath()
            for g in found {
                say(
                    "grant in namespace \(g.namespace) for \(g.written): written with a role path; applies to \(g.matchedAs) (any session of it), left as written"
                )
            }
            say(
                found.isEmpty
                    ? "no grants written with a role path"
                    : "\(found.count) grant(s) written with a role path: matched by account and role name, nothing changed"
            )
        }
    }
}
