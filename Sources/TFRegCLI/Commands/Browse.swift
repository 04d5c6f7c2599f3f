import ArgumentParser
import Glibc
import TFRegAPI
import TFRegHTTPClient
import TFRegJSON
import TFRegSystem

extension TFReg {
    /// `tfreg browse [HOST]`: signs the browser in with the caller's own credentials.
    struct Browse: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Open the registry's web pages, signed in as you.",
            discussion: """
                Gets your registry token as every tfreg command does (--token-file, TFREG_TOKEN, Terraform's \
                credentials for HOST, else an IAM token for your AWS identity when the registry issues them), \
                trades it at POST https://HOST/login/code for a one-time code valid 60 seconds, and prints the \
                sign-in link https://HOST/login?code=…; with xdg-open on the PATH it also opens it (not with \
                --no-open). The browser's session ends when the token would have (at most 8 hours). The token \
                itself never goes to the browser.

                Examples:
                  tfreg browse registry.example.com
                  tfreg browse registry.example.com --no-open
                """
        )

        @Argument(help: "The registry host, with a port if not 443.")
        var host: String

        @OptionGroup var auth: TokenOptions

        @Flag(name: .customLong("no-open"), help: "Print the link only; do not start xdg-open.")
        var noOpen = false

        func run() async throws {
            let registry = try RegistryHost(host)
            let token = try await auth.token(for: registry)
            let client = RegistryClient.make(caBundle: try auth.caBundle)
            let r = try await client.send(
                HTTPRequest(
                    method: "POST",
                    url: "https://\(registry.name)\(WebRoute.loginCode.path)",
                    headers: [("Authorization", "Bearer \(token)"), RegistryClient.userAgentHeader],
                    body: [],
                    timeout: 30
                )
            )
            guard r.status == 200, let doc = try? JSONParser.parse(r.body), let path = doc["path"]?.stringValue,
                path.hasPrefix(WebRoute.login.path + "?code="), path.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7f })
            else {
                if r.status == 404 { throw CLIError("\(registry.name) has no web pages (an older tfreg?)", kind: .notFound) }
                throw CLIError.registry(r, action: "get a sign-in code")
            }
            let url = "https://\(registry.name)\(path)"
            print(url)
            if !noOpen, let opener = Self.findOnPath("xdg-open") {
                Self.spawnDetached(opener, [opener, url])
                printError("tfreg: opening the link with xdg-open (valid 60 seconds, once)")
            }
        }

        /// The first executable `name` in `PATH`.
        static func findOnPath(_ name: String) -> String? {
            for dir in (Env.value("PATH") ?? "/usr/bin:/bin").split(separator: ":") where !dir.isEmpty {
                let candidate = "\(dir)/\(name)"
                if access(candidate, X_OK) == 0 { return candidate }
            }
            return nil
        }

        /// Starts `argv` with standard input, output and error on /dev/null, without waiting for it.
        static func spawnDetached(_ path: String, _ argv: [String]) {
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            for fd: Int32 in 0...2 { posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0) }
            var cArgs = argv.map { strdup($0) } + [nil]
            defer { for p in cArgs { free(p) } }
            var pid: pid_t = 0
            _ = posix_spawn(&pid, path, &actions, nil, &cArgs, environ)
        }
    }
}
