import FuzzSupport
import TFRegCore
import TFRegSystem

@testable import TFRegAWS
@testable import TFRegStoreAWS

/// DynamoDB answers (`DynamoDBWire.answer`) and the records and grants the store builds from their
/// items (a record's `published_at` formatted as the API does). Properties: never traps; every item decoded writes back (`writeItem`) to bytes that
/// decode to the same item.
fuzz { bytes in
    guard let answer = try? DynamoDBWire.answer(bytes) else { return }
    let items = [answer.item, answer.attributes, answer.lastEvaluatedKey].compactMap { $0 } + (answer.items ?? [])
    for item in items {
        var out = Array(#"{"Item":"#.utf8)
        DynamoDBWire.writeItem(item, into: &out)
        out.append(UInt8(ascii: "}"))
        let again: DynamoDBAnswer
        do { again = try DynamoDBWire.answer(out) } catch { fatalError("written item does not decode: \(error)") }
        guard again.item == item else { fatalError("item does not round-trip") }
        // A record's times reach the API's JSON through rfc3339.
        if let r = DynamoDBMetadataStore.record(item) { _ = rfc3339(r.publishedAt) }
        _ = DynamoDBMetadataStore.grant(item)
    }
}
