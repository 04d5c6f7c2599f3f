import ArgumentParser
import Glibc
import TFRegAPI
import TFRegArchive
import TFRegCore
import TFRegCrypto
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg.MirrorCommand {
    struct Pull: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import a provider's versions from an upstream registry, verified, into this registry's mirror.",
            discussion: """
                SOURCE_ADDR is HOST/NAMESPACE/TYPE as Terraform writes it (registry.terraform.io/hashicorp/aws). \
                tfreg asks HOST's providers.v1 service (or --upstream-url's) for the versions matching \
                --version and, for each --platform, its download document; it verifies the SHA256SUMS \
                signature against the keys the upstream lists, the document's shasum against the signed \
                file, and every zip (streamed to a private temporary directory, never held in memory) \
                against its SHA256SUMS line BEFORE it sends anything to the registry. The registry then \
                verifies the release again (signature against the upstream key sent with it, zips against \
                SHA256SUMS, each zip's contents) and stores it write-once; a version it already holds is \
                skipped. Needs upload in the registry's mirror namespace, and HOST on its allow-list. \
                --dry-run prints what would be pulled and contacts only the upstream.

                Example:
                  tfreg mirror pull registry.terraform.io/hashicorp/random --version '>= 3.5, < 4.0' \\
                    --platform linux_amd64 --platform darwin_arm64 --registry registry.example.com
                """
        )

        @Argument(help: ArgumentHelp("The provider as HOST/NAMESPACE/TYPE.", valueName: "source-addr"))
        var sourceAddress: String

        @Option(help: "A version constraint as in required_providers ('1.2.0', '~> 1.2', '>= 1.0, < 2.0').")
        var version: String

        @Option(help: ArgumentHelp("A platform to import, OS_ARCH (repeat for several).", valueName: "os_arch"))
        var platform: [String]

        @Option(help: "Reach the upstream at this HTTPS base URL instead of https://HOST (a proxy, a test registry).")
        var upstreamURL: String?

        @Option(
            name: .customLong("upstream-token-file"),
            help: ArgumentHelp(
                "A bearer token for the upstream's discovery, versions and download documents (never sent for the files themselves; default: TF_TOKEN_<host> of the upstream contacted, as Terraform names it).",
                valueName: "path"
            )
        )
        var upstreamTokenFile: String?

        @Flag(help: "Print the versions and files that would be imported; send nothing to the registry.")
        var dryRun = false

        @OptionGroup var target: ProviderRegistryOptions
        @OptionGroup var out: ProgressOutputOptions

        static let maximumVersions = 64

        func run() async throws {
            let provider = try Self.source(sourceAddress)
            let constraint: VersionConstraint
            do { constraint = try VersionConstraint(version) } catch { throw CLIError.usage(error.message) }
            guard !platform.isEmpty else { throw CLIError.usage("give at least one --platform OS_ARCH") }
            var platforms: [ProviderPlatform] = []
            for p in platform {
                do { platforms.append(try ProviderPlatform(p)) } catch { throw CLIError.usage(error.message) }
            }
            platforms = Array(Set(platforms)).sorted()
            let format = try out.format()
            let caBundle = try target.auth.caBundle
            let upstream = try Upstream(
                provider: provider,
                baseURL: upstreamURL,
                token: try Self.upstreamToken(upstreamTokenFile, host: Self.host(of: upstreamURL) ?? provider.origin ?? ""),
                client: RegistryClient.make(caBundle: caBundle)
            )
            let listing = try await upstream.versions()
            let chosen = listing.filter { constraint.allows($0.version) }.sorted { $1.version < $0.version }
            guard !chosen.isEmpty else {
                throw CLIError.notFound("\(provider): no version matches '\(constraint)' (the upstream has \(listing.count))")
            }
            guard chosen.count <= Self.maximumVersions else {
                throw CLIError.usage("\(chosen.count) versions match '\(constraint)': narrow it to at most \(Self.maximumVersions)")
            }
            var plan: [(Version, [String])] = []
            for entry in chosen {
                let missing = platforms.filter { !entry.platforms.contains($0) }
                if !missing.isEmpty {
                    printError(
                        "tfreg: skipping \(provider) \(entry.version): the upstream has no package for \(missing.map(\.description).joined(separator: ", "))"
                    )
                    continue
                }
                plan.append((entry.version, entry.protocols))
            }
            guard !plan.isEmpty else { throw CLIError.notFound("\(provider): no version matching '\(constraint)' has every platform asked for") }
            if dryRun {
                switch format {
                case .json:
                    printJSON(
                        .object([
                            ("provider", .string(provider.description)),
                            ("versions", .array(plan.map { .string($0.0.description) })),
                            ("platforms", .array(platforms.map { .string($0.description) })),
                        ])
                    )
                case .text:
                    for (v, _) in plan {
                        print("would pull \(provider) \(v) for \(platforms.map(\.description).joined(separator: ", "))")
                    }
                }
                return
            }
            let remote = try await target.remote()
            guard remote.base.hasSuffix(ProviderRoute.basePath) else { throw CLIError("the registry's providers.v1 URL is not tfreg's") }
            let mirrorBase = String(remote.base.dropLast(ProviderRoute.basePath.count)) + MirrorRoute.basePath
            // What the registry already holds is neither downloaded nor sent again (a scheduled pull of
            // `>= 5.0` would otherwise fetch every version's zips each run to be told 409).
            let held = try await Self.mirroredVersions(of: provider, remote: remote, mirrorBase: mirrorBase)
            var results: [JSONValue] = []
            for (v, protocols) in plan {
                if held.contains(v.description) {
                    results.append(.object([("version", .string(v.description)), ("result", .string("already mirrored"))]))
                    if format == .text { print("already mirrored \(provider) \(v)") }
                    continue
                }
                let scratch = try PrivateTemporaryDirectory(prefix: "tfreg-pull")
                defer { scratch.remove() }
                let release = try await upstream.fetchVerified(version: v, platforms: platforms, protocols: protocols, into: scratch.path, out: out)
                let outcome = try await Self.upload(
                    release,
                    provider: provider,
                    version: v,
                    remote: remote,
                    mirrorBase: mirrorBase,
                    dir: scratch.path,
                    out: out
                )
                results.append(.object([("version", .string(v.description)), ("result", .string(outcome))]))
                if format == .text { print("\(outcome) \(provider) \(v) for \(platforms.map(\.description).joined(separator: ", "))") }
            }
            if format == .json { printJSON(.object([("provider", .string(provider.description)), ("versions", .array(results))])) }
        }

        /// The versions the registry's mirror lists for `provider` (its `index.json`); none when it has
        /// none (404). Another answer stops the pull: it says why.
        static func mirroredVersions(of provider: ProviderAddress, remote: ProviderRemote, mirrorBase: String) async throws -> Set<String> {
            let url = mirrorBase + "\(provider.origin ?? "")/\(provider.namespace)/\(provider.type)/index.json"
            let r = try await remote.client.send(
                HTTPRequest(url: url, headers: [("Authorization", "Bearer \(remote.token)"), RegistryClient.userAgentHeader], timeout: 60)
            )
            if r.status == 404 { return [] }
            guard r.status == 200, case .object(let versions)? = (try? JSONValue(parsing: r.body))?["versions"] else {
                throw CLIError.registry(r, action: "read the registry's mirror index of \(provider)")
            }
            return Set(versions.map(\.0))
        }

        /// `HOST/NAMESPACE/TYPE`, lower-cased as Terraform normalizes it.
        static func source(_ text: String) throws(CLIError) -> ProviderAddress {
            let parts = text.lowercased().split(separator: "/", omittingEmptySubsequences: false)
            guard parts.count == 3 else { throw .usage("SOURCE_ADDR is HOST/NAMESPACE/TYPE, such as registry.terraform.io/hashicorp/aws") }
            do { return try ProviderAddress(origin: parts[0], namespace: parts[1], type: parts[2]) } catch { throw .usage(error.message) }
        }

        /// The host (and port) of an `https://` URL, or nil.
        static func host(of url: String?) -> String? {
            guard let url, url.hasPrefix("https://") else { return nil }
            let authority = url.dropFirst(8).prefix { $0 != "/" }
            return authority.isEmpty ? nil : String(authority)
        }

        /// `--upstream-token-file`, else Terraform's variable for the host contacted (`TF_TOKEN_` +
        /// `registry.example.com` → `TF_TOKEN_registry_example_com`): a token is named for one host, so
        /// a CI job that pulls from two upstreams never sends one's token to the other.
        static func upstreamToken(_ file: String?, host: String) throws(CLIError) -> String? {
            if let file {
                guard let bytes = FileSystem.read(file, limit: 64 << 10) else { throw CLIError("cannot read the upstream token file \(file)") }
                let token = String(decoding: bytes, as: UTF8.self).trimmingWhitespace()
                guard !token.isEmpty, token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                    throw CLIError("the upstream token file \(file) does not hold a token")
                }
                return String(token)
            }
            return TerraformCredentials.environmentVariableName(for: host).flatMap { Env.value($0) }
        }

        /// Sends the verified release (with the key that signed it) to the registry's import route:
        /// "pulled"; a refusal (409 included: the version was checked against the mirror's index first)
        /// is an error naming the registry's reason.
        static func upload(
            _ release: [String],
            provider: ProviderAddress,
            version: Version,
            remote: ProviderRemote,
            mirrorBase: String,
            dir: String,
            out: ProgressOutputOptions
        ) async throws -> String {
            let tar = dir + "/release.tar"
            try TarWriter.writeFiles(release, in: dir, toFile: tar)
            let path = MirrorRoute.upload(provider, version: version).path
            let url = mirrorBase + String(path.dropFirst(MirrorRoute.basePath.count))
            let response = try await remote.postTar(url, tar: tar, label: "importing \(provider) \(version)", out: out, timeout: 1800)
            // A 409 too: the index did not list the version (a deleted, reserved number, or one imported meanwhile).
            guard response.status == 201 else { throw CLIError.registry(response, action: "import \(provider) \(version)") }
            return "pulled"
        }
    }
}

/// One upstream `providers.v1` registry, as `mirror pull` reads it: the versions, each platform's
/// download document, and the release's files, verified before they are kept.
struct Upstream {
    let provider: ProviderAddress
    /// `https://HOST` or the `--upstream-url`, without a trailing `/`.
    let origin: String
    let token: String?
    let client: CurlHTTPClient

    struct Listed {
        let version: Version
        let protocols: [String]
        let platforms: Set<ProviderPlatform>
    }

    init(provider: ProviderAddress, baseURL: String?, token: String?, client: CurlHTTPClient) throws {
        var base = baseURL ?? "https://\(provider.origin ?? "")"
        while base.hasSuffix("/") { base.removeLast() }
        guard base.hasPrefix("https://"), !base.contains("?"), !base.contains("#"), base.utf8.count <= 2048 else {
            throw CLIError.usage("--upstream-url must be an https:// URL (Terraform talks to registries over HTTPS only)")
        }
        // No user:password@ in it: a credential in a URL ends up in messages (use --upstream-token-file).
        guard !base.dropFirst(8).prefix(while: { $0 != "/" }).contains("@") else {
            throw CLIError.usage("--upstream-url must not carry credentials (user@ or user:password@): use --upstream-token-file")
        }
        self.provider = provider
        self.origin = base
        self.token = token
        self.client = client
    }

    /// A JSON document from the upstream, bounded; the token goes only to the upstream's own origin (a
    /// discovery document naming another host does not get it).
    func document(_ url: String, what: String) async throws -> JSONValue {
        var headers: [(name: String, value: String)] = [("Accept", "application/json"), RegistryClient.userAgentHeader]
        if let token, url.hasPrefix(origin + "/") { headers.append(("Authorization", "Bearer \(token)")) }
        var request = HTTPRequest(url: url, headers: headers, timeout: 60)
        request.maxResponseBytes = PullLimits.maximumDocumentBytes
        let r = try await client.send(request)
        guard r.status == 200 else { throw CLIError("the upstream answered HTTP \(r.status) for \(what) (\(HTTPURL.redacted(url)))") }
        guard let doc = try? JSONValue(parsing: r.body, options: .strict) else { throw CLIError("the upstream's \(what) is not JSON") }
        return doc
    }

    /// `providers.v1` from the upstream's discovery, resolved against it, ending in `/`.
    func providersBase() async throws -> String {
        let doc = try await document(origin + ServiceRoute.discovery.path, what: "discovery document")
        guard let base = doc["providers.v1"]?.stringValue else {
            throw CLIError("\(provider.origin ?? "") is not a provider registry (its discovery has no providers.v1)")
        }
        var b = try HTTPURL.resolve(base, against: origin + "/")
        if !b.hasSuffix("/") { b += "/" }
        return b
    }

    /// Every version the upstream lists with its protocols and platforms (malformed entries skipped).
    func versions() async throws -> [Listed] {
        let base = try await providersBase()
        let doc = try await document(base + "\(provider.namespace)/\(provider.type)/versions", what: "versions of \(provider)")
        var out: [Listed] = []
        for item in doc["versions"]?.elements ?? [] {
            guard let text = item["version"]?.stringValue, let v = try? Version(text) else { continue }
            let protocols = (item["protocols"]?.elements ?? []).compactMap(\.stringValue).filter(Self.isProtocolVersion)
            var platforms = Set<ProviderPlatform>()
            for p in item["platforms"]?.elements ?? [] {
                if let os = p["os"]?.stringValue, let arch = p["arch"]?.stringValue, let pl = try? ProviderPlatform(os: os, arch: arch) {
                    platforms.insert(pl)
                }
            }
            out.append(Listed(version: v, protocols: protocols, platforms: platforms))
        }
        return out
    }

    /// Downloads one version's release for `platforms` into `dir`, verified: the signature over
    /// SHA256SUMS against the keys the upstream lists, each document's `shasum` against the signed file,
    /// each zip's SHA-256 against it. Returns the file names written (zips, SHA256SUMS, signature,
    /// manifest, the signing key), ready for the registry's import.
    func fetchVerified(
        version: Version,
        platforms: [ProviderPlatform],
        protocols: [String],
        into dir: String,
        out: ProgressOutputOptions
    ) async throws
        -> [String]
    {
        let base = try await providersBase()
        let stem = "terraform-provider-\(provider.type)_\(version)"
        let sumsName = stem + "_SHA256SUMS"
        var verified: (sums: [String: String], fingerprint: String, armor: String)?
        var sumsURL: String?
        var files: [String] = []
        for platform in platforms {
            let url = base + "\(provider.namespace)/\(provider.type)/\(version)/download/\(platform.os)/\(platform.arch)"
            let doc = try await document(url, what: "download document of \(provider) \(version) \(platform)")
            guard let filename = doc["filename"]?.stringValue, let download = doc["download_url"]?.stringValue,
                let shasumsURL = doc["shasums_url"]?.stringValue, let sigURL = doc["shasums_signature_url"]?.stringValue,
                let shasum = doc["shasum"]?.stringValue
            else { throw CLIError("the upstream's download document of \(provider) \(version) \(platform) lacks filename, URLs or shasum") }
            // The registry stores goreleaser's names; a different name could not be verified against them.
            guard filename == "\(stem)_\(platform).zip" else {
                throw CLIError(
                    "the upstream names \(provider) \(version) \(platform)'s package \(RegistryService.shown(filename)), not \(stem)_\(platform).zip"
                )
            }
            let keys = (doc["signing_keys"]?["gpg_public_keys"]?.elements ?? []).compactMap { $0["ascii_armor"]?.stringValue }
            let absoluteSums = try HTTPURL.resolve(shasumsURL, against: url)
            if verified != nil {
                // One signed file must cover every platform. Its URL may still differ per document (a
                // signed link carries its own expiry, as this registry's do): then the bytes must not.
                if sumsURL != absoluteSums {
                    let other = dir + "/.\(sumsName)-\(platform)"
                    try await fetch(absoluteSums, to: other, limit: Int64(ProviderReleaseLimits.maximumShasumsBytes), out: nil)
                    defer { unlink(other) }
                    let limit = ProviderReleaseLimits.maximumShasumsBytes
                    guard let theirs = FileSystem.read(other, limit: limit), theirs == FileSystem.read(dir + "/" + sumsName, limit: limit) else {
                        throw CLIError(
                            "the upstream names another SHA256SUMS for \(platform) of \(provider) \(version); one signed file must cover every platform"
                        )
                    }
                }
            } else {
                try await fetch(absoluteSums, to: dir + "/" + sumsName, limit: Int64(ProviderReleaseLimits.maximumShasumsBytes), out: nil)
                try await fetch(try HTTPURL.resolve(sigURL, against: url), to: dir + "/" + sumsName + ".sig", limit: 64 << 10, out: nil)
                guard let sums = FileSystem.read(dir + "/" + sumsName, limit: ProviderReleaseLimits.maximumShasumsBytes),
                    let sig = FileSystem.read(dir + "/" + sumsName + ".sig", limit: 64 << 10)
                else { throw CLIError("cannot read the downloaded \(sumsName)") }
                do {
                    verified = try UpstreamRelease.verify(
                        shasums: sums,
                        signature: sig,
                        armoredKeys: keys,
                        sumsName: sumsName,
                        now: Int64(time(nil))
                    )
                } catch { throw CLIError("refusing \(provider) \(version): \(error.message)") }
                sumsURL = absoluteSums
                files += [sumsName, sumsName + ".sig"]
            }
            guard let checked = verified else { continue }
            guard let listed = checked.sums[filename] else {
                throw CLIError("refusing \(provider) \(version): \(filename) is not in the signed \(sumsName)")
            }
            guard listed == shasum.lowercased() else {
                throw CLIError("refusing \(provider) \(version): the download document's shasum for \(filename) is not the signed one")
            }
            let path = dir + "/" + filename
            try await fetch(try HTTPURL.resolve(download, against: url), to: path, limit: PullLimits.maximumZipBytes, out: out, label: filename)
            guard let digest = Self.sha256(file: path), digest == listed else {
                throw CLIError("refusing \(provider) \(version): \(filename) does not match its line in the signed \(sumsName)")
            }
            printError("tfreg: verified \(filename) against the signed \(sumsName)")
            files.append(filename)
        }
        guard let checked = verified else { throw CLIError("no platform to pull") }
        let manifest = "{\"version\":1,\"metadata\":{\"protocol_versions\":[\(protocols.map { "\"\($0)\"" }.joined(separator: ","))]}}"
        if !protocols.isEmpty {
            try FileSystem.writeExclusive(dir + "/" + stem + "_manifest.json", Array(manifest.utf8), mode: 0o600)
            files.append(stem + "_manifest.json")
        }
        try FileSystem.writeExclusive(dir + "/upstream_signing_key.asc", Array(checked.armor.utf8), mode: 0o600)
        files.append("upstream_signing_key.asc")
        return files
    }

    /// A file from the upstream, without credentials (as Terraform fetches them), streamed to `path`,
    /// following up to 5 redirects; a progress line for it on a terminal.
    func fetch(_ url: String, to path: String, limit: Int64, out: ProgressOutputOptions?, label: String = "") async throws {
        var current = url
        for _ in 0..<6 {
            let progress = out?.progress("downloading \(label)", total: nil)
            var request = HTTPRequest(url: current, headers: [RegistryClient.userAgentHeader], timeout: 1800)
            request.responseFile = path
            request.maxResponseBytes = limit
            if let progress { request.onBodyReceived = { progress.advance(Int64($0)) } }
            let r: HTTPResponse
            do { r = try await client.send(request) } catch {
                progress?.finish()
                throw error
            }
            progress?.finish()
            if [301, 302, 303, 307, 308].contains(r.status), let location = r.header("location") {
                current = try HTTPURL.resolve(location, against: current)
                continue
            }
            guard r.status == 200 else { throw CLIError("the upstream answered HTTP \(r.status) for \(HTTPURL.redacted(current))") }
            return
        }
        throw CLIError("too many redirects for \(HTTPURL.redacted(url))")
    }

    /// The lowercase hex SHA-256 of a file.
    static func sha256(file path: String) -> String? { SHA256.hash(fileAt: path).map(Hex.encode) }
}

extension Upstream {
    /// `MAJOR.MINOR` with 1-3 digits each, as a release manifest's protocol versions (what the registry accepts).
    static func isProtocolVersion(_ s: String) -> Bool {
        let parts = s.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 2 && parts.allSatisfy { (1...3).contains($0.utf8.count) && $0.utf8.allSatisfy(ASCII.isDigit) }
    }
}

/// Bounds on what an upstream may send: JSON documents are small; a zip is bounded by the registry's own
/// provider upload limit.
enum PullLimits {
    static let maximumDocumentBytes: Int64 = 8 << 20
    static let maximumZipBytes: Int64 = APIConfiguration.defaultMaxProviderUploadBytes
}

/// URL handling for `mirror pull`: references resolved as Terraform resolves them against the document
/// that names them (absolute https, or a path on the same origin), nothing else.
enum HTTPURL {
    static func resolve(_ reference: String, against base: String) throws -> String {
        guard reference.utf8.count <= 4096 else { throw CLIError("the upstream names a URL longer than 4096 characters") }
        if reference.hasPrefix("https://") { return reference }
        guard reference.hasPrefix("/"), !reference.hasPrefix("//"), base.hasPrefix("https://") else {
            throw CLIError("the upstream names \(redacted(reference)), not an https:// URL or a path")
        }
        let authorityEnd = base.dropFirst(8).firstIndex(of: "/") ?? base.endIndex
        return String(base[..<authorityEnd]) + reference
    }

    /// Scheme, host and path only: a signed link's query is a credential.
    static func redacted(_ url: String) -> String {
        if let q = url.firstIndex(of: "?") { return String(url[..<q]) + "?…" }
        return String(url.prefix(300))
    }
}
