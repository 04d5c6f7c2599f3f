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

struct DynamoDBWireError: Error, Equatable {
    let message: String
}

enum DynamoDBWire {
    /// DynamoDB nests maps and lists at most 32 deep; a little room for the answer's own levels.
    static let maxDepth = 40

    static func answer(_ bytes: [UInt8]) throws(DynamoDBWireError) -> DynamoDBAnswer {
        var s = Scanner(b: bytes)
        var answer = DynamoDBAnswer()
        s.skipSpace()
        try s.object { (s, key) throws(DynamoDBWireError) in
            switch key {
            case "Item": answer.item = try s.item(depth: 1)
            case "Attributes": answer.attributes = try s.item(depth: 1)
            case "LastEvaluatedKey": answer.lastEvaluatedKey = try s.item(depth: 1)
            case "Items":
                var items: [DynamoDBItem] = []
                try s.array { (s) throws(DynamoDBWireError) in items.append(try s.item(depth: 2)) }
                answer.items = items
            default: try s.skipValue(depth: 1)
            }
        }
        s.skipSpace()
        guard s.i == bytes.count else { throw s.fail("data after the answer") }
        return answer
    }

    struct Scanner {
        let b: [UInt8]
        var i = 0

        func fail(_ m: String) -> DynamoDBWireError { DynamoDBWireError(message: "\(m) at byte \(i)") }

        mutating func skipSpace() {
            while i < b.count, b[i] == 0x20 || b[i] == 0x0a || b[i] == 0x0d || b[i] == 0x09 { i += 1 }
        }

        mutating func expect(_ c: UInt8) throws(DynamoDBWireError) {
            skipSpace()
            guard i < b.count, b[i] == c else { throw fail("expected '\(Character(Unicode.Scalar(c)))'") }
            i += 1
        }

        /// `{ "key": value, … }`, calling `member` with the scanner positioned at each value.
        mutating func object(_ member: (inout Scanner, String) throws(DynamoDBWireError) -> Void) throws(DynamoDBWireError) {
            try expect(UInt8(ascii: "{"))
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "}") {
                i += 1
                return
            }
            while true {
                skipSpace()
                let key = try string()
                try expect(UInt8(ascii: ":"))
                skipSpace()
                try member(&self, key)
                skipSpace()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard b[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
                i += 1
                return
            }
        }

        mutating func array(_ element: (inout Scanner) throws(DynamoDBWireError) -> Void) throws(DynamoDBWireError) {
            try expect(UInt8(ascii: "["))
            skipSpace()
            if i < b.count, b[i] == UInt8(ascii: "]") {
                i += 1
                return
            }
            while true {
                skipSpace()
                try element(&self)
                skipSpace()
                guard i < b.count else { throw fail("unexpected end") }
                if b[i] == UInt8(ascii: ",") {
                    i += 1
                    continue
                }
                guard b[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
                i += 1
                return
            }
        }

        mutating func item(depth: Int) throws(DynamoDBWireError) -> DynamoDBItem {
            guard depth < DynamoDBWire.maxDepth else { throw fail("nested too deeply") }
            var item: DynamoDBItem = [:]
            try object { (s, name) throws(DynamoDBWireError) in item[name] = try s.attributeValue(depth: depth + 1) }
            return item
        }

        /// `{"S": "…"}`, `{"N": "…"}`, `{"BOOL": true}`, `{"NULL": true}`, `{"M": {…}}`, `{"L": […]}`,
        /// `{"SS": […]}`, `{"B": "…"}`: exactly one member.
        mutating func attributeValue(depth: Int) throws(DynamoDBWireError) -> AttributeValue {
            guard depth < DynamoDBWire.maxDepth else { throw fail("nested too deeply") }
            var value: AttributeValue?
            var members = 0
            try object { (s, type) throws(DynamoDBWireError) in
                members += 1
                switch type {
                case "S": value = .s(try s.string())
                case "N": value = .n(try s.string())
                case "B": value = .b(try s.string())
                case "BOOL": value = .bool(try s.bool())
                case "NULL":
                    _ = try s.bool()
                    value = .null
                case "M": value = .m(try s.item(depth: depth + 1))
                case "L":
                    var list: [AttributeValue] = []
                    try s.array { (s) throws(DynamoDBWireError) in list.append(try s.attributeValue(depth: depth + 1)) }
                    value = .l(list)
                case "SS":
                    var set: [String] = []
                    try s.array { (s) throws(DynamoDBWireError) in set.append(try s.string()) }
                    value = .ss(set)
                default: throw s.fail("unsupported attribute type '\(type.prefix(16))'")
                }
            }
            guard members == 1, let value else { throw fail("an attribute value has exactly one type key") }
            return value
        }

        mutating func bool() throws(DynamoDBWireError) -> Bool {
            if b[i...].starts(with: [0x74, 0x72, 0x75, 0x65]) {
                i += 4
                return true
            }  // true
            if b[i...].starts(with: [0x66, 0x61, 0x6c, 0x73, 0x65]) {
                i += 5
                return false
            }  // false
            throw fail("expected true or false")
        }

        mutating func string() throws(DynamoDBWireError) -> String {
            do { return try JSONString.read(b, at: &i) } catch { throw fail(error.message) }
        }

        /// Any JSON value, checked for shape but not kept (numbers may have fractions and exponents).
        mutating func skipValue(depth: Int) throws(DynamoDBWireError) {
            guard depth < DynamoDBWire.maxDepth else { throw fail("nested too deeply") }
            skipSpace()
            guard i < b.count else { throw fail("unexpected end") }
            switch b[i] {
            case UInt8(ascii: "{"): try object { (s, _) throws(DynamoDBWireError) in try s.skipValue(depth: depth + 1) }
            case UInt8(ascii: "["): try array { (s) throws(DynamoDBWireError) in try s.skipValue(depth: depth + 1) }
            case UInt8(ascii: "\""): _ = try string()
            case UInt8(ascii: "t"), UInt8(ascii: "f"): _ = try bool()
            case UInt8(ascii: "n"):
                guard b[i...].starts(with: [0x6e, 0x75, 0x6c, 0x6c]) else { throw fail("invalid literal") }
                i += 4
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                let start = i
                while i < b.count,
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(b[i]) || b[i] == UInt8(ascii: "-")
                        || b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: ".") || b[i] == UInt8(ascii: "e") || b[i] == UInt8(ascii: "E")
                {
                    i += 1
                }
                guard Double(String(decoding: b[start..<i], as: UTF8.self)) != nil else { throw fail("invalid number") }
            default: throw fail("unexpected character")
            }
        }
    }
}

/// Request bodies of the hot-path operations (GetItem, Query), written directly as bytes.
enum DynamoDBRequestMember {
    case string(String)
    case bool(Bool)
    case item(DynamoDBItem)
    case names([String: String])
}

extension DynamoDBWire {
    /// `{"Name": value, …}`; nil members are left out.
    static func body(_ members: [(String, DynamoDBRequestMember?)]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(256)
        out.append(UInt8(ascii: "{"))
        var first = true
        for (name, member) in members {
            guard let member else { continue }
            if !first { out.append(UInt8(ascii: ",")) }
            first = false
            JSONString.write(name, into: &out)
            out.append(UInt8(ascii: ":"))
            switch member {
            case .string(let s): JSONString.write(s, into: &out)
            case .bool(let b): out.append(contentsOf: b ? Array("true".utf8) : Array("false".utf8))
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
            }
        }
        out.append(UInt8(ascii: "}"))
        return out
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
