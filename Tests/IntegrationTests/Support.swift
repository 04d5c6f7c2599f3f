import Foundation
import TFRegHTTPClient
import Testing

/// Locates the built `tfreg` binary: `TFREG_BIN`, else `.build/debug/tfreg` next to this package.
enum TFRegBinary {
    static var path: String {
        if let p = ProcessInfo.processInfo.environment["TFREG_BIN"], !p.isEmpty { return p }
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/debug/tfreg").path
    }
}

struct CommandResult {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// Runs a program to completion with a clean environment plus `env`.
func runCommand(_ executable: String, _ args: [String], env: [String: String] = [:], cwd: String? = nil, stdin: String? = nil) throws -> CommandResult
{
    let p = Process()
    p.executableURL = URL(fileURLWithPath: executable)
    p.arguments = args
    // TFREG_ENV_FILE empty: never this machine's /etc/tfreg/tfreg.env (tests run as root).
    var environment = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8", "TFREG_ENV_FILE": ""]
    for (k, v) in env { environment[k] = v }
    p.environment = environment
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    if let stdin {
        let inPipe = Pipe()
        p.standardInput = inPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(stdin.utf8))
        try inPipe.fileHandleForWriting.close()
    } else {
        p.standardInput = FileHandle.nullDevice
        try p.run()
    }
    // Read both pipes concurrently so neither fills up.
    let errData = LockedData()
    let errThread = Thread { errData.set(err.fileHandleForReading.readDataToEndOfFile()) }
    errThread.start()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    while !errData.done { usleep(1000) }
    return CommandResult(
        status: p.terminationStatus,
        stdout: String(decoding: outData, as: UTF8.self),
        stderr: String(decoding: errData.value, as: UTF8.self)
    )
}

final class LockedData: @unchecked Sendable {
    private let lock = NSLock()
    private var data = Data()
    private var finished = false
    func set(_ d: Data) {
        lock.lock()
        data = d
        finished = true
        lock.unlock()
    }
    var done: Bool {
        lock.lock()
        defer { lock.unlock() }
        return finished
    }
    var value: Data {
        lock.lock()
        defer { lock.unlock() }
        return data
    }
}

/// Finds an executable on PATH.
func which(_ name: String) -> String? {
    for dir in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let candidate = "\(dir)/\(name)"
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
}

func makeTemporaryDirectory(_ prefix: String) -> String {
    let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString.prefix(8))"
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A self-signed certificate for 127.0.0.1 (an IP SAN: Terraform rejects registry hosts without a dot,
/// so tests use 127.0.0.1, never localhost).
func makeDevCertificate(in dir: String) throws -> (cert: String, key: String) {
    let cert = dir + "/cert.pem"
    let key = dir + "/key.pem"
    let r = try runCommand(
        which("openssl") ?? "/usr/bin/openssl",
        [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert,
            "-days", "2", "-subj", "/CN=tfreg-test", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ]
    )
    guard r.status == 0 else { throw TestFailure("openssl failed: \(r.stderr)") }
    return (cert, key)
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// `tfreg serve` as a child process over HTTPS on a free port, with its own data directory.
final class ServerProcess: @unchecked Sendable {
    let dir: String
    let dataDir: String
    let cert: String
    let key: String
    let process = Process()
    private(set) var port = 0
    private let log = LockedLog()

    var host: String { "127.0.0.1:\(port)" }
    var baseURL: String { "https://\(host)" }
    var logText: String { log.text }

    /// Whether the log shows `text` within `seconds`: the server's standard error is read on another
    /// thread, so a line written just before a response may reach `logText` just after it.
    func logShows(_ text: String, within seconds: Double = 5) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !log.text.contains(text) {
            if Date() >= deadline { return false }
            usleep(20_000)
        }
        return true
    }

    /// The port of the metrics listener (`--metrics-listen 127.0.0.1:0`), from the "metrics listening"
    /// log line; nil when there is none within 10 s.
    var metricsPort: Int? {
        guard logShows(#""metrics_port":""#, within: 10),
            let range = logText.range(of: #""metrics_port":"(\d+)""#, options: .regularExpression)
        else { return nil }
        return Int(logText[range].filter(\.isNumber))
    }

    /// `tls: false` serves plain HTTP (for raw-socket tests); `extraArgs` go after `serve`'s own;
    /// `openFileLimit` runs the server under `ulimit -n`.
    init(
        extraEnv: [String: String] = [:],
        dataDir existing: String? = nil,
        port fixedPort: Int = 0,
        tls: Bool = true,
        extraArgs: [String] = [],
        openFileLimit: Int? = nil
    ) throws {
        dir = makeTemporaryDirectory("tfreg-it")
        dataDir = existing ?? dir + "/data"
        (cert, key) = try makeDevCertificate(in: dir)
        let serveArgs =
            ["serve", "--port", String(fixedPort)] + (tls ? ["--tls-cert", cert, "--tls-key", key] : []) + [
                "--data-dir", dataDir, "--log-format", "json",
            ] + extraArgs
        if let openFileLimit {
            process.executableURL = URL(fileURLWithPath: "/bin/bash")
            process.arguments = ["-c", "ulimit -n \(openFileLimit) && exec \"$0\" \"$@\"", TFRegBinary.path] + serveArgs
        } else {
            process.executableURL = URL(fileURLWithPath: TFRegBinary.path)
            process.arguments = serveArgs
        }
        var env = ["PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "HOME": dir, "TFREG_ENV_FILE": ""]
        for (k, v) in extraEnv { env[k] = v }
        process.environment = env
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        let log = self.log
        err.fileHandleForReading.readabilityHandler = { handle in
            let d = handle.availableData
            if !d.isEmpty { log.append(String(decoding: d, as: UTF8.self)) }
        }
        try process.run()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            if let range = log.text.range(of: #""port":"(\d+)""#, options: .regularExpression) {
                let digits = log.text[range].filter(\.isNumber)
                port = Int(digits) ?? 0
                if port > 0 { return }
            }
            if !process.isRunning { throw TestFailure("tfreg serve exited early: \(log.text)") }
            usleep(20_000)
        }
        process.terminate()
        throw TestFailure("tfreg serve did not report its port: \(log.text)")
    }

    /// SIGTERM, then the exit status.
    func stop() -> Int32 {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        return process.terminationStatus
    }

    deinit {
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(atPath: dir)
    }

    /// Runs `tfreg` against this server's data directory and certificate.
    func tfreg(_ args: [String], env: [String: String] = [:], stdin: String? = nil) throws -> CommandResult {
        var e = ["TFREG_DATA_DIR": dataDir, "SSL_CERT_FILE": cert, "HOME": dir]
        for (k, v) in env { e[k] = v }
        return try runCommand(TFRegBinary.path, args, env: e, stdin: stdin)
    }

    /// Creates a static token with a grant and returns it.
    func token(_ name: String, namespace: String, flags: [String]) throws -> String {
        let r = try tfreg(["grant", "create", "--namespace", namespace, "--new-token", name] + flags)
        guard r.status == 0 else { throw TestFailure("grant create failed: \(r.stderr)") }
        return r.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    var client: CurlHTTPClient { CurlHTTPClient(caBundle: cert) }
}

final class LockedLog: @unchecked Sendable {
    private let lock = NSLock()
    private var buffer = ""
    func append(_ s: String) {
        lock.lock()
        buffer += s
        lock.unlock()
    }
    var text: String {
        lock.lock()
        defer { lock.unlock() }
        return buffer
    }
}

/// Writes a small module whose output names its version.
func writeModule(at dir: String, version: String) throws {
    try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    try "output \"version\" {\n  value = \"\(version)\"\n}\n".write(toFile: dir + "/main.tf", atomically: true, encoding: .utf8)
    try "# test module \(version)\n".write(toFile: dir + "/README.md", atomically: true, encoding: .utf8)
}
