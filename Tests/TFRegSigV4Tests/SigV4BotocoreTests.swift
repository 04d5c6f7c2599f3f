import Foundation
import TFRegSystem
import Testing

@testable import TFRegSigV4

/// Signs the same randomized requests with botocore (the AWS SDK for Python) and with tfreg, and
/// compares canonical requests, Authorization headers and presigned query strings.
@Suite struct SigV4BotocoreTests {
    /// A small deterministic generator, so a failure can be reproduced from its seed.
    struct Random {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func pick<T>(_ items: [T]) -> T { items[Int(next() % UInt64(items.count))] }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    }

    static var python: String? {
        // The python3 on PATH (the one `make test` installs botocore into) comes first.
        for p in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map({ "\($0)/python3" }) + ["/usr/bin/python3"]
        where FileManager.default.isExecutableFile(atPath: p) { return p }
        return nil
    }

    struct Case: Codable {
        var method, host, path, query, body, service, region, access_key, secret_key, amz_date: String
        var token: String?
        var headers: [[String]]
        var presign_expires: Int?
        // What tfreg signs: the decoded query items.
        var items: [[String]]
    }

    struct Result: Codable {
        var canonical_request: String?
        var authorization: String?
        var presigned_query: String?
    }

    func makeCases(seed: UInt64, count: Int) -> [Case] {
        var rng = Random(state: seed)
        let segments = ["a", "b c", "ü", "%20x", "", "..", ".", "Ā-ß", "x+y", "~tilde", "semi;colon", "=eq", "日本", "a@b", "*"]
        let keys = ["a", "A", "b", "Param", "key with space", "ü", "x-amz-meta", "empty", "k~", "k/slash", "k&amp"]
        let values = ["", "1", "v", "value with spaces", "ü", "a=b", "x&y", "/path/", "~-._", "日本語", "+plus"]
        let headerNames = ["X-Custom", "x-amz-meta-Thing", "Content-Type", "My-Header", "x-amz-target"]
        let headerValues = ["value", "  padded  ", "a   b\tc", "\"quoted   value\"", "application/x-amz-json-1.0", "ü"]
        var cases: [Case] = []
        for i in 0..<count {
            let service = rng.pick(["s3", "sts", "dynamodb", "execute-api", "lambda"])
            let decodedPath = "/" + (0..<rng.int(0...4)).map { _ in rng.pick(segments) }.joined(separator: "/")
            // The wire path: each segment percent-encoded once.
            let wirePath = decodedPath.split(separator: "/", omittingEmptySubsequences: false).map { SigV4.uriEncode(String($0), keepSlash: false) }
                .joined(separator: "/")
            let presign = i % 3 == 0
            var items: [[String]] = []
            for _ in 0..<rng.int(0...4) {
                let k = rng.pick(keys)
                // botocore's presigner folds repeated keys into one; keep keys unique there.
                if presign && items.contains(where: { $0[0] == k }) { continue }
                items.append([k, rng.pick(values)])
            }
            let wireQuery = items.map { "\(SigV4.uriEncode($0[0], keepSlash: false))=\(SigV4.uriEncode($0[1], keepSlash: false))" }.joined(
                separator: "&"
            )
            var headers: [[String]] = [["Host", "svc.us-east-1.example.com"]]
            var names = Set<String>()
            for _ in 0..<rng.int(0...3) {
                let n = rng.pick(headerNames)
                if names.insert(n.lowercased()).inserted { headers.append([n, rng.pick(headerValues)]) }
            }
            let method = rng.pick(["GET", "POST", "PUT", "DELETE", "HEAD"])
            // Presigned URLs carry no body (botocore's presigner would fold a form body into the query).
            let body =
                !presign && (method == "POST" || method == "PUT")
                ? rng.pick(["", "{}", "Action=GetCallerIdentity&Version=2011-06-15", "ü body"]) : ""
            cases.append(
                Case(
                    method: method,
                    host: "svc.us-east-1.example.com",
                    path: wirePath,
                    query: wireQuery,
                    body: body,
                    service: service,
                    region: rng.pick(["us-east-1", "eu-west-3", "cn-north-1"]),
                    access_key: "AKID\(rng.int(1000...9999))",
                    secret_key: "secret/\(rng.next())+key",
                    amz_date: amzDate(Int64(1_700_000_000 + rng.int(0...100_000_000))),
                    token: rng.int(0...1) == 1 ? "token-\(rng.next())" : nil,
                    headers: headers,
                    presign_expires: presign ? rng.int(1...604_800) : nil,
                    items: items
                )
            )
        }
        return cases
    }

    @Test(.enabled(if: python != nil, "python3 is needed for the botocore comparison"))
    func matchesBotocore() throws {
        let cases = makeCases(seed: 0x5EED_1234_ABCD, count: 300)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("sigv4-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let input = dir.appendingPathComponent("cases.json")
        try JSONEncoder().encode(cases).write(to: input)
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("botocore_sign.py").path
        let p = Process()
        p.executableURL = URL(fileURLWithPath: Self.python!)
        p.arguments = [script, input.path]
        let out = Pipe()
        let err = Pipe()
        p.standardOutput = out
        p.standardError = err
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        let errText = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        try #require(p.terminationStatus == 0, "botocore script failed: \(errText)")
        let results = try JSONDecoder().decode([Result].self, from: data)
        try #require(results.count == cases.count)

        var compared = (header: 0, presigned: 0)
        for (i, (c, expected)) in zip(cases, results).enumerated() {
            let creds = AWSCredentials(accessKeyID: c.access_key, secretAccessKey: c.secret_key, sessionToken: c.token)
            let signer = SigV4Signer(service: c.service, region: c.region)
            let request = SigV4Request(
                method: c.method,
                path: c.path,
                query: c.items.map { ($0[0], $0[1]) },
                headers: c.headers.map { ($0[0], $0[1]) },
                body: Array(c.body.utf8)
            )
            let now = Self.unix(c.amz_date)
            if let expires = c.presign_expires {
                var unsigned = request
                unsigned.payloadHash = c.service == "s3" ? SigV4.unsignedPayload : request.payloadHash
                let mine = signer.presignedQuery(unsigned, credentials: creds, now: now, expires: expires)
                #expect(
                    Self.sortedPairs(mine) == Self.sortedPairs(expected.presigned_query ?? ""),
                    "case \(i) presigned: \(c.service) \(c.method) \(c.path)?\(c.query)"
                )
                compared.presigned += 1
            } else {
                let signed = signer.sign(request, credentials: creds, now: now)
                let mine = signed.headers.first { $0.name == "Authorization" }!.value
                let canonical = SigV4.canonicalRequest(signed, s3: signer.isS3).request
                #expect(canonical == expected.canonical_request, "case \(i) canonical request: \(c.service) \(c.method) \(c.path)?\(c.query)")
                #expect(mine == expected.authorization, "case \(i) authorization")
                compared.header += 1
            }
        }
        #expect(compared.header > 150 && compared.presigned > 80)
    }

    /// Query strings compared as sets of `k=v` pairs (botocore's parameter order differs; the signature is inside).
    static func sortedPairs(_ q: String) -> [String] { q.split(separator: "&").map(String.init).sorted() }

    static func unix(_ amzDate: String) -> Int64 {
        var t = tm()
        let u = Array(amzDate.utf8)
        func n(_ a: Int, _ b: Int) -> Int32 { Int32(String(decoding: u[a..<b], as: UTF8.self))! }
        t.tm_year = n(0, 4) - 1900
        t.tm_mon = n(4, 6) - 1
        t.tm_mday = n(6, 8)
        t.tm_hour = n(9, 11)
        t.tm_min = n(11, 13)
        t.tm_sec = n(13, 15)
        return Int64(timegm(&t))
    }
}
