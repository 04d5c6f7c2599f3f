import TFRegCore
import TFRegJSON
import Testing

@testable import TFRegAPI

/// `ModuleJSON.versions` writes its bytes directly (issue 17: the tree cost more than the rest of
/// tfreg's work per request). The tree it replaced is the oracle: same bytes for sources with every
/// kind of character, deprecations with and without replacement, prereleases, one and many versions.
@Suite struct VersionsDocumentTests {
    static func oracle(_ module: ModuleAddress, _ records: [ModuleVersionRecord]) -> [UInt8] {
        let versions: [JSONValue] = records.map { r in
            var fields: [(String, JSONValue)] = [("version", .string(r.version.description))]
            if let d = r.deprecation { fields.append(("deprecation", ModuleJSON.deprecation(d))) }
            return .object(fields)
        }
        let source = RegistryService.latestRecordIfAny(records)?.source ?? module.description
        return JSONValue.object([("modules", .array([.object([("source", .string(source)), ("versions", .array(versions))])]))]).serialized()
    }

    static let sources: [String?] = [nil, "https://git.example.com/acme/vpc", "https://e.x/\"q\"\\\u{1}\u{7f}é\u{2028}😀/<script>"]

    @Test(arguments: [
        [String](),
        ["1.0.0"],
        ["2.0.0", "1.3.0", "1.0.0"],
        ["2.0.0-rc.1", "1.3.0", "1.0.0"],
        (0..<40).map { "1.\($0).0" },
    ])
    func sameBytesAsTheTree(_ versions: [String]) throws {
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        for source in Self.sources {
            for deprecate in [0, 1, 2] {
                let records = try versions.enumerated().map { i, v in
                    var r = ModuleVersionRecord(
                        module: module,
                        version: try Version(v),
                        location: ArchiveLocation(key: "k\(i)"),
                        sha256: "s",
                        size: 1,
                        publishedAt: 1
                    )
                    r.source = source
                    if deprecate > 0, i % 2 == 0 {
                        r.deprecation = Deprecation(
                            reason: "use \"v2\" <b>\u{9}",
                            replacement: deprecate == 2 ? "acme/vpc2/aws" : nil,
                            at: 1_700_000_000,
                            by: "arn:aws:iam::1:role/x"
                        )
                    }
                    return r
                }
                let got = ModuleJSON.versions(module, records)
                #expect(got == Self.oracle(module, records), "\(versions) source \(source ?? "nil") deprecate \(deprecate)")
                // And it is JSON the registry's own parser reads back.
                _ = try JSONParser.parse(got)
            }
        }
    }
}
