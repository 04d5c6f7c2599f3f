import Testing

@testable import TFRegCore

/// A publish on DynamoDB adds to the stored summary (`adding`) instead of reading every version again:
/// whatever the order of publishes, that must answer what `of` answers for all the versions.
@Suite struct ModuleSummaryTests {
    @Test(arguments: [
        ["1.0.0", "1.1.0", "0.9.0"],
        ["2.0.0-rc.1", "1.0.0", "2.0.0-rc.2"],
        ["1.0.0-alpha", "1.0.0-beta", "0.1.0-a"],
        ["3.0.0", "3.0.1-rc.1", "2.9.9", "10.0.0-beta", "3.0.1"],
        ["0.0.1-pre", "0.0.1"],
    ])
    func addingAgreesWithComputingFromEveryVersion(_ versions: [String]) throws {
        let module = try ModuleAddress(namespace: "acme", name: "vpc", system: "aws")
        var records: [ModuleVersionRecord] = []
        var summary: ModuleSummary?
        for (i, v) in versions.enumerated() {
            var r = ModuleVersionRecord(
                module: module,
                version: try Version(v),
                location: ArchiveLocation(key: "k\(i)"),
                sha256: "s",
                size: 1,
                publishedAt: Int64(100 - i * 7 + (i % 2) * 20)
            )
            r.publishedBy = "p\(i)"
            if i == 1 { r.deprecation = Deprecation(reason: "old", replacement: nil, at: 1, by: nil) }
            records.append(r)
            summary = summary.map { $0.adding(r) } ?? ModuleSummary.of([r])
            #expect(summary == ModuleSummary.of(records), "after \(versions.prefix(i + 1))")
        }
    }
}
