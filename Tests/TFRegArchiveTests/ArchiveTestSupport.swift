import Foundation
import TFRegCore
import TFRegTesting

@testable import TFRegArchive

/// Hand-made tar headers, for archives no well-behaved writer produces.
enum Raw {
    enum Magic { case posix, gnu, none, star }

    /// One 512-byte header with a valid checksum; `patches` overwrite bytes before the checksum is computed.
    static func header(
        _ name: String,
        type: Character = "0",
        size: Int = 0,
        link: String = "",
        mode: String = "0000644",
        magic: Magic = .posix,
        sizeField: [UInt8]? = nil,
        patches: [(Int, [UInt8])] = []
    ) -> [UInt8] {
        headerBytes(
            Array(name.utf8),
            type: UInt8(ascii: type.unicodeScalars.first ?? "0"),
            size: size,
            link: Array(link.utf8),
            mode: mode,
            magic: magic,
            sizeField: sizeField,
            patches: patches
        )
    }

    static func headerBytes(
        _ name: [UInt8],
        type: UInt8,
        size: Int = 0,
        link: [UInt8] = [],
        mode: String = "0000644",
        magic: Magic = .posix,
        sizeField: [UInt8]? = nil,
        patches: [(Int, [UInt8])] = []
    ) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], _ at: Int) { for (i, b) in bytes.enumerated() { h[at + i] = b } }
        put(Array(name.prefix(100)), 0)
        put(Array(mode.utf8), 100)
        put(Array("0000000".utf8), 108)
        put(Array("0000000".utf8), 116)
        put(sizeField ?? Array(String(format: "%011o", size).utf8), 124)
        put(Array("00000000000".utf8), 136)
        h[156] = type
        put(Array(link.prefix(100)), 157)
        switch magic {
        case .posix: put(Array("ustar\u{0}00".utf8), 257)
        case .gnu: put(Array("ustar  \u{0}".utf8), 257)
        case .none: break
        case .star:
            put(Array("ustar\u{0}00".utf8), 257)
            put(Array("tar\u{0}".utf8), 508)
        }
        for (at, bytes) in patches { put(bytes, at) }
        for i in 148..<156 { h[i] = 32 }
        let sum = h.reduce(0) { $0 + Int($1) }
        put(Array(String(format: "%06o", sum).utf8) + [0, 32], 148)
        return h
    }

    /// Data padded to whole blocks.
    static func data(_ bytes: [UInt8]) -> [UInt8] {
        bytes + [UInt8](repeating: 0, count: (512 - bytes.count % 512) % 512)
    }

    static func file(_ name: String, _ text: String = "locals {}\n", magic: Magic = .posix) -> [UInt8] {
        header(name, size: text.utf8.count, magic: magic) + data(Array(text.utf8))
    }

    static func pax(_ records: [(String, String)], type: Character = "x") -> [UInt8] {
        let body = records.flatMap { TarFormat.paxRecord($0.0, Array($0.1.utf8)) }
        return header("././@PaxHeader", type: type, size: body.count) + data(body)
    }

    static let end = [UInt8](repeating: 0, count: 1024)
    static let main = file("main.tf", "output \"x\" { value = 1 }\n")

    static func gz(_ bytes: [UInt8]) -> [UInt8] { (try? Gzip.compress(bytes)) ?? [] }
}

/// Runs a program and returns its exit status and output.
func run(_ argv: [String], cwd: String? = nil) -> (status: Int32, stdout: String, stderr: String) {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    p.arguments = argv
    if let cwd { p.currentDirectoryURL = URL(fileURLWithPath: cwd) }
    let out = Pipe()
    let err = Pipe()
    p.standardOutput = out
    p.standardError = err
    do { try p.run() } catch { return (-1, "", "\(error)") }
    let o = out.fileHandleForReading.readDataToEndOfFile()
    let e = err.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    return (p.terminationStatus, String(decoding: o, as: UTF8.self), String(decoding: e, as: UTF8.self))
}

/// What GNU tar and Python's tarfile make of an archive, and whether extracting it with either leaves
/// anything outside the target directory.
enum Consumers {
    /// Member names as `tar -tzf` lists them.
    static func gnuTarNames(_ path: String) -> [String]? {
        let r = run(["tar", "-tzf", path])
        guard r.status == 0 else { return nil }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// Member names as Python's tarfile reads them (directories without the trailing '/').
    static func pythonNames(_ path: String) -> [String]? {
        let r = run([
            "python3", "-c", "import sys, tarfile\nfor m in tarfile.open(sys.argv[1], 'r:gz'): print(m.name)", path,
        ])
        guard r.status == 0 else { return nil }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// GNU tar's verbose listing (`tar -tvzf`), reduced to "mode-string|size|name[ -> target]".
    static func gnuTarListing(_ path: String) -> [String]? {
        let r = run(["tar", "--numeric-owner", "-tvzf", path])
        guard r.status == 0 else { return nil }
        return r.stdout.split(separator: "\n").map { line in
            let f = line.split(separator: " ", maxSplits: 5, omittingEmptySubsequences: true)
            guard f.count == 6 else { return "unparsed: \(line)" }
            return "\(f[0])|\(f[2])|\(f[5])"
        }
    }

    static func gnuListing(_ entries: [CanonicalEntry]) -> [String] {
        entries.map { e in
            switch e.kind {
            case .file(let size, let x): return "\(x ? "-rwxr-xr-x" : "-rw-r--r--")|\(size)|\(e.path)"
            case .directory: return "drwxr-xr-x|0|\(e.path)/"
            case .symlink(let target): return "lrwxr-xr-x|0|\(e.path) -> \(target)"
            }
        }
    }

    /// Python's full reading: "name|type|linkname|size|mode" per member.
    static func pythonListing(_ path: String) -> [String]? {
        let script =
            "import sys, tarfile\nfor m in tarfile.open(sys.argv[1], 'r:gz'): print('%s|%s|%s|%d|%o' % (m.name, m.type.decode(), m.linkname, m.size, m.mode))"
        let r = run(["python3", "-c", script, path])
        guard r.status == 0 else { return nil }
        return r.stdout.split(separator: "\n").map(String.init)
    }

    /// The same listing from the reader's entries.
    static func listing(_ entries: [CanonicalEntry]) -> [String] {
        entries.map { e in
            switch e.kind {
            case .file(let size, let x): return "\(e.path)|0||\(size)|\(x ? "755" : "644")"
            case .directory: return "\(e.path)|5||0|755"
            case .symlink(let target): return "\(e.path)|2|\(target)|0|755"
            }
        }
    }

    static let escapeCheck = """
        import os, sys
        sandbox, root = os.path.realpath(sys.argv[1]), os.path.realpath(sys.argv[2])
        for dirpath, dirs, files in os.walk(sandbox):
            for n in dirs + files:
                p = os.path.join(dirpath, n)
                if not (p == root or p.startswith(root + os.sep) or root.startswith(p + os.sep)):
                    print("outside: " + p); sys.exit(1)
                if os.path.islink(p):
                    t = os.path.realpath(p)
                    if not (t == root or t.startswith(root + os.sep)):
                        print("link leaves: " + p + " -> " + t); sys.exit(1)
                if not (os.path.isfile(p) or os.path.isdir(p) or os.path.islink(p)):
                    print("special file: " + p); sys.exit(1)
        """

    /// Extracts with GNU tar and with Python (no filter: what an unprotected consumer does) into a fresh
    /// sandbox each, and returns a description of anything that ended up outside the module directory.
    static func extractionEscapes(_ path: String) -> String? {
        for tool in ["gnu", "python"] {
            let sandbox = TemporaryDirectory("tfreg-extract")
            defer { sandbox.remove() }
            let root = sandbox.path + "/a/b/c/module"
            _ = run(["mkdir", "-p", root])
            let r: (status: Int32, stdout: String, stderr: String)
            if tool == "gnu" {
                r = run(["tar", "-xzf", path, "-C", root])
            } else {
                r = run([
                    "python3", "-c",
                    "import sys, tarfile\nt = tarfile.open(sys.argv[1], 'r:gz')\nt.extraction_filter = tarfile.fully_trusted_filter\nt.extractall(sys.argv[2])",
                    path, root,
                ])
            }
            if r.status != 0 { return "\(tool) extraction failed: \(r.stderr)" }
            let check = run(["python3", "-c", escapeCheck, sandbox.path, root])
            if check.status != 0 { return "\(tool): \(check.stdout)" }
        }
        return nil
    }
}
