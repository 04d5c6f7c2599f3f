import FuzzSupport
import TFRegSigV4

/// The SigV4 canonical request builder and both signing forms, fed a fuzzed request. Input: line 1
/// the method, line 2 the path, line 3 the query (`name=value&…`, taken as decoded pairs), then
/// `name: value` header lines. Properties: never traps; signed headers are lowercase and sorted;
/// the normalized path has no dot segments; signing is deterministic.
let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "token")

fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let lines = text.split(separator: "\n", maxSplits: 64, omittingEmptySubsequences: false)
    func line(_ i: Int) -> String { i < lines.count ? String(lines[i]) : "" }
    let query = line(2).split(separator: "&").map { pair -> (name: String, value: String) in
        let kv = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
    }
    let headers = lines.dropFirst(3).prefix(32).map { l -> (name: String, value: String) in
        let kv = l.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        return (String(kv[0]), kv.count > 1 ? String(kv[1]) : "")
    }
    let request = SigV4Request(method: line(0), path: line(1), query: query, headers: headers, payloadHash: SigV4.emptyPayloadHash)
    for s3 in [false, true] {
        let (_, signed) = SigV4.canonicalRequest(request, s3: s3)
        let names = signed.split(separator: ";", omittingEmptySubsequences: false).map(String.init)
        // A ';' in a name splits it in the signed list: not a finding.
        guard (names == names.sorted() && names.allSatisfy({ $0 == $0.lowercased() })) || headers.contains(where: { $0.name.contains(";") })
        else {
            fatalError("signed headers \(signed.debugDescription)")
        }
    }
    let normalized = SigV4.normalizePath(request.path)
    guard !normalized.split(separator: "/").contains(where: { $0 == "." || $0 == ".." }) else { fatalError("dot segment in \(normalized)") }
    let signer = SigV4Signer(service: lines.count % 2 == 0 ? "s3" : "sts", region: "eu-west-1")
    let a = signer.sign(request, credentials: credentials, now: 1_800_000_000)
    let b = signer.sign(request, credentials: credentials, now: 1_800_000_000)
    guard a.headers.map(\.value) == b.headers.map(\.value) else { fatalError("signing is not deterministic") }
    _ = signer.presignedQuery(request, credentials: credentials, now: 1_800_000_000, expires: 900)
}
