import ArgumentParser
import TFRegCore
import TFRegStoreLocal

extension TFReg {
    struct Backup: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Take a consistent backup of the local store (database, archives, keys) while the server runs.",
            discussion: """
                DEST must be a new or empty directory. The database is snapshotted with SQLite's online backup \
                API; every archive it references is copied with its SHA-256 verified. Restore with tfreg restore.
                """
        )

        @Argument(help: "Directory to write the backup to (created; must be empty).")
        var destination: String

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let report = try await LocalBackup.backup(dataDirectory: store.resolvedDataDirectory, to: destination)
            for item in report.dropped { printError("skipped \(item): deleted while the backup ran") }
            print("backup written to \(destination): \(report.versions) versions, \(report.bytes) archive bytes, checksums verified")
        }
    }

    struct Restore: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Restore a backup made by tfreg backup into the data directory (stop the server first).",
            discussion: """
                Every archive is verified against its SHA-256 before anything is written; archives are copied \
                first and the database last. An existing registry is replaced only with --force.
                """
        )

        @Argument(help: "The backup directory.")
        var source: String

        @Flag(help: "Replace an existing registry in the data directory.")
        var force = false

        @OptionGroup var store: StoreOptions

        func run() async throws {
            let dir = store.resolvedDataDirectory
            let report = try await LocalBackup.restore(from: source, into: dir, force: force)
            print("restored \(report.versions) versions (\(report.bytes) archive bytes, checksums verified) into \(dir)")
        }
    }
}
