import Foundation
import Testing

/// Runs Debian's gpg in a throwaway GNUPGHOME (keys made by the real tool, as issue 20 asks).
final class GPG {
    let home: String

    init() throws {
        var template = Array("/tmp/tfreg-pgp-XXXXXX".utf8CString)
        let p = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        home = String(cString: try #require(p))
    }

    /// Stops the agent this home started and removes the directory.
    func close() {
        _ = try? run(executable: "/usr/bin/gpgconf", ["--homedir", home, "--kill", "all"])
        try? FileManager.default.removeItem(atPath: home)
    }

    @discardableResult
    func gpg(_ args: [String]) throws -> Data {
        try run(executable: "/usr/bin/gpg", ["--homedir", home, "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase", ""] + args)
    }

    /// Runs another tool (python3 for zips) with this home's environment.
    @discardableResult
    func runTool(_ executable: String, _ args: [String]) throws -> Data { try run(executable: executable, args) }

    private func run(executable: String, _ args: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = args
        process.environment = ["PATH": "/usr/bin:/bin", "GNUPGHOME": home, "LANG": "C"]
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errors = err.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw GPGFailure(message: "\(args.joined(separator: " ")): \(String(decoding: errors, as: UTF8.self))")
        }
        return data
    }

    /// Makes a key (`rsa2048`, `ed25519`, …) that may sign; returns its fingerprint as gpg prints it.
    func generate(_ uid: String, algorithm: String, usage: String = "sign") throws -> String {
        try gpg(["--quick-gen-key", uid, algorithm, usage, "never"])
        return try fingerprints(uid).first ?? ""
    }

    /// The primary then subkey fingerprints of `who`, from `--with-colons`.
    func fingerprints(_ who: String) throws -> [String] {
        let listing = String(decoding: try gpg(["--with-colons", "--fingerprint", "--fingerprint", who]), as: UTF8.self)
        return listing.split(separator: "\n").filter { $0.hasPrefix("fpr:") }.map { line in
            String(line.split(separator: ":", omittingEmptySubsequences: false)[9])
        }
    }

    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = home + "/" + name
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    func read(_ path: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: URL(fileURLWithPath: path))) }

    /// A detached signature of `data` by `key` (extra options: `--armor`, `--digest-algo`, `--textmode`).
    func sign(_ data: [UInt8], key: String, options: [String] = []) throws -> [UInt8] {
        let input = try write("data-\(UUID().uuidString)", data)
        let output = input + ".sig"
        try gpg(["--local-user", key + "!", "--detach-sign", "--output", output] + options + [input])
        return try read(output)
    }
}

struct GPGFailure: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
