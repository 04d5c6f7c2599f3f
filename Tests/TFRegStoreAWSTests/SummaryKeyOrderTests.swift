import TFRegAWS
import TFRegCore
import Testing

@testable import TFRegStoreAWS

/// The summary sort key orders a namespace's modules as `ModuleAddress <` does, compared as DynamoDB
/// compares string keys (UTF-8 bytes), for every kind of name the grammar allows: what lets a listing
/// page be a Query with `Limit` (`moduleSummaries(in:system:first:)`).
@Suite struct SummaryKeyOrderTests {
    /// Names from the grammar's whole alphabet: `-`, `_`, digits, upper and lower case, one and 64
    /// characters, names that are prefixes of each other and names around the key's separator.
    static func names() -> [String] {
        let alphabet = Array("-_0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
        let ends = Array("09AZaz")
        var out: Set<String> = [
            "a", "a-b", "a_b", "a0", "ab", "aB", "A", "Z", "z", "zz", "a-", "a--b", "a__b", "a-_b", "a_-b", "net", "net-core", "net_x", "netx",
        ]
        out.remove("a-")
        for c in alphabet {
            for e in ends {
                out.insert("a\(c)\(e)")
                out.insert("\(e)\(c)a")
                out.insert("\(e)")
            }
        }
        // A seeded generator: names of every length up to 64, each a prefix of the next one made.
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(truncatingIfNeeded: state >> 33)
        }
        for _ in 0..<60 {
            var name = String(ends[next() % ends.count])
            for _ in 0..<(next() % 63) {
                name.append(alphabet[next() % alphabet.count])
                if name.last.map({ ends.contains($0) }) == true { out.insert(name) }
            }
            name.append(ends[next() % ends.count])
            out.insert(name)
        }
        return out.sorted()
    }

    static let systems = ["a", "aws", "aws0", "awsx", "azurerm", "gcp", "0", "9z"]

    static func modules() throws -> [ModuleAddress] {
        try names().flatMap { n in try systems.map { try ModuleAddress(namespace: "Ns-1", name: n, system: $0) } }
    }

    /// DynamoDB's order for string keys: the UTF-8 bytes, compared unsigned.
    static func byteOrder(_ a: String, _ b: String) -> Bool { Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8)) }

    @Test func keyOrderIsModuleOrderForEveryGrammarName() throws {
        let modules = try Self.modules()
        #expect(modules.count > 2_000)
        let byModule = modules.sorted()
        let byKey = modules.map { (key: Array(DynamoDBMetadataStore.summarySK($0).utf8), module: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.module)
        #expect(byKey == byModule)
        // Each key starts with the prefix and nothing else in a partition begins with the common one.
        #expect(modules.allSatisfy { DynamoDBMetadataStore.summarySK($0).hasPrefix(DynamoDBMetadataStore.summaryPrefix) })
        #expect(DynamoDBMetadataStore.summaryPrefix.hasPrefix(DynamoDBMetadataStore.anySummaryPrefix))
        #expect(DynamoDBMetadataStore.legacySummaryPrefix.hasPrefix(DynamoDBMetadataStore.anySummaryPrefix))
        // New keys sort before old ones ('/' < '~'): the merged read keeps the first item of a module.
        #expect(Self.byteOrder(DynamoDBMetadataStore.summarySK(byModule.last!), DynamoDBMetadataStore.legacySummarySK(byModule.first!)))
    }

    /// The old key (`ModuleSummary~NAME~SYSTEM`) does not order these names as modules: the reason for
    /// the new one, and proof that the comparison above can fail.
    @Test func oldKeyOrderIsNotModuleOrder() throws {
        let modules = try Self.modules()
        let byOldKey = modules.map { (key: Array(DynamoDBMetadataStore.legacySummarySK($0).utf8), module: $0) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }.map(\.module)
        #expect(byOldKey != modules.sorted())
        let a = try ModuleAddress(namespace: "ns", name: "a", system: "aws")
        let ab = try ModuleAddress(namespace: "ns", name: "a_b", system: "aws")
        #expect(a < ab)
        #expect(Self.byteOrder(DynamoDBMetadataStore.legacySummarySK(ab), DynamoDBMetadataStore.legacySummarySK(a)))
        #expect(Self.byteOrder(DynamoDBMetadataStore.summarySK(a), DynamoDBMetadataStore.summarySK(ab)))
    }
}
