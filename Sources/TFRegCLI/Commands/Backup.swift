import ArgumentParser
import Glibc
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegStoreLocal
import TFRegSystem

extension TFReg {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a consistent backup of the local store (database, archives, keys) while the server runs.",
            discussion: """
                DEST must be a new or empty directory. The database is snapshotted with SQLite's online backup \
                API; every archive it references is copied with its SHA-256 verified. Restore with tfreg restore. \
                Local stores only: with DynamoDB (--table/TABLE_NAME) or S3 archives (--storage/TFREG_STORAGE) \
                the command refuses; use DynamoDB point-in-time recovery or on-demand backups and S3 versioning.

                Examples:
                  tfreg backup /srv/backups/tfreg-2026-11-25 --data-dir /var/lib/tfreg
                """
        )

        @Argument(help: "Directory to write the backup to (created; must be empty).")
        var destination: String

        @OptionGroup var store: StoreOptions

        @Option(help: "Refused: backups of S3 archives are not supported (env: TFREG_STORAGE); use S3 versioning.")
        var storage: String?

        @OptionGroup var out: ProgressOutputOptions

        func run() async throws {
            let format = try out.format()
            try BackupScope.requireLocal(store, storage: storage, command: "backup")
            try store.requireLocalRegistry()
            try StoreOptions.checkDataDirectory(store.resolvedDataDirectory)
            store.announce()
            let progress = out.progress("backing up archives", total: nil)
            let report = try await LocalBackup.backup(dataDirectory: store.resolvedDataDirectory, to: destination) { done, total in
                progress.advance(done: done, total: total)
            }
            progress.finish()
            for item in report.dropped { printError("skipped \(item): deleted while the backup ran") }
            for item in report.undocumented {
                printError("kept \(item) without its documentation (its file is missing): run tfreg reindex after a restore")
            }
            let database = destination + "/registry.db"
            guard let digest = Self.sha256(ofFile: database) else { throw CLIError("cannot read \(database) back") }
            switch format {
            case .json:
                printJSON(
                    .object([
                        ("destination", .string(destination)), ("database", .string(database)), ("database_sha256", .string(digest)),
                        ("versions", .int(Int64(report.versions))), ("provider_versions", .int(Int64(report.providerVersions))),
                        ("archive_bytes", .int(report.bytes)),
                        ("skipped", .array(report.dropped.map { .string($0) })),
                    ])
                )
            case .text:
                print(
                    "backup written to \(destination): \(report.versions) module versions, \(report.providerVersions) provider versions, \(report.bytes) bytes of stored files, checksums verified; registry.db sha256:\(digest)"
                )
            }
        }

        /// The SHA-256 of a file (hex).
        static func sha256(ofFile path: String) -> String? { SHA256.hash(fileAt: path).map(Hex.encode) }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup made by tfreg backup into the data directory (stop the server first).",
            discussion: """
                Every archive is verified against its SHA-256 before anything is written; archives are copied \
                first and the database last. An existing registry is replaced only with --force. Local stores \
                only: with DynamoDB (--table/TABLE_NAME) or S3 archives (--storage/TFREG_STORAGE) the command \
                refuses; use DynamoDB point-in-time recovery or on-demand backups and S3 versioning.

                Examples:
                  tfreg restore /srv/backups/tfreg-2026-11-25 --data-dir /var/lib/tfreg --force
                """
        )

        @Argument(help: "The backup directory.")
        var source: String

        @Flag(help: "Replace an existing registry in the data directory.")
        var force = false

        @OptionGroup var store: StoreOptions

        @Option(help: "Refused: restoring into S3 is not supported (env: TFREG_STORAGE); use S3 versioning.")
        var storage: String?

        @OptionGroup var out: OutputOptions

        func run() async throws {
            let format = try out.format()
            try BackupScope.requireLocal(store, storage: storage, command: "restore")
            // A restore writes a registry into the data directory: the one command besides serve and
            // `grant create --init` that may create one.
            store.announce()
            let dir = store.resolvedDataDirectory
            guard FileSystem.exists(source + "/registry.db") else {
                let why = FileSystem.exists(source) ? "it is not a tfreg backup (no registry.db)" : "no such directory"
                throw CLIError.notFound("no backup at \(source.prefix(200)): \(why)")
            }
            try StoreOptions.prepareDataDirectory(dir)
            let report = try await LocalBackup.restore(from: source, into: dir, force: force)
            if format == .json {
                printJSON(
                    .object([
                        ("data_dir", .string(dir)), ("versions", .int(Int64(report.versions))),
                        ("provider_versions", .int(Int64(report.providerVersions))), ("bytes", .int(report.bytes)),
                    ])
                )
                return
            }
            print(
                "restored \(report.versions) module versions and \(report.providerVersions) provider versions (\(report.bytes) bytes of stored files, checksums verified) into \(dir)"
            )
        }
    }
}

/// backup/restore cover the local store only: a DynamoDB table or an S3 archive bucket is refused by
/// name (never a backup of the wrong, local store that reports "checksums verified").
enum BackupScope {
    static func requireLocal(_ store: StoreOptions, storage: String?, command: String) throws {
        if let table = store.resolvedTable {
            throw RegistryError.misconfigured(
                "the store",
                explanation:
                    "tfreg \(command) works on a local data directory only, but DynamoDB table \(table) is set (\(store.tableSource)): back the table up with DynamoDB point-in-time recovery or on-demand backups (aws dynamodb create-backup --table-name \(table)), and the archive bucket with S3 versioning; unset \(store.tableSource) to \(command) a local registry"
            )
        }
        let fromFlag = storage != nil
        if let url = storage ?? Env.value("TFREG_STORAGE") {
            throw RegistryError.misconfigured(
                "the archive storage",
                explanation:
                    "tfreg \(command) works on a local data directory only, but archives are in \(url.prefix(200)) (\(fromFlag ? "--storage" : Env.source("TFREG_STORAGE"))): protect the bucket with S3 versioning (and DynamoDB point-in-time recovery or on-demand backups for a table); unset it to \(command) a local registry"
            )
        }
    }
}
