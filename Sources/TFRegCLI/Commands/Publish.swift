import ArgumentParser
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegStoreAWS
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

extension TFReg {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pack a module directory into a deterministic .tar.gz and publish it as a new version.",
            discussion: """
                The archive is byte-identical for the same files. Always left out unless --include names \
                them: *.tfstate*, *.tfplan, .env*, *.tfvars, *.tfvars.json, .terraformrc, terraform.rc, *.pem, \
                *.key, id_rsa*, id_ecdsa*, id_ed25519*, .git, .terraform, .terraform.lock.hcl, node_modules; \
                what is left out is reported on stderr. A .terraformignore in DIR is applied with Terraform's \
                syntax (the README names two differences from go-slug); without one, the .gitignore files are. --exclude and --include take the same \
                glob syntax (a leading / anchors at DIR, a trailing / means a directory, ** any depth) and \
                repeat; --exclude wins over --include, which wins over the defaults and the ignore file. \
                --dry-run lists what would be packed (with sizes) and left out (with the reason) and the \
                archive's SHA-256, and uploads nothing (--archive-file also writes the archive); after a \
                publish, what was left out is named on stderr. The archive is \
                packed to a private temporary file and uploaded from it; on a terminal a progress line shows \
                the upload (--quiet: none). --output json prints one JSON document (see the README). \
                The token comes from --token-file PATH (- for standard input) or --token (visible to other \
                users in the process list), else TFREG_TOKEN, else TF_TOKEN_<host> (as Terraform encodes it), else a \
                credentials "HOST" block in the Terraform CLI config (TF_CLI_CONFIG_FILE or ~/.terraformrc) or \
                ~/.terraform.d/credentials.tfrc.json, else (a registry that issues IAM tokens) one for your AWS identity. HTTPS trusts --ca-bundle, else SSL_CERT_FILE, else AWS_CA_BUNDLE, else the system CA store. \
                With --s3 s3://BUCKET/PREFIX the archive goes to your own bucket first, at \
                PREFIX/NAMESPACE/NAME/SYSTEM/VERSION.tar.gz with a SHA-256 checksum (AWS credentials and \
                region as the AWS CLI finds them), and is then registered with the registry's create \
                endpoint, which checks that checksum ("bring your own bucket"). It never replaces an object: \
                the version is looked up in the registry first, and the upload is conditional \
                (If-None-Match: *); an existing object with other bytes stops the publish. --version VALUE \
                is accepted as the older name of --module-version (never tfreg's own version here: that is \
                `tfreg --version`).

                Examples:
                  tfreg publish ./vpc --registry registry.example.com -n acme --name vpc --system aws --module-version 1.2.0
                  tfreg publish ./vpc --registry registry.example.com -n acme --name vpc --system aws --module-version 1.2.0 --dry-run
                  tfreg publish ./vpc ... --s3 s3://my-modules/terraform --output json
                """
        )

        @Argument(help: "The module directory.")
        var directory: String

        @OptionGroup var target: ModuleVersionOptions

        var registry: String { target.registry }

        @OptionGroup var auth: TokenOptions

        @Option(help: "Upload to your own bucket and register it with create: s3://BUCKET or s3://BUCKET/PREFIX.")
        var s3: String?

        @Option(help: ArgumentHelp("Leave out paths matching GLOB (.terraformignore syntax; repeatable).", valueName: "GLOB"))
        var exclude: [String] = []

        @Option(
            help: ArgumentHelp(
                "Pack paths matching GLOB even if a default exclusion or the ignore file leaves them out (repeatable).",
                valueName: "GLOB"
            )
        )
        var include: [String] = []

        @Flag(help: "List what would be packed and left out, and the archive's SHA-256; upload nothing.")
        var dryRun = false

        @Option(name: .customLong("archive-file"), help: ArgumentHelp("With --dry-run: also write the archive to this file.", valueName: "path"))
        var archiveFile: String?

        @Option(help: "What the module is for, shown in listings and search (default: the README's first paragraph).")
        var description: String?

        @Option(help: ArgumentHelp("The module's source repository, an http(s) URL shown as its source link.", valueName: "URL"))
        var source: String?

        @OptionGroup var out: ProgressOutputOptions

        /// `--description` and `--source`, checked as the registry checks them (a usage error here).
        func details() throws -> PublishDetails {
            do { return try PublishDetails(description: description, source: source).validated() } catch {
                throw ValidationError(error.message)
            }
        }

        /// `?description=…&source=…` for the upload route ("" when neither is given).
        static func detailsQuery(_ d: PublishDetails) -> String {
            var items: [String] = []
            if let x = d.description { items.append("description=" + PercentEncoding.encode(x)) }
            if let x = d.source { items.append("source=" + PercentEncoding.encode(x)) }
            return items.isEmpty ? "" : "?" + items.joined(separator: "&")
        }

        func run() async throws {
            let (module, version) = try target.resolved()
            let details = try details()
            let format = try out.format()
            if archiveFile != nil && !dryRun { throw ValidationError("--archive-file needs --dry-run") }
            if let s3 { _ = try Self.bucketAndPrefix(s3) }
            var options = try ModulePacker.Options(exclude: exclude, include: include)
            // A publish reads each file only while packing it; the dry-run listing needs the sizes.
            options.deferContents = !dryRun
            let plan = try ModulePacker.plan(directory: directory, options: options)
            if dryRun {
                let archive = try ModulePacker.pack(plan, directory: directory)
                let digest = Hex.encode(SHA256.hash(archive))
                if let archiveFile { try RegistryError.storage(FileSystem.writeAtomically(archiveFile, archive, mode: 0o644)) }
                if format == .json {
                    printJSON(
                        Self.dryRunDocument(plan, module: module, version: version, size: Int64(archive.count), digest: digest, file: archiveFile)
                    )
                    return
                }
                print(Self.listing(plan), terminator: "")
                print("\(archiveFile.map { "\($0) " } ?? "")\(archive.count) bytes sha256:\(digest)")
                return
            }
            let host = try RegistryHost(registry)
            let token = try await auth.token(for: host)
            let client = RegistryClient.make(caBundle: try auth.caBundle)
            let base = try await RegistryDiscovery.modulesBase(host: host, client: client)

            // Packed to a private temporary file and uploaded from it: the archive is never in memory whole.
            let scratch = try PrivateTemporaryDirectory(prefix: "tfreg-publish")
            defer { scratch.remove() }
            let archivePath = scratch.path + "/module.tar.gz"
            let progress = out.progress("uploading \(module) \(version)", total: nil)
            progress.status("packing \(plan.entries.count) entries…")
            let packed: (size: Int64, sha256: String)
            do {
                packed = try ModulePacker.pack(plan, directory: directory, toFile: archivePath)
            } catch {
                progress.clear()
                throw error
            }
            let (size, digest) = packed
            let result = PublishResult(module: module, version: version, size: size, digest: digest, host: host, base: base)
            if let s3 {
                progress.clear()
                guard await RegistryDiscovery.offersCreate(host: host, client: client) else { throw RegistryDiscovery.noS3Storage(host.name) }
                guard let archive = FileSystem.read(archivePath, limit: Int(size) + 1) else { throw CLIError("cannot read the packed archive") }
                let object = try await publishThroughBucket(
                    s3,
                    archive: archive,
                    digest: digest,
                    module: module,
                    version: version,
                    details: details,
                    base: base,
                    token: token,
                    client: client
                )
                if let note = Self.leftOutNote(plan.leftOut) { printError(note) }
                result.print(format, object: object)
                return
            }
            progress.advance(done: 0, total: size)
            let response: HTTPResponse
            do {
                response = try await client.send(
                    HTTPRequest(
                        method: "POST",
                        url: base + ModuleRoute.upload(module, version: version).relativePath + Self.detailsQuery(details),
                        headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/gzip"), RegistryClient.userAgentHeader],
                        bodyFile: archivePath,
                        onBodySent: { progress.advance(Int64($0)) },
                        timeout: 300
                    )
                )
                progress.finish()
            } catch {
                progress.finish()
                throw error
            }
            guard response.status == 201 else {
                throw CLIError.registry(response, action: "publish \(module) \(version)")
            }
            // Only once the version is published: before an error it would bury the error.
            if let note = Self.leftOutNote(plan.leftOut) { printError(note) }
            result.print(format, object: nil)
        }

        /// `--dry-run --output json`: what would be packed and left out, and the archive.
        static func dryRunDocument(
            _ plan: ModulePacker.Plan,
            module: ModuleAddress,
            version: Version,
            size: Int64,
            digest: String,
            file: String?
        ) -> JSONValue {
            let packed = plan.entries.map { e -> JSONValue in
                switch e.kind {
                case .file(let data): .object([("path", .string(e.path)), ("kind", .string("file")), ("size", .int(Int64(data.count)))])
                case .directory: .object([("path", .string(e.path)), ("kind", .string("directory"))])
                case .symlink(let t), .hardlink(let t): .object([("path", .string(e.path)), ("kind", .string("link")), ("target", .string(t))])
                }
            }
            let leftOut = plan.leftOut.map { JSONValue.object([("path", .string($0.path)), ("reason", .string($0.reason))]) }
            return .object([
                ("module", .string(module.description)), ("version", .string(version.description)), ("sha256", .string(digest)),
                ("size", .int(Int64(size))), ("archive_file", file.map { .string($0) } ?? .null), ("packed", .array(packed)),
                ("left_out", .array(leftOut)),
            ])
        }

        /// `--s3`: registry check, conditional upload to the user's bucket, then `create`.
        /// The object is never replaced: a version the registry already has stops before S3 is
        /// touched; an existing object is reused only when its SHA-256 is this archive's (a publish
        /// whose registration failed can be run again), any other object stops the publish.
        func publishThroughBucket(
            _ s3: String,
            archive: [UInt8],
            digest: String,
            module: ModuleAddress,
            version: Version,
            details: PublishDetails,
            base: String,
            token: String,
            client: CurlHTTPClient
        ) async throws -> String {
            let (bucket, prefix) = try Self.bucketAndPrefix(s3)
            let key = (prefix.isEmpty ? "" : (prefix.hasSuffix("/") ? prefix : prefix + "/")) + "\(module)/\(version).tar.gz"
            _ = try ArchiveLocation.external(bucket: bucket, key: key)
            let object = "s3://\(bucket)/\(key)"
            let immutable = CLIError("\(object) already exists; versions are immutable: publish a new version")

            switch try await RegistryVersions.lookUp(version, of: module, base: base, token: token, client: client) {
            case .exists(let existing):
                throw CLIError(
                    "cannot publish \(module) \(version): the registry already has version \(existing) (409 conflict); versions are immutable: publish a new version"
                )
            case .unknown(let why):
                printError(
                    "note: could not ask the registry for existing versions (\(why)); relying on its answer to create and on the bucket's conditional write"
                )
            case .absent:
                break
            }

            let checksum = Base64.encode(SHA256.hash(archive))
            let s3Client = S3Client(client: try AWSSetup.client())
            /// nil: no object; true: an object with this archive's checksum; false: another object.
            func objectMatches() async throws -> Bool? {
                do {
                    guard let attributes = try await s3Client.objectAttributes(bucket: bucket, key: key) else { return nil }
                    return attributes.checksumSHA256 == checksum
                } catch {
                    throw CLIError("cannot read \(object): \(error.message) (\(error.code))")
                }
            }
            // A first look spares the upload when the object is already there (and stops at once when
            // it holds other bytes). When it cannot be read (no s3:GetObject, say) the conditional
            // write alone decides.
            let found = try? await objectMatches()
            if found == false { throw immutable }
            var uploaded = false
            if found == nil {
                do {
                    try await s3Client.putObject(bucket: bucket, key: key, body: archive, onlyIfAbsent: true)
                    uploaded = true
                } catch {
                    if error.kind == .conditionalCheckFailed {
                        // Created meanwhile, or a retried attempt after one that did land.
                        guard (try? await objectMatches()) == true else { throw immutable }
                    } else if error.status == 409 {
                        throw CLIError("cannot upload to \(object): another upload to it is in progress (\(error.code))")
                    } else {
                        throw CLIError("cannot upload to \(object): \(error.message) (\(error.code))")
                    }
                }
            }
            if !uploaded { printError("\(object) already holds this archive (same SHA-256): registering it") }

            let body = JSONValue.object(
                [("bucket", .string(bucket)), ("key", .string(key)), ("expected_checksum", .string(checksum))]
                    + (details.description.map { [("description", .string($0))] } ?? []) + (details.source.map { [("source", .string($0))] } ?? [])
            ).serialized()
            let response = try await client.send(
                HTTPRequest(
                    method: "POST",
                    url: base + ModuleRoute.create(module, version: version).relativePath,
                    headers: [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), RegistryClient.userAgentHeader],
                    body: body,
                    timeout: 60
                )
            )
            guard response.status == 201 else {
                var failure = CLIError.registry(response, action: "register \(module) \(version) from \(object)")
                // An older registry advertises create without S3 storage, then refuses it.
                if response.status == 400, failure.message.contains("stores archives itself") {
                    failure = RegistryDiscovery.noS3Storage(String(base.dropFirst(8).prefix { $0 != "/" }))
                }
                // Refused outright (a registry that stores archives itself, no permission, a bad
                // request): nothing refers to the object this run created, so it goes again rather than
                // stay orphaned. After a 409 it stays: the registry's version may be using it.
                if uploaded, [400, 401, 403].contains(response.status) {
                    do {
                        try await s3Client.deleteObject(bucket: bucket, key: key)
                        failure = CLIError(failure.description + " (removed \(object) again)", kind: failure.kind)
                    } catch {
                        failure = CLIError(failure.description + " (and cannot remove \(object): \(error.code))", kind: failure.kind)
                    }
                }
                throw failure
            }
            return object
        }

        /// `--s3 s3://BUCKET[/PREFIX]`; anything else is a usage error (exit 64).
        static func bucketAndPrefix(_ s3: String) throws(CLIError) -> (bucket: String, prefix: String) {
            do { return try S3ArchiveStorage.parse(s3) } catch { throw .usage("--s3: \(error.message)") }
        }

        /// What a publish reports: text for people, one JSON document for `--output json`.
        struct PublishResult {
            let module: ModuleAddress
            let version: Version
            let size: Int64
            let digest: String
            let host: RegistryHost
            let base: String

            func print(_ format: OutputFormat, object: String?) {
                switch format {
                case .json:
                    printJSON(
                        .object([
                            ("module", .string(module.description)), ("version", .string(version.description)),
                            ("source", .string("\(host.name)/\(module)")), ("sha256", .string(digest)), ("size", .int(Int64(size))),
                            ("download_url", .string(base + ModuleRoute.download(module, version: version).relativePath)),
                            ("s3_object", object.map { .string($0) } ?? .null),
                        ])
                    )
                case .text:
                    Swift.print("published \(module) \(version)\(object.map { " from \($0)" } ?? "") (\(size) bytes, sha256:\(digest))")
                }
            }
        }

        /// The `--dry-run` listing: packed entries with sizes, then what is left out and why.
        static func listing(_ plan: ModulePacker.Plan) -> String {
            var out = "packs \(plan.entries.count) entries\(plan.ignoreFile.map { " (\($0) applied)" } ?? ""):\n"
            for e in plan.entries {
                switch e.kind {
                case .file(let data): out += "  \(pad(String(data.count)))  \(e.path)\n"
                case .directory: out += "  \(pad("dir"))  \(e.path)/\n"
                case .symlink(let target), .hardlink(let target): out += "  \(pad("link"))  \(e.path) -> \(target)\n"
                }
            }
            out += "leaves out \(plan.leftOut.count):\n"
            for l in plan.leftOut { out += "  \(l.path) (\(l.reason))\n" }
            return out
        }

        private static func pad(_ s: String) -> String { String(repeating: " ", count: max(0, 10 - s.count)) + s }

        /// One stderr line naming what was left out (the first 20; --dry-run lists all).
        static func leftOutNote(_ leftOut: [ModulePacker.LeftOut]) -> String? {
            guard !leftOut.isEmpty else { return nil }
            let shown = leftOut.prefix(20).map(\.description).joined(separator: ", ")
            let more = leftOut.count > 20 ? ", and \(leftOut.count - 20) more (--dry-run lists them)" : ""
            return "left out: \(shown)\(more)"
        }
    }
}
