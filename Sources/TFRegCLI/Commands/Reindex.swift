import ArgumentParser
import Logging
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegJSON
import TFRegStoreAWS
import TFRegSystem

extension TFReg {
    struct Reindex: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Extract the documentation of versions stored without it (published before documentation existed).",
            discussion: """
                Reads each such version's canonical archive from the registry's storage once, extracts its \
                documentation (README, inputs, outputs, submodules, examples) as a publish does, stores it \
                beside the archive and records it on the version, with the README's first paragraph as the \
                description when the version has none. Versions that already have documentation are left \
                (--all extracts every version again). A version whose archive is not the registry's own \
                canonical copy (a user's S3 object, an archive stored as uploaded) is reported and left: run \
                tfreg import-legacy first. On a DynamoDB table pass the registry's bucket with --storage. \
                --dry-run lists what would be done. Exits non-zero when a version was left.

                Examples:
                  tfreg reindex --dry-run
                  tfreg reindex --table registry --storage s3://my-registry-archives
                """
        )

        @OptionGroup var store: StoreOptions

        @Option(help: "The registry's own archive storage: s3://BUCKET[/PREFIX] (env: TFREG_STORAGE; default: the data directory).")
        var storage: String?

        @Flag(help: "Only list the versions that would be reindexed.")
        var dryRun = false

        @Flag(help: "Extract the documentation of every version again, not only of those without.")
        var all = false

        @OptionGroup var output: OutputOptions

        func run() async throws {
            let json = try output.format() == .json
            func say(_ line: String) { if json { printError(line) } else { print(line) } }
            let url = Setting("--storage", env: "TFREG_STORAGE").text(storage)?.value
            let (metadata, archives, scratch) = try openStores(storage: url)
            defer { scratch?.remove() }
            let service = RegistryService(
                store: metadata,
                storage: archives,
                canonicalizer: TarGzCanonicalizer(),
                documenter: ModuleDocumenters.production
            )
            let pending = try await metadata.allVersions(in: nil).filter { all || $0.docsKey == nil }
                .sorted { ($0.module, $0.version) < ($1.module, $1.version) }
            if dryRun {
                for r in pending {
                    say("would reindex \(r.module) \(r.version)\(service.needsAdoption(r) ? " (left: run import-legacy first)" : "")")
                }
                say("\(pending.count) version(s) without documentation (--dry-run: nothing changed)")
                if json {
                    printJSON(
                        .object([
                            ("dry_run", .bool(true)),
                            (
                                "would_reindex",
                                .array(pending.map { .object([("module", .string("\($0.module)")), ("version", .string($0.version.description))]) })
                            ),
                        ])
                    )
                }
                return
            }
            guard service.documenter != nil else {
                throw CLIError.configuration("this tfreg has no documentation extractor built in: nothing was changed")
            }
            let logger = Logger(label: "tfreg.reindex")
            var done: [ModuleVersionRecord] = []
            var left: [(ModuleVersionRecord, String)] = []
            for r in pending {
                do {
                    if try await service.reindex(r, force: all, maximumBytes: APIConfiguration.defaultMaxUploadBytes, by: .current(), logger: logger)
                        != nil
                    {
                        done.append(r)
                        say("reindexed \(r.module) \(r.version)")
                    }
                } catch {
                    left.append((r, error.message))
                    say("left \(r.module) \(r.version): \(error.message)")
                }
            }
            say("reindexed \(done.count) of \(pending.count) version(s)\(left.isEmpty ? "" : "; left \(left.count)")")
            if json {
                printJSON(
                    .object([
                        (
                            "reindexed",
                            .array(done.map { .object([("module", .string("\($0.module)")), ("version", .string($0.version.description))]) })
                        ),
                        (
                            "left",
                            .array(
                                left.map {
                                    .object([
                                        ("module", .string("\($0.0.module)")), ("version", .string($0.0.version.description)),
                                        ("reason", .string($0.1)),
                                    ])
                                }
                            )
                        ),
                    ])
                )
            }
            if !left.isEmpty { throw CLIError("\(left.count) of \(pending.count) version(s) could not be reindexed (see above)") }
        }

        /// The metadata store and the registry's own storage: the data directory, or on a table the
        /// S3 bucket given with --storage (staging in a private temporary directory).
        func openStores(storage url: String?) throws -> (any MetadataStore, any ArchiveStorage, PrivateTemporaryDirectory?) {
            guard let table = store.resolvedTable else {
                let (metadata, archives) = try store.open(storage: url, creating: false)
                store.announce()
                return (metadata, archives, nil)
            }
            let metadata = try store.openMetadata()
            guard let dynamo = metadata as? DynamoDBMetadataStore else { throw CLIError("a table's store is DynamoDB") }
            guard let url else {
                throw CLIError.configuration(
                    "reindex reads archives and stores documentation in the registry's bucket, and none was given for DynamoDB table \(table): pass --storage s3://BUCKET[/PREFIX] (env TFREG_STORAGE)"
                )
            }
            let (bucket, prefix) = try S3ArchiveStorage.parse(url)
            let scratch = try PrivateTemporaryDirectory(prefix: "tfreg-reindex")
            do {
                let s3 = S3Client(client: dynamo.dynamo.client)
                return (metadata, try S3ArchiveStorage(s3: s3, bucket: bucket, prefix: prefix, stagingDirectory: scratch.path), scratch)
            } catch {
                scratch.remove()
                throw error
            }
        }
    }
}
