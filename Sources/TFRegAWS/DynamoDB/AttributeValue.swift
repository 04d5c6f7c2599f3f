#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// A DynamoDB attribute value in its JSON wire form (`{"S": "…"}`, `{"N": "1"}`, `{"M": {…}}`, …).
public indirect enum AttributeValue: Sendable, Equatable, Codable {
    case s(String)
    case n(String)
    case bool(Bool)
    case null
    case m([String: AttributeValue])
    case l([AttributeValue])
    case ss([String])
    case b(String)

    enum Key: String, CodingKey { case S, N, BOOL, NULL, M, L, SS, B }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Key.self)
        guard c.allKeys.count == 1, let key = c.allKeys.first else {
            throw DecodingError.dataCorrupted(.init(codingPath: c.codingPath, debugDescription: "an attribute value has exactly one type key"))
        }
        switch key {
        case .S: self = .s(try c.decode(String.self, forKey: .S))
        case .N: self = .n(try c.decode(String.self, forKey: .N))
        case .BOOL: self = .bool(try c.decode(Bool.self, forKey: .BOOL))
        case .NULL: self = .null
        case .M: self = .m(try c.decode([String: AttributeValue].self, forKey: .M))
        case .L: self = .l(try c.decode([AttributeValue].self, forKey: .L))
        case .SS: self = .ss(try c.decode([String].self, forKey: .SS))
        case .B: self = .b(try c.decode(String.self, forKey: .B))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: Key.self)
        switch self {
        case .s(let v): try c.encode(v, forKey: .S)
        case .n(let v): try c.encode(v, forKey: .N)
        case .bool(let v): try c.encode(v, forKey: .BOOL)
        case .null: try c.encode(true, forKey: .NULL)
        case .m(let v): try c.encode(v, forKey: .M)
        case .l(let v): try c.encode(v, forKey: .L)
        case .ss(let v): try c.encode(v, forKey: .SS)
        case .b(let v): try c.encode(v, forKey: .B)
        }
    }

    public var string: String? { if case .s(let v) = self { v } else { nil } }
    public var int: Int64? { if case .n(let v) = self { Int64(v) } else { nil } }
    public var bool: Bool? { if case .bool(let v) = self { v } else { nil } }
    public var map: [String: AttributeValue]? { if case .m(let v) = self { v } else { nil } }
}

public typealias DynamoDBItem = [String: AttributeValue]
