import FuzzSupport
import TFRegSystem

@testable import TFRegCore
@testable import TFRegStoreAWS

/// The server side of IAM authentication: `SignedCallerIdentityRequest.validate` on a fuzzed
/// request, STS's answer (`STSCallerIdentityVerifier.callerARN`) and the ARN grammar (`Identity`).
/// Input: line 1 the method, line 2 the URL, then `name: value` header lines up to an empty line,
/// then the body. Properties: never traps; identity normalization is idempotent; RFC 3339 times
/// round-trip through their canonical form.
struct FixedClock: WallClock { func now() -> Int64 { 1_800_000_000 } }

fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 64, omittingEmptySubsequences: false)
    if lines.count >= 2 {
        var headers: [(name: String, value: String)] = []
        var i = 2
        while i < lines.count, !lines[i].isEmpty, i < 64 {
            let kv = lines[i].split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
            headers.append((String(kv[0]), kv.count > 1 ? kv[1].trimmingSpaces() : ""))
            i += 1
        }
        let body = i + 1 < lines.count ? lines[(i + 1)...].joined(separator: "\n") : ""
        let request = SignedCallerIdentityRequest(method: String(lines[0]), url: String(lines[1]), headers: headers, body: body)
        _ = try? request.validate(audience: "registry.example.com", now: FixedClock().now())
        _ = try? request.validate(audience: "registry.example.com")
    }
    for line in lines.prefix(4) {
        _ = parseAmzDate(String(line))
        // timegm normalizes (Feb 30 → Mar 2), so the property is on the canonical form.
        if let t = parseRFC3339(String(line)) {
            let canonical = rfc3339(t)
            guard canonical.utf8.count != 20 || parseRFC3339(canonical) == t else { fatalError("RFC 3339 round trip: \(line)") }
        }
        if let id = try? Identity(line) {
            guard let again = try? Identity(id.value), again == id else { fatalError("Identity normalization is not idempotent: \(id)") }
        }
    }
    if let arn = STSCallerIdentityVerifier.callerARN(bytes) { _ = try? Identity(arn) }
}
