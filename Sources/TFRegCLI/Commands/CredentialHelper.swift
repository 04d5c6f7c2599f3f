import ArgumentParser
import Glibc
import TFRegAPI
import TFRegAWS
import TFRegCore
import TFRegHTTPClient
import TFRegSystem

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

extension TFReg {
    /// Terraform's credentials-helper protocol (PROTOCOL.md, "Terraform credentials"). Started as
    /// `terraform-credentials-tfreg [args…] get|store|forget HOST`.
    struct CredentialHelper: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "credential-helper",
            abstract: "Terraform credentials helper: get, store and forget registry tokens per host.",
            discussion: """
                get HOST prints {"token":"…"} for a token stored with store; otherwise, when HOST is a tfreg \
                registry offering IAM authentication, a short-lived token obtained with your AWS IAM identity \
                (as tfreg token does), cached in $XDG_CACHE_HOME/tfreg/tokens.json (mode 0600) per host and per \
                AWS credentials, and reused until a minute before it expires, only for the same credentials; \
                otherwise {}. Helper arguments: --expiration-window N \
                (or --time N; default 3600), --service execute-api|lambda, --no-iam. store HOST reads \
                {"token":"…"} from standard input; forget HOST removes the stored and the cached token. Stored \
                tokens live in $XDG_CONFIG_HOME/tfreg/credentials.json (default ~/.config/tfreg), mode 0600.

                Examples:
                  terraform-credentials-tfreg get registry.example.com   # as Terraform runs it
                  echo '{"token":"tfr_..."}' | terraform-credentials-tfreg store registry.example.com
                """
        )

        @Argument(parsing: .captureForPassthrough, help: "[helper arguments…] get|store|forget HOST")
        var words: [String] = []

        func run() async throws {
            // Arguments pass through untouched (Terraform's own), so --help arrives here: show the help.
            // Terraform never passes it, and no host is spelled like it.
            if words.contains(where: { $0 == "--help" || $0 == "-h" }) { throw CleanExit.helpRequest(Self.self) }
            guard words.count >= 2, let verb = ["get", "store", "forget"].first(where: { $0 == words[words.count - 2] }) else {
                drainStandardInputIfStore()
                throw CLIError.usage("usage: terraform-credentials-tfreg [args…] get|store|forget HOST")
            }
            let host = words[words.count - 1].lowercased()
            guard URLParsing.isValidHost(host) else {
                drainStandardInputIfStore()
                throw CLIError("invalid host '\(host)'")
            }
            let file = CredentialsFile()
            switch verb {
            case "get":
                let token: String?
                do {
                    if let stored = try file.load()[host] {
                        token = stored
                    } else if let options = try helperOptions() {
                        token = try await iamToken(host: host, options)
                    } else {
                        token = nil
                    }
                } catch {
                    throw Self.reported(error, host: host)
                }
                if let token {
                    print(String(decoding: try JSONEncoder().encode(["token": token]), as: UTF8.self))
                } else {
                    print("{}")
                }
            case "store":
                let input = FileSystem.readStandardInput()
                struct Stored: Decodable { let token: String }
                guard let stored = try? JSONDecoder().decode(Stored.self, from: Data(input)), !stored.token.isEmpty,
                    stored.token.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
                else { throw CLIError("store expects a JSON object with a \"token\" string on standard input") }
                var all = try file.load()
                all[host] = stored.token
                try file.save(all)
            default:
                var all = try file.load()
                if all.removeValue(forKey: host) != nil { try file.save(all) }
                IAMTokenCache().forget(host: host, now: SystemClock().now())
            }
        }

        struct Options {
            var seconds = 3600
            var service: String?
        }

        /// The helper arguments before the verb; nil with --no-iam.
        private func helperOptions() throws -> Options? {
            var args = Array(words.dropLast(2))
            var o = Options()
            var iam = true
            while !args.isEmpty {
                let a = args.removeFirst()
                switch a {
                case "--iam": iam = true
                case "--no-iam": iam = false
                case "--time", "-T", "--expiration-window":
                    guard let v = args.first, let n = Int(v), n > 0 else { throw CLIError.usage("\(a) needs a positive number of seconds") }
                    args.removeFirst()
                    o.seconds = n
                case "--service":
                    guard let v = args.first, ["execute-api", "lambda"].contains(v) else {
                        throw CLIError.usage("--service needs execute-api or lambda")
                    }
                    args.removeFirst()
                    o.service = v
                default: throw CLIError.usage("unknown helper argument '\(a)' (expected --expiration-window N, --service S, --no-iam)")
                }
            }
            return iam ? o : nil
        }

        /// A cached IAM token obtained with the credentials the helper would use now, with more than a
        /// minute left; else a fresh one if HOST offers IAM authentication; nil for any other host.
        private func iamToken(host: String, _ o: Options) async throws -> String? {
            let now = SystemClock().now()
            let env = Env.all
            let http = RegistryClient.make(environment: env)
            let cache = IAMTokenCache()
            // Without usable AWS credentials there is no cache key, so no cached token either.
            let aws = Result { () throws(AWSError) in try AWSConfiguration.resolve(environment: env, http: http) }
            func cached() async -> (key: String?, token: String?) {
                guard case .success(let aws) = aws, let key = try? await IAMTokenCache.key(host: host, aws: aws) else { return (nil, nil) }
                return (key, cache.token(key: key, host: host, now: now)?.token)
            }
            // Keys known locally are checked before any network call. Keys learnt only by asking (SSO,
            // instance metadata, …) are asked for only once HOST has proved to be a tfreg registry:
            // Terraform runs the helper for every host it contacts, registry.terraform.io included.
            var key: String?
            if case .success(let a) = aws, case .keys = a.credentialIdentity {
                let hit = await cached()
                if let token = hit.token { return token }
                key = hit.key
            }
            let registry = try RegistryHost(host)
            guard let discovery = await IAMTokenClient.iamDiscovery(host: registry, http: http) else { return nil }
            if key == nil {
                let hit = await cached()
                if let token = hit.token { return token }
                key = hit.key
            }
            let issued = try await IAMTokenClient.fetch(
                host: registry,
                seconds: o.seconds,
                service: o.service,
                discovery: discovery,
                aws: aws,
                http: http
            )
            if let key {
                let entry = IAMTokenCache.Entry(
                    host: host,
                    principal: issued.principal,
                    token: issued.token,
                    expires_at: issued.expiresAt ?? now + Int64(o.seconds)
                )
                cache.put(key: key, entry, now: now)
            }
            return issued.token
        }

        /// A failed `get`, said where its user sees it. Terraform runs the helper with standard error
        /// captured and, when it exits non-zero, only logs "Failed to get credentials for HOST: error in
        /// HELPER: STDERR (ignoring)" (shown with TF_LOG=WARN) and sends the request without a token,
        /// so the terminal shows a bare "401 Unauthorized" (terraform-svchost auth/helper_program.go,
        /// terraform internal/registry/client.go). So: one line on standard error (without a newline
        /// when captured, so it stays inside Terraform's log line) and, when standard error is not
        /// itself a terminal, the same line on the controlling terminal if there is one. The line holds the reason only (no token, no key) and
        /// no control characters (a registry's error text is part of it). The exit code stays the
        /// error's kind.
        static func reported(_ error: any Error, host: String) -> any Error {
            guard let e = CLIError.from(error) else { return error }
            let line = "tfreg credentials helper: no token for \(host): " + oneLine(e.message)
            if Terminal.standardErrorIsTerminal {
                printError(line)
            } else {
                // Captured (Terraform): no newline, which Terraform would put inside its log line.
                writeStandardError(Array(line.utf8))
                Terminal.write(line: line)
            }
            return ExitCode(e.exitCode)
        }

        /// `text` on one line: line breaks become "; ", other control characters "?"; at most 1000 bytes.
        static func oneLine(_ text: String) -> String {
            var out = ""
            for scalar in text.unicodeScalars {
                switch scalar.value {
                case 0x0a: out += "; "
                case 0x0d: continue
                case 0..<0x20, 0x7f..<0xa0: out += "?"
                default: out.unicodeScalars.append(scalar)
                }
                if out.utf8.count >= 1000 { return out + "…" }
            }
            return out
        }

        private func drainStandardInputIfStore() {
            if words.contains("store") { _ = FileSystem.readStandardInput() }
        }
    }
}

/// tfreg's own credentials file: `{"hosts": {"HOST": {"token": "…"}}}`, mode 0600, written atomically.
struct CredentialsFile {
    let path: String

    init(path: String = CredentialsFile.defaultPath) { self.path = path }

    static var defaultPath: String { (Env.value("XDG_CONFIG_HOME") ?? Env.home + "/.config") + "/tfreg/credentials.json" }

    private struct Contents: Codable {
        struct Entry: Codable { let token: String }
        var hosts: [String: Entry]
    }

    /// The stored tokens win over IAM, so the file gets the IAM token cache's checks and more (the
    /// same `FileSystem.Trust`): a regular file, not a link, owned by this user, that nobody else may
    /// read or write. Anything else is refused with its cause, never handed to Terraform.
    static let trust = FileSystem.Trust.privateToCaller

    func load() throws -> [String: String] {
        let read: [UInt8]?
        do { read = try Self.trust.read(path, limit: 1 << 20) } catch {
            throw CLIError.configuration("not using the stored tokens: \(error)")
        }
        guard let bytes = read else { return [:] }
        guard let contents = try? JSONDecoder().decode(Contents.self, from: Data(bytes)) else {
            throw CLIError("\(path) is not a valid tfreg credentials file")
        }
        return contents.hosts.mapValues(\.token)
    }

    func save(_ hosts: [String: String]) throws {
        let dir = String(path[..<path.lastIndex(of: "/")!])
        try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o700))
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        let data = try encoder.encode(Contents(hosts: hosts.mapValues { Contents.Entry(token: $0) }))
        try RegistryError.storage(FileSystem.writeAtomically(path, Array(data), mode: 0o600))
    }
}
