import TFRegJSON

/// A parsed HCL file (native or JSON syntax): its top-level body, as far as it parsed.
public struct HCLBody: Sendable {
    public var attributes: [HCLAttribute]
    public var blocks: [HCLBlock]

    public init(attributes: [HCLAttribute] = [], blocks: [HCLBlock] = []) {
        self.attributes = attributes
        self.blocks = blocks
    }

    /// The attribute named `name`, if the body sets it.
    public func attribute(_ name: String) -> HCLAttribute? { attributes.first { $0.name == name } }
}

/// `name = expression`.
public struct HCLAttribute: Sendable {
    public var name: String
    public var expression: HCLExpression
    /// 1-based line of the name.
    public var line: Int

    public init(name: String, expression: HCLExpression, line: Int) {
        self.name = name
        self.expression = expression
        self.line = line
    }
}

/// `type "label" label { body }`.
public struct HCLBlock: Sendable {
    public var type: String
    public var labels: [String]
    public var body: HCLBody
    /// 1-based line of the type keyword.
    public var line: Int

    public init(type: String, labels: [String], body: HCLBody, line: Int) {
        self.type = type
        self.labels = labels
        self.body = body
        self.line = line
    }
}

/// An expression as written, and its value when it is a literal or a collection of literals.
public struct HCLExpression: Sendable {
    /// The exact source text of the expression (for a `.tf.json` file: the JSON string's content for
    /// expressions given as strings, else the JSON text).
    public var source: String
    /// The value of a literal (string without interpolation of non-literals, number, bool, null) or of
    /// a tuple/object/parenthesis of literals; nil for anything that needs evaluation (references,
    /// function calls, operators, conditionals, `for`, templates with directives).
    public var value: JSONValue?
    /// For an object constructor whose keys are all literal (`{ source = "hashicorp/aws", alias = [a.b] }`):
    /// each item's key and expression, in source order, so a reader can use the literal parts of an
    /// object that also holds references. nil for anything else.
    public var items: [(key: String, expression: HCLExpression)]?

    public init(source: String, value: JSONValue?, items: [(key: String, expression: HCLExpression)]? = nil) {
        self.source = source
        self.value = value
        self.items = items
    }

    /// The item `key` of an object constructor.
    public func item(_ key: String) -> HCLExpression? { items?.last { $0.key == key }?.expression }
}

/// Why a file did not parse: `file:line: message`.
public struct HCLError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// What a parse may use while it grows; every limit is checked before the work it bounds.
public struct HCLLimits: Sendable {
    /// Bytes of one file.
    public var maximumFileBytes: Int
    /// Nesting of blocks, brackets, templates and unary operators together.
    public var maximumDepth: Int
    /// Items read (body items, expression terms and operators, template parts).
    public var maximumTokens: Int
    /// Bytes of one string literal or heredoc after decoding.
    public var maximumStringBytes: Int

    public init(
        maximumFileBytes: Int = 1 << 20,
        maximumDepth: Int = 64,
        maximumTokens: Int = 200_000,
        maximumStringBytes: Int = 256 << 10
    ) {
        self.maximumFileBytes = maximumFileBytes
        self.maximumDepth = maximumDepth
        self.maximumTokens = maximumTokens
        self.maximumStringBytes = maximumStringBytes
    }
}

/// A file's parse: the body as far as it parsed (top-level items before the first error), and the error.
public struct HCLParseResult: Sendable {
    public var body: HCLBody
    public var error: HCLError?
}
