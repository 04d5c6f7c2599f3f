import ArgumentParser
import TFRegCore
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg {
    struct GC: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "gc",
            abstract: "List and remove archives no version references, and staged uploads a killed process left.",
            discussion: """
                Deleting a version never unlinks its archive while serving (another version may share the \
                same bytes, and a publish of them may be under way); this command removes archive files \
                that no version references and that are older than --grace-seconds, re-checking the \
                database after moving each one aside, so it is safe while `tfreg serve` runs. Local \
                storage only (S3 objects are left to the bucket's lifecycle rules).

                Examples:
                  tfreg gc --data-dir /var/lib/tfreg --dry-run
                  tfreg gc --data-dir /var/lib/tfreg --output json
                """
        )

        @OptionGroup var store: StoreOptions

        @Flag(help: "Only list what would be removed.")
        var dryRun = false

        @Option(help: "Leave files younger than this many seconds (default 3600: longer than any upload).")
        var graceSeconds: Int64 = LocalGarbageCollector.defaultGraceSeconds

        @OptionGroup var out: OutputOptions

        func validate() throws {
            guard graceSeconds >= 0 else { throw ValidationError("--grace-seconds must be 0 or more") }
        }

        func run() async throws {
            let format = try out.format()
            guard store.resolvedTable == nil else { throw CLIError.configuration("gc works on a local data directory; --table / TABLE_NAME is set") }
            let dir = store.resolvedDataDirectory
            let (metadata, storage) = try store.openLocal()
            store.announce()
            let report = try await LocalGarbageCollector.collect(
                store: metadata,
                storage: storage,
                graceSeconds: graceSeconds,
                now: SystemClock().now(),
                dryRun: dryRun
            )
            // Standard output carries only the result (`tfreg gc --dry-run | …`); announce() has named
            // the data directory on standard error.
            if format == .json {
                printJSON(Self.document(report, dataDirectory: dir, dryRun: dryRun))
                return
            }
            for item in report.unreferenced { print("\(dryRun ? "unreferenced" : "removing") archives/\(item.key) (\(item.size) bytes)") }
            for name in report.staleStaging { print("removed stale upload tmp/\(name)") }
            if dryRun {
                print(
                    "\(report.unreferenced.count) unreferenced stored file(s), \(report.unreferenced.reduce(0) { $0 + $1.size }) bytes; nothing removed (--dry-run)"
                )
            } else {
                print(
                    "removed \(report.removedArchives) stored file(s), \(report.removedBytes) bytes, and \(report.staleStaging.count) stale upload(s)"
                )
            }
        }

        /// `--output json`: the data directory, what is (or would be) removed, and the totals.
        static func document(_ report: LocalGarbageCollector.Report, dataDirectory: String, dryRun: Bool) -> JSONValue {
            .object([
                ("data_dir", .string(dataDirectory)), ("dry_run", .bool(dryRun)),
                (
                    "unreferenced",
                    .array(report.unreferenced.map { .object([("key", .string("archives/" + $0.key)), ("size", .int($0.size))]) })
                ),
                ("removed_archives", .int(Int64(report.removedArchives))), ("removed_bytes", .int(report.removedBytes)),
                ("stale_uploads", .array(report.staleStaging.map { .string("tmp/" + $0) })),
            ])
        }
    }
}
