import ArgumentParser
import Glibc
import TFRegAPI
import TFRegAWS
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg.ProviderCommand {
    struct Publish: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Publish a signed provider release (goreleaser's layout) as a new, immutable version.",
            discussion: """
                DIR holds the release as goreleaser and HashiCorp's release tooling write it: \
                terraform-provider-TYPE_VERSION_OS_ARCH.zip per platform, terraform-provider-TYPE_VERSION_SHA256SUMS \
                listing them, its detached signature terraform-provider-TYPE_VERSION_SHA256SUMS.sig, and \
                optionally terraform-provider-TYPE_VERSION_manifest.json (its protocol_versions; else 5.0). \
                Other files in DIR are left alone. The files go up as one tar; the registry checks the \
                signature against the namespace's keys, every zip against SHA256SUMS, and each zip's \
                contents before it stores anything, and names the file it refuses. Needs upload in the \
                namespace. --output json prints the version as the registry stored it.

                With --s3 s3://BUCKET/PREFIX the tar goes to your own bucket first (with your AWS \
                credentials, streamed from disk), and the registry copies it from there (create): for a \
                registry on Lambda, whose requests carry a few MB. The object is removed once the \
                registry has answered.

                Examples:
                  tfreg provider publish dist --registry registry.example.com -n acme --type demo --version 1.0.0
                  tfreg provider publish dist --registry registry.example.com -n acme --type demo --version 1.0.0 --s3 s3://my-ci-bucket/uploads
                """
        )

        @Argument(help: "The directory holding the release's files.")
        var directory: String
        @OptionGroup var ns: NamespaceOption
        @Option(help: "The provider type (the last part of HOST/NAMESPACE/TYPE).")
        var type: String
        @Option(help: "The release's version (without a leading v).")
        var version: String
        @OptionGroup var target: ProviderRegistryOptions
        @Option(help: "Upload the release to your own bucket first and have the registry copy it: s3://BUCKET or s3://BUCKET/PREFIX.")
        var s3: String?
        @OptionGroup var out: ProgressOutputOptions

        /// The release's files in `names` (a directory listing): the zips, sums, signature and manifest.
        static func releaseFiles(_ names: [String], type: String, version: Version) throws(CLIError) -> [String] {
            let base = "terraform-provider-\(type)_\(version)"
            let files = names.filter { n in
                [base + "_SHA256SUMS", base + "_SHA256SUMS.sig", base + "_manifest.json"].contains(n)
                    || (n.hasPrefix(base + "_") && n.hasSuffix(".zip"))
            }.sorted()
            for required in [base + "_SHA256SUMS", base + "_SHA256SUMS.sig"] where !files.contains(required) {
                throw .usage("\(required) is not in the directory")
            }
            guard files.contains(where: { $0.hasSuffix(".zip") }) else { throw .usage("no \(base)_OS_ARCH.zip in the directory") }
            return files
        }

        func run() async throws {
            let namespace = try ns.parsed()
            let provider: ProviderAddress
            let version: Version
            do {
                provider = try ProviderAddress(namespace: namespace.value, type: type)
                version = try Version(self.version)
            } catch { throw CLIError.usage(error.message) }
            let format = try out.format()
            let bucket = try s3.map { s3 throws(CLIError) in try TFReg.Publish.bucketAndPrefix(s3) }
            let files = try Self.releaseFiles(FileSystem.list(directory), type: provider.type, version: version)
            let remote = try await target.remote()

            let scratch = try PrivateTemporaryDirectory(prefix: "tfreg-provider")
            defer { scratch.remove() }
            let tar = scratch.path + "/release.tar"
            try TarWriter.writeFiles(files, in: directory, toFile: tar)
            let response: HTTPResponse
            if let bucket {
                response = try await throughBucket(bucket, tar: tar, provider: provider, version: version, remote: remote)
            } else {
                let url = remote.base + String(ProviderRoute.upload(provider, version: version).path.dropFirst(ProviderRoute.basePath.count))
                response = try await remote.postTar(url, tar: tar, label: "uploading \(provider) \(version)", out: out, timeout: 900)
            }
            guard response.status == 201, let doc = try? JSONValue(parsing: response.body) else {
                throw CLIError.registry(response, action: "publish \(provider) \(version)")
            }
            switch format {
            case .json: printJSON(doc)
            case .text:
                let platforms = (doc["packages"]?.elements ?? []).compactMap { $0["platform"]?.stringValue }
                print("published \(remote.host.name)/\(provider) \(version) for \(platforms.joined(separator: ", "))")
            }
        }

        /// `--s3`: the tar to `PREFIX/providers/NS/TYPE/VERSION.tar` in the caller's bucket (streamed, with
        /// its SHA-256, which S3 checks), then `create`, which copies and verifies it; the object is
        /// removed whatever the answer (the registry keeps its own copies). Another upload to the same
        /// key meanwhile cannot slip in other bytes: create checks them against this tar's digest.
        func throughBucket(
            _ s3: (bucket: String, prefix: String),
            tar: String,
            provider: ProviderAddress,
            version: Version,
            remote: ProviderRemote
        ) async throws -> HTTPResponse {
            let prefix = s3.prefix.isEmpty ? "" : (s3.prefix.hasSuffix("/") ? s3.prefix : s3.prefix + "/")
            let key = prefix + "providers/\(provider)/\(version).tar"
            let object = "s3://\(s3.bucket)/\(key)"
            guard let digest = SHA256.hash(fileAt: tar) else { throw CLIError("cannot read \(tar)") }
            let s3Client = S3Client(client: try AWSSetup.client())
            if !out.quiet { printError("uploading \(provider) \(version) to \(object)") }
            do {
                try await s3Client.putObject(
                    bucket: s3.bucket,
                    key: key,
                    file: AWSFileBody(path: tar, sha256: digest),
                    contentType: "application/x-tar"
                )
            } catch {
                throw CLIError("cannot upload to \(object): \(error.message) (\(error.code))")
            }
            let body = JSONValue.object([
                ("bucket", .string(s3.bucket)), ("key", .string(key)), ("expected_checksum", .string(Base64.encode(digest))),
            ]).serialized()
            let relative = String(ProviderRoute.create(provider, version: version).path.dropFirst(ProviderRoute.basePath.count))
            let answer: Result<HTTPResponse, any Error>
            do { answer = .success(try await remote.send("POST", relative, contentType: "application/json", body: body, timeout: 900)) } catch {
                answer = .failure(error)
            }
            do { try await s3Client.deleteObject(bucket: s3.bucket, key: key) } catch {
                printError("note: cannot remove \(object) (\(error.code)); the registry no longer needs it")
            }
            return try answer.get()
        }
    }
}
