import TFRegJSON

/// The parts of DynamoDB's JSON answers that tfreg reads — `Item`, `Items`, `Attributes`,
/// `LastEvaluatedKey` — decoded straight from the bytes into `AttributeValue`s; every other member is
/// skipped whatever its type (`Count`, `ConsumedCapacity` with fractions, members added later).
/// JSONDecoder with Codable cost more CPU than all the rest of a warm authorized request (profiled
/// under `make bench`), and these answers are on every request's path.
struct DynamoDBAnswer: Equatable {
    var item: DynamoDBItem?
    var items: [DynamoDBItem]?
    var attributes: DynamoDBItem?
    var lastEvaluatedKey: DynamoDBItem?
}

/// A DynamoDB answer that is not what `DynamoDBWire` reads: a JSON syntax error or a wrong shape.
typealias DynamoDBWireError = JSONSyntaxError

enum DynamoDBWire {
    /// DynamoDB nests maps and lists at most 32 deep; a little room for the answer's own levels.
    static let maxDepth = 40

    static func answer(_ bytes: [UInt8]) throws(DynamoDBWireError) -> DynamoDBAnswer {
        var s = JSONScanner(bytes)
        var answer = DynamoDBAnswer()
        s.skipSpace()
        try s.object { (s, key) throws(DynamoDBWireError) in
            switch key {
            case "Item": answer.item = try item(&s, depth: 1)
            case "Attributes": answer.attributes = try item(&s, depth: 1)
            case "LastEvaluatedKey": answer.lastEvaluatedKey = try item(&s, depth: 1)
            case "Items":
                var items: [DynamoDBItem] = []
                try s.array { (s) throws(DynamoDBWireError) in items.append(try item(&s, depth: 2)) }
                answer.items = items
            default: try s.skipValue(depth: 1, maxDepth: maxDepth)
            }
        }
        try s.end("data after the answer")
        return answer
    }

    static func item(_ s: inout JSONScanner, depth: Int) throws(DynamoDBWireError) -> DynamoDBItem {
        guard depth < maxDepth else { throw s.fail("nested too deeply") }
        var item: DynamoDBItem = [:]
        try s.object { (s, name) throws(DynamoDBWireError) in item[name] = try attributeValue(&s, depth: depth + 1) }
        return item
    }

    /// `{"S": "…"}`, `{"N": "…"}`, `{"BOOL": true}`, `{"NULL": true}`, `{"M": {…}}`, `{"L": […]}`,
    /// `{"SS": […]}`, `{"B": "…"}`: exactly one member.
    static func attributeValue(_ s: inout JSONScanner, depth: Int) throws(DynamoDBWireError) -> AttributeValue {
        guard depth < maxDepth else { throw s.fail("nested too deeply") }
        var value: AttributeValue?
        var members = 0
        try s.object { (s, type) throws(DynamoDBWireError) in
            members += 1
            switch type {
            case "S": value = .s(try s.string())
            case "N": value = .n(try s.string())
            case "B": value = .b(try s.string())
            case "BOOL": value = .bool(try s.bool())
            case "NULL":
                _ = try s.bool()
                value = .null
            case "M": value = .m(try item(&s, depth: depth + 1))
            case "L":
                var list: [AttributeValue] = []
                try s.array { (s) throws(DynamoDBWireError) in list.append(try attributeValue(&s, depth: depth + 1)) }
                value = .l(list)
            case "SS":
                var set: [String] = []
                try s.array { (s) throws(DynamoDBWireError) in set.append(try s.string()) }
                value = .ss(set)
            default: throw s.fail("unsupported attribute type '\(type.prefix(16))'")
            }
        }
        guard members == 1, let value else { throw s.fail("an attribute value has exactly one type key") }
        return value
    }
}

/// Request bodies, written directly as bytes (every operation: GetItem and Query are on every
/// request's path, the rest use the same writer so there is one encoding).
enum DynamoDBRequestMember {
    case string(String)
    case bool(Bool)
    /// A JSON number (`Limit`).
    case integer(Int)
    case item(DynamoDBItem)
    case names([String: String])
    /// A nested structure (`TransactItems` entries, `KeySchema` elements); nil members are left out.
    case object([(String, DynamoDBRequestMember?)])
    case list([DynamoDBRequestMember])
}

extension DynamoDBWire {
    /// `{"Name": value, …}`; nil members are left out.
    static func body(_ members: [(String, DynamoDBRequestMember?)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        writeObject(members, into: &out)
        return out
    }

    static func writeObject(_ members: [(String, DynamoDBRequestMember?)], into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, member) in members {
            guard let member else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.write(name, into: &out)
            out.append(UInt8(ascii: ":"))
            writeMember(member, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func writeMember(_ member: DynamoDBRequestMember, into out: inout [UInt8]) {
        switch member {
        case .string(let s): JSONString.write(s, into: &out)
        case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
        case .integer(let i): out.append(contentsOf: Array(String(i).utf8))
        case .item(let item): writeItem(item, into: &out)
        case .names(let names):
            out.append(UInt8(ascii: "{"))
            for (i, (k, v)) in names.sorted(by: { $0.key < $1.key }).enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                JSONString.write(k, into: &out)
                out.append(UInt8(ascii: ":"))
                JSONString.write(v, into: &out)
            }
            out.append(UInt8(ascii: "}"))
        case .object(let members): writeObject(members, into: &out)
        case .list(let elements):
            out.append(UInt8(ascii: "["))
            for (i, e) in elements.enumerated() {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                writeMember(e, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        }
    }

    static func writeItem(_ item: DynamoDBItem, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "{"))
        for (i, (k, v)) in item.sorted(by: { $0.key < $1.key }).enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            JSONString.write(k, into: &out)
            out.append(UInt8(ascii: ":"))
            writeValue(v, into: &out)
        }
        out.append(UInt8(ascii: "}"))
    }

    static func writeValue(_ v: AttributeValue, into out: inout [UInt8]) {
        func typed(_ type: String, _ body: (inout [UInt8]) -> Void) {
            out.append(UInt8(ascii: "{"))
            JSONString.write(type, into: &out)
            out.append(UInt8(ascii: ":"))
            body(&out)
            out.append(UInt8(ascii: "}"))
        }
        switch v {
        case .s(let s): typed("S") { JSONString.write(s, into: &$0) }
        case .n(let s): typed("N") { JSONString.write(s, into: &$0) }
        case .b(let s): typed("B") { JSONString.write(s, into: &$0) }
        case .bool(let b): typed("BOOL") { $0.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8)) }
        case .null: typed("NULL") { $0.append(contentsOf: Array("true".utf8)) }
        case .m(let m): typed("M") { writeItem(m, into: &$0) }
        case .l(let l):
            typed("L") { o in
                o.append(UInt8(ascii: "["))
                for (i, e) in l.enumerated() {
                    if i > 0 { o.append(UInt8(ascii: ",")) }
                    writeValue(e, into: &o)
                }
                o.append(UInt8(ascii: "]"))
            }
        case .ss(let ss):
            typed("SS") { o in
                o.append(UInt8(ascii: "["))
                for (i, e) in ss.enumerated() {
                    if i > 0 { o.append(UInt8(ascii: ",")) }
                    JSONString.write(e, into: &o)
                }
                o.append(UInt8(ascii: "]"))
            }
        }
    }
}
