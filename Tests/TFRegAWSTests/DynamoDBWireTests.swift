import FoundationEssentials
import Testing

@testable import TFRegAWS

/// DynamoDB answers read by the byte-level decoder must equal what JSONDecoder + Codable read.
@Suite struct DynamoDBWireTests {
    struct Reference: Decodable, Equatable {
        let Item: DynamoDBItem?
        let Items: [DynamoDBItem]?
        let Attributes: DynamoDBItem?
        let LastEvaluatedKey: DynamoDBItem?
    }

    func both(_ json: String) throws -> (DynamoDBAnswer, Reference) {
        let wire = try DynamoDBWire.answer(Array(json.utf8))
        let reference = try JSONDecoder().decode(Reference.self, from: Data(json.utf8))
        return (wire, reference)
    }

    @Test func readsWhatCodableReads() throws {
        let query = #"""
            {"Count": 2, "ScannedCount": 2, "ConsumedCapacity": {"TableName": "t", "CapacityUnits": 0.5, "Table": {"CapacityUnits": 1.5e0}},
             "Items": [
               {"pk": {"S": "acme"}, "sk": {"S": "Module~acme~vpc~aws~1.0.0"}, "n": {"N": "-12.5"}, "ok": {"BOOL": true}, "gone": {"NULL": true},
                "tags": {"SS": ["a", "b\u00e9"]}, "blob": {"B": "AAE="}, "deep": {"M": {"l": {"L": [{"S": "x"}, {"M": {}}, {"BOOL": false}]}}}},
               {"pk": {"S": "quote \" back \\ slash \/ tab\t nl\n emoji \ud83d\ude00 é"}}
             ],
             "LastEvaluatedKey": {"pk": {"S": "acme"}, "sk": {"S": "z"}}, "Future": [null, {"x": [1, 2.5e-3]}]}
            """#
        let (wire, ref) = try both(query)
        #expect(wire.items == ref.Items && wire.lastEvaluatedKey == ref.LastEvaluatedKey && wire.item == nil)
        #expect(wire.items?[1]["pk"] == .s("quote \" back \\ slash / tab\t nl\n emoji 😀 é"))
        #expect(wire.items?[0]["deep"] == .m(["l": .l([.s("x"), .m([:]), .bool(false)])]))
        let (getItem, getRef) = try both(#"{"Item": {"pk": {"S": "g"}, "perms": {"M": {"download": {"BOOL": true}}}}}"#)
        #expect(getItem.item == getRef.Item && getItem.item?["pk"] == .s("g"))
        let (missing, _) = try both("{}")
        #expect(missing == DynamoDBAnswer())
        let (deleted, delRef) = try both(#" {"Attributes": {"pk": {"S": "d"}}} "#)
        #expect(deleted.attributes == delRef.Attributes)
    }

    @Test func refusesWhatIsNotADynamoDBAnswer() {
        for bad in [
            "", "[]", #"{"Item": {"pk": {"S": "a", "N": "1"}}}"#, #"{"Item": {"pk": {}}}"#, #"{"Item": {"pk": {"NS": ["1"]}}}"#,
            #"{"Item": {"pk": {"S": 1}}}"#, #"{"Item": {"pk": {"S": "a"}}"#, #"{"Item": {"pk": {"S": "a"}}} x"#,
            "{\"Item\": {\"pk\": {\"S\": \"a\u{01}\"}}}",
            #"{"Item": {"pk": {"S": "\ud83d"}}}"#, #"{"Count": 1e}"#, #"{"Count": tru}"#,
            "{\"Item\": " + String(repeating: #"{"a": {"M": "#, count: 30) + "{}" + String(repeating: "}}", count: 30) + "}",
        ] {
            #expect(throws: DynamoDBWireError.self, "\(bad.prefix(60))") { try DynamoDBWire.answer(Array(bad.utf8)) }
        }
    }

    @Test func writesRequestsThatJSONDecoderReadsBack() throws {
        struct Query: Decodable, Equatable {
            let TableName: String
            let KeyConditionExpression: String
            let ExpressionAttributeNames: [String: String]?
            let ExpressionAttributeValues: DynamoDBItem
            let ConsistentRead: Bool
            let ExclusiveStartKey: DynamoDBItem?
        }
        let values: DynamoDBItem = [
            ":pk": .s("acme \"quoted\" back\\slash\n\u{01}\u{1f} é 😀"), ":n": .n("1"), ":b": .bool(false), ":z": .null,
            ":m": .m(["l": .l([.s("x"), .ss(["a", "b"]), .b("AAE=")])]),
        ]
        let body = DynamoDBWire.body([
            ("TableName", .string("registry")), ("KeyConditionExpression", .string("#pk = :pk")), ("ExpressionAttributeNames", .names(["#pk": "pk"])),
            ("ExpressionAttributeValues", .item(values)), ("ConsistentRead", .bool(true)), ("ExclusiveStartKey", nil),
        ])
        let decoded = try JSONDecoder().decode(Query.self, from: Data(body))
        #expect(
            decoded
                == Query(
                    TableName: "registry",
                    KeyConditionExpression: "#pk = :pk",
                    ExpressionAttributeNames: ["#pk": "pk"],
                    ExpressionAttributeValues: values,
                    ConsistentRead: true,
                    ExclusiveStartKey: nil
                )
        )
        #expect(!String(decoding: body, as: UTF8.self).contains("ExclusiveStartKey"))
    }
}
