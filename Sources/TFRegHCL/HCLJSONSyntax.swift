import TFRegJSON

/// HCL's JSON syntax (`.tf.json`, hashicorp/hcl `json/spec.md`), read with TFRegJSON: which
/// properties are blocks, and how many labels they have, is not in the file but in the schema of
/// whoever reads it, so the caller names them. A block is an object (or an array of objects) of its
/// body, nested one object level per label; `"//"` properties are comments.
public enum HCLJSONSyntax {
    /// What a reader expects at one level: block types with their label counts and nested schemas;
    /// attributes whose JSON string holds an expression's source (`type = "map(string)"`).
    public struct Schema: Sendable {
        public var blocks: [String: (labels: Int, schema: Schema)]
        public var expressionAttributes: Set<String>

        public init(blocks: [String: (labels: Int, schema: Schema)] = [:], expressionAttributes: Set<String> = []) {
            self.blocks = blocks
            self.expressionAttributes = expressionAttributes
        }
    }

    /// Parses `bytes` as a JSON-syntax file: the body as far as it was read, and the first error.
    public static func parse(_ bytes: [UInt8], filename: String, schema: Schema, limits: HCLLimits = HCLLimits()) -> HCLParseResult {
        guard bytes.count <= limits.maximumFileBytes else {
            return HCLParseResult(
                body: HCLBody(),
                error: HCLError(file: filename, line: 1, message: "the file is larger than \(limits.maximumFileBytes) bytes")
            )
        }
        let root: JSONValue
        do throws(JSONSyntaxError) {
            root = try JSONValue(parsing: bytes, options: JSONParseOptions(maxDepth: limits.maximumDepth, integersOnly: false))
        } catch {
            return HCLParseResult(body: HCLBody(), error: HCLError(file: filename, line: line(of: error, in: bytes), message: error.message))
        }
        var reader = Reader(file: filename)
        let body = reader.body(root, schema: schema)
        return HCLParseResult(body: body, error: reader.error)
    }

    /// The line of the byte offset a JSONSyntaxError names (`… at byte N`).
    static func line(of error: JSONSyntaxError, in bytes: [UInt8]) -> Int {
        guard let space = error.message.lastIndex(of: " "),
            let offset = Int(error.message[error.message.index(after: space)...])
        else { return 1 }
        return bytes.prefix(max(0, min(offset, bytes.count))).reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
    }

    struct Reader {
        let file: String
        var error: HCLError?

        init(file: String) { self.file = file }

        mutating func problem(_ message: String) {
            if error == nil { error = HCLError(file: file, line: 1, message: message) }
        }

        mutating func body(_ v: JSONValue, schema: Schema) -> HCLBody {
            var out = HCLBody()
            guard case .object(let fields) = v else {
                problem("a JSON object is expected for a body")
                return out
            }
            for (key, value) in fields where key != "//" {
                if let block = schema.blocks[key] {
                    blocks(value, type: key, labels: [], remaining: block.labels, schema: block.schema, into: &out)
                } else {
                    let expression: HCLExpression
                    if schema.expressionAttributes.contains(key), case .string(let s) = value {
                        expression = HCLExpression(source: s, value: nil)
                    } else if case .string(let s) = value {
                        expression = HCLExpression(source: String(decoding: value.serialized(), as: UTF8.self), value: .string(s))
                    } else {
                        expression = Self.expression(value)
                    }
                    out.attributes.append(HCLAttribute(name: key, expression: expression, line: 1))
                }
            }
            return out
        }

        static func expression(_ value: JSONValue) -> HCLExpression {
            var items: [(key: String, expression: HCLExpression)]?
            if case .object(let fields) = value { items = fields.map { (key: $0.0, expression: expression($0.1)) } }
            return HCLExpression(
                source: String(decoding: value.serialized(), as: UTF8.self),
                value: HCLValue.canonical(value),
                items: items
            )
        }

        mutating func blocks(_ v: JSONValue, type: String, labels: [String], remaining: Int, schema: Schema, into out: inout HCLBody) {
            switch v {
            case .array(let items):
                for item in items { blocks(item, type: type, labels: labels, remaining: remaining, schema: schema, into: &out) }
            case .object(let fields) where remaining > 0:
                for (label, value) in fields where label != "//" {
                    blocks(value, type: type, labels: labels + [label], remaining: remaining - 1, schema: schema, into: &out)
                }
            case .object:
                out.blocks.append(HCLBlock(type: type, labels: labels, body: body(v, schema: schema), line: 1))
            default:
                problem("a JSON object is expected for a '\(type.prefix(64))' block")
            }
        }
    }
}
