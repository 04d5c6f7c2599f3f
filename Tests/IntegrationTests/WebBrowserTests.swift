import Foundation
import Testing

/// The web pages in a real browser: `tfreg serve` over HTTPS, headless Chromium driven by Selenium
/// (web_browser.py). Screenshots at desktop and phone widths go to `build/screenshots/`.
@Suite(.serialized) struct WebBrowserTests {
    static var chromedriver: String? {
        which("chromedriver") ?? (FileManager.default.fileExists(atPath: "/usr/bin/chromedriver") ? "/usr/bin/chromedriver" : nil)
    }
    static var seleniumInstalled: Bool { (try? runCommand(which("python3") ?? "/usr/bin/python3", ["-c", "import selenium"]).status) == 0 }
    static var available: Bool { chromedriver != nil && (which("chromium") != nil || which("chromium-browser") != nil) && seleniumInstalled }

    @Test(.enabled(if: available, "chromium, chromium-driver or selenium is missing (make test-deps installs them)"))
    func signInSearchOpenAModuleAndSwitchVersion() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let publisher = try server.token("publisher", namespace: "acme", flags: ["--download", "--upload"])
        _ = try server.token("other", namespace: "other", flags: ["--download", "--upload"])
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let work = makeTemporaryDirectory("web-browser")
        for (module, version) in [("acme/vpc/aws", "1.0.0"), ("acme/vpc/aws", "1.1.0"), ("acme/dns/aws", "0.1.0")] {
            let parts = module.split(separator: "/").map(String.init)
            try writeDocumentedModule(at: "\(work)/\(parts[1])-\(version)")
            let r = try server.tfreg(
                [
                    "publish", "\(work)/\(parts[1])-\(version)", "--registry", server.host, "-n", parts[0], "--name", parts[1], "--system",
                    parts[2], "--module-version", version,
                ],
                env: ["TFREG_TOKEN": publisher]
            )
            #expect(r.status == 0, "\(r.stderr)")
        }
        let shots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("build/screenshots").path
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("web_browser.py").path
        let r = try runCommand(
            which("python3") ?? "/usr/bin/python3",
            [script, server.baseURL, reader, shots],
            env: ["CHROMEDRIVER": Self.chromedriver!, "HOME": work]
        )
        #expect(r.status == 0, "\(r.stdout)\(r.stderr)")
        let seen = (try? JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]) ?? [:]
        #expect((seen["signed_in_as"] as? String)?.hasPrefix("token:reader") == true, "\(seen)")
        #expect(seen["index_rows"] as? [String] == ["acme/dns/aws", "acme/vpc/aws"], "\(seen)")
        #expect(seen["search_rows"] as? [String] == ["acme/vpc/aws"], "\(seen)")
        #expect((seen["module_h1"] as? String)?.contains("vpc/aws") == true && (seen["module_h1"] as? String)?.contains("1.1.0") == true, "\(seen)")
        #expect((seen["usage"] as? String)?.contains("source  = \"\(server.host)/acme/vpc/aws\"") == true, "\(seen)")
        #expect((seen["usage"] as? String)?.contains("version = \"~> 1.1\"") == true, "\(seen)")
        #expect(
            seen["switched_to"] as? String == "1.0.0" && (seen["version_url"] as? String)?.hasSuffix("/modules/acme/vpc/aws/1.0.0") == true,
            "\(seen)"
        )
        #expect(seen["current_version"] as? String == "1.0.0" && (seen["version_h1"] as? String)?.contains("1.0.0") == true, "\(seen)")
        #expect(seen["script_visible_cookies"] as? String == "", "the session cookie is HttpOnly: \(seen)")
        #expect(seen["stylesheet_applied"] as? String == "solid", "\(seen)")
        #expect((seen["console"] as? [String] ?? []).filter { $0.contains("Content Security Policy") || $0.contains("Refused") }.isEmpty, "\(seen)")
        #expect(seen["index_phone_overflow"] as? Bool == false && seen["module_phone_overflow"] as? Bool == false, "\(seen)")
        #expect(
            (seen["after_logout"] as? String)?.hasSuffix("/login") == true && (seen["after_logout_index"] as? String)?.hasSuffix("/login") == true,
            "\(seen)"
        )
        // The documentation extracted at publish, in the rendered DOM: the input names, the README.
        // The root module's inputs, then its submodule's (modules/subnets).
        #expect(seen["input_names"] as? [String] == ["cidr_block", "azs", "tags", "name_prefix", "secret", "vpc_id"], "\(seen)")
        let body = seen["body_text"] as? String ?? ""
        #expect(body.contains("It routes traffic through zanzibar.") && !body.contains("No documentation extracted"), "\(seen)")
        #expect((seen["headings"] as? [String] ?? []).contains("Submodules") && (seen["usage"] as? String)?.contains("cidr_block") == true, "\(seen)")
        for name in ["login", "index", "module"] {
            for width in ["desktop", "phone"] {
                #expect(FileManager.default.fileExists(atPath: "\(shots)/\(name)-\(width).png"), "\(name)-\(width)")
            }
        }
    }

    /// `tfreg browse HOST --no-open`: the caller's token becomes a printed one-time link that signs a
    /// client in once (a session cookie and a redirect to `/`), and never appears in the link.
    @Test func browsePrintsAOneTimeSignInLink() throws {
        let server = try ServerProcess()
        defer { _ = server.stop() }
        let reader = try server.token("reader", namespace: "acme", flags: ["--download"])
        let r = try server.tfreg(["browse", server.host, "--no-open"], env: ["TFREG_TOKEN": reader])
        let link = r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(r.status == 0 && link.hasPrefix("\(server.baseURL)/login?code=tfc_") && !link.contains(reader), "\(r.stdout)\(r.stderr)")
        let curl = which("curl") ?? "/usr/bin/curl"
        let first = try runCommand(curl, ["-s", "-o", "/dev/null", "-D", "-", "--cacert", server.cert, link])
        #expect(first.stdout.hasPrefix("HTTP/1.1 303") || first.stdout.hasPrefix("HTTP/2 303"), "\(first.stdout)")
        #expect(first.stdout.lowercased().contains("set-cookie: tfreg_session=tfs_"), "\(first.stdout)")
        let again = try runCommand(curl, ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", server.cert, link])
        #expect(again.stdout == "401", "a code works once: \(again.stdout)")
        let bad = try server.tfreg(["browse", server.host, "--no-open"], env: ["TFREG_TOKEN": "tfr_" + String(repeating: "A", count: 43)])
        #expect(bad.status != 0 && bad.stdout.isEmpty, "\(bad.stdout)\(bad.stderr)")
    }
}
