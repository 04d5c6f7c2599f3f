import Foundation
import Testing

/// A short run of `make soak` (scripts/soak.sh): 15 s of wrk against versions and download with valid,
/// mutated and garbage tokens over HTTPS; no 5xx, only 200/204/401, the server alive afterwards; four
/// slow readers (pipelining, never reading) all closed by the write deadline (5 s).
@Suite(.enabled(if: which("wrk") != nil, "needs wrk (make test-deps installs it)"))
struct SoakTests {
    @Test func fifteenSecondsOfMixedTokensGiveNo5xx() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let r = try runCommand(
            "/bin/bash",
            [root.appendingPathComponent("scripts/soak.sh").path],
            env: [
                "TFREG_BIN": TFRegBinary.path, "SOAK_SECONDS": "15", "SOAK_CONNECTIONS": "16", "HOME": NSTemporaryDirectory(),
            ]
        )
        print(
            r.stdout.split(separator: "\n").filter { $0.hasPrefix("status") || $0.hasPrefix("VmRSS") || $0.hasPrefix("slow") || $0.hasPrefix("soak") }
                .joined(separator: "\n")
        )
        #expect(r.status == 0, "\(r.stdout)\n\(r.stderr)")
        #expect(r.stdout.contains("soak OK"))
    }
}
