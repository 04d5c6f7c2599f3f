import ArgumentParser
import TFRegAPI
import TFRegCore
import TFRegCrypto
import TFRegJSON
import TFRegStoreLocal

#if canImport(Glibc)
import Glibc
#endif

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

        @OptionGroup var out: OutputOptions

        func run() async throws {
            let format = try out.format()
            let progress = out.progress("backing up archives", total: nil)
            let report = try await LocalBackup.backup(dataDirectory: store.resolvedDataDirectory, to: destination) { done, total in
                progress.advance(done: done, total: total)
            }
            progress.finish()
            for item in report.dropped { printError("skipped \(item): deleted while the backup ran") }
            let database = destination + "/registry.db"
            guard let digest = Self.sha256(ofFile: database) else { throw CLIFailure("cannot read \(database) back") }
            switch format {
            case .json:
                printJSON(
                    .object([
                        ("destination", .string(destination)), ("database", .string(database)), ("database_sha256", .string(digest)),
                        ("versions", .int(Int64(report.versions))), ("archive_bytes", .int(report.bytes)),
                        ("skipped", .array(report.dropped.map { .string($0) })),
                    ])
                )
            case .text:
                print(
                    "backup written to \(destination): \(report.versions) versions, \(report.bytes) archive bytes, checksums verified; registry.db sha256:\(digest)"
                )
            }
        }

        /// The SHA-256 of a file, read 64 KiB at a time.
        static func sha256(ofFile path: String) -> String? {
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { return nil }
            defer { close(fd) }
            var hasher = SHA256.Hasher()
            var buf = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let n = buf.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 { return nil }
                if n == 0 { break }
                buf.withUnsafeBytes { hasher.update(UnsafeRawBufferPointer(rebasing: $0[0..<n])) }
            }
            return Hex.encode(hasher.finalize())
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
