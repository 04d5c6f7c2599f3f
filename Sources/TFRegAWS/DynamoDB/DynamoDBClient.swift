import TFRegHTTPClient
import TFRegJSON

/// DynamoDB over its JSON 1.0 protocol: exactly the operations tfreg uses. Every request body is
/// written by `DynamoDBWire.body`, every item-returning answer read by `DynamoDBWire.answer`.
public struct DynamoDBClient: Sendable {
    typealias Body = [(String, DynamoDBRequestMember?)]

    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// Errors name the operation that was refused (`GetItem: …`), so a message can say which call failed.
    func send(_ operation: String, body: Body) async throws(AWSError) -> HTTPResponse {
        do {
            return try await client.sendJSON(
                service: "dynamodb",
                target: "DynamoDB_20120810.\(operation)",
                jsonVersion: "1.0",
                body: DynamoDBWire.body(body)
            )
        } catch {
            throw AWSError(kind: error.kind, code: error.code, message: "\(operation): \(error.message)", status: error.status)
        }
    }

    /// An operation whose answer is a JSON object (`DescribeTable`, or `{}` from the writes).
    func call(_ operation: String, body: Body) async throws(AWSError) -> JSONValue {
        try AWSClient.jsonAnswer(try await send(operation, body: body), operation: operation)
    }

    /// The item-returning operations (GetItem, Query, Scan, DeleteItem): answers read by `DynamoDBWire`.
    func callForItems(_ operation: String, body: Body) async throws(AWSError) -> DynamoDBAnswer {
        let r = try await send(operation, body: body)
        do { return try DynamoDBWire.answer(r.body) } catch {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON (\(error.message))",
                status: r.status
            )
        }
    }

    /// DescribeTable: nil when the table does not exist (`ResourceNotFoundException`); else its status
    /// (`ACTIVE`, `CREATING`, …). Used once at start to fail fast on a wrong name or region.
    public func tableStatus(_ table: String) async throws(AWSError) -> String? {
        do {
            return try await call("DescribeTable", body: [("TableName", .string(table))])["Table"]?["TableStatus"]?.stringValue ?? "UNKNOWN"
        } catch {
            if error.code == "ResourceNotFoundException" { return nil }
            throw error
        }
    }

    /// A condition's members: `textMember` (`ConditionExpression`, `FilterExpression`), and the
    /// names and values when there are any.
    static func members(_ c: Expression?, _ textMember: String) -> Body {
        [
            (textMember, c.map { .string($0.text) }),
            ("ExpressionAttributeNames", c.flatMap { $0.names.isEmpty ? nil : .names($0.names) }),
            ("ExpressionAttributeValues", c.flatMap { $0.values.isEmpty ? nil : .item($0.values) }),
        ]
    }

    public struct Expression: Sendable {
        public var text: String
        public var names: [String: String]
        public var values: DynamoDBItem
        public init(_ text: String, names: [String: String] = [:], values: DynamoDBItem = [:]) {
            self.text = text
            self.names = names
            self.values = values
        }
    }

    public func getItem(table: String, key: DynamoDBItem, consistent: Bool = true) async throws(AWSError) -> DynamoDBItem? {
        try await callForItems("GetItem", body: [("TableName", .string(table)), ("Key", .item(key)), ("ConsistentRead", .bool(consistent))]).item
    }

    public func putItem(table: String, item: DynamoDBItem, condition: Expression? = nil) async throws(AWSError) {
        _ = try await call("PutItem", body: [("TableName", .string(table)), ("Item", .item(item))] + Self.members(condition, "ConditionExpression"))
    }

    /// UpdateItem: applies `update` (`SET …`, `REMOVE …`) to the named attributes only, under
    /// `condition`, and returns the item as it is afterwards (`ReturnValues: ALL_NEW`). Attributes the
    /// update does not name are left as they are, so two writers of different attributes never undo
    /// each other (a whole-item PutItem would). The two expressions share one set of names and values.
    public func updateItem(table: String, key: DynamoDBItem, update: Expression, condition: Expression? = nil) async throws(AWSError) -> DynamoDBItem?
    {
        var names = update.names
        var values = update.values
        if let condition {
            names.merge(condition.names) { a, _ in a }
            values.merge(condition.values) { a, _ in a }
        }
        return try await callForItems(
            "UpdateItem",
            body: [
                ("TableName", .string(table)), ("Key", .item(key)), ("UpdateExpression", .string(update.text)),
                ("ConditionExpression", condition.map { .string($0.text) }), ("ExpressionAttributeNames", names.isEmpty ? nil : .names(names)),
                ("ExpressionAttributeValues", values.isEmpty ? nil : .item(values)), ("ReturnValues", .string("ALL_NEW")),
            ]
        ).attributes
    }

    /// Deletes and returns the old item (nil if there was none).
    public func deleteItem(table: String, key: DynamoDBItem, condition: Expression? = nil) async throws(AWSError) -> DynamoDBItem? {
        try await callForItems(
            "DeleteItem",
            body: [("TableName", .string(table)), ("Key", .item(key)), ("ReturnValues", .string("ALL_OLD"))]
                + Self.members(condition, "ConditionExpression")
        ).attributes
    }

    /// Query, following `LastEvaluatedKey` until every page is read.
    public func query(table: String, keyCondition: Expression, consistent: Bool = true) async throws(AWSError) -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await callForItems(
                "Query",
                body: [
                    ("TableName", .string(table)), ("KeyConditionExpression", .string(keyCondition.text)),
                    ("ExpressionAttributeNames", keyCondition.names.isEmpty ? nil : .names(keyCondition.names)),
                    ("ExpressionAttributeValues", .item(keyCondition.values)), ("ConsistentRead", .bool(consistent)),
                    ("ExclusiveStartKey", start.map { .item($0) }),
                ]
            )
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    /// One page of a Query of at most `limit` items in key order (`ScanIndexForward`), for reads that
    /// page themselves (the audit trail): one call, never more than `limit` items.
    public func queryPage(table: String, keyCondition: Expression, limit: Int, consistent: Bool = true) async throws(AWSError) -> [DynamoDBItem] {
        try await callForItems(
            "Query",
            body: [
                ("TableName", .string(table)), ("KeyConditionExpression", .string(keyCondition.text)),
                ("ExpressionAttributeNames", keyCondition.names.isEmpty ? nil : .names(keyCondition.names)),
                ("ExpressionAttributeValues", .item(keyCondition.values)), ("ConsistentRead", .bool(consistent)),
                ("Limit", .integer(limit)),
            ]
        ).items ?? []
    }

    /// One page of a Query from `start` (an earlier page's `LastEvaluatedKey`; nil: the first), for
    /// readers that stop once they have what they need: at most `limit` items are evaluated (read),
    /// then `filter` (a `FilterExpression`, its names/values merged with the key condition's) keeps
    /// some of them; `forward` false reads in descending key order. Returns the kept items and the
    /// key to continue from (nil: the Query has no more).
    public func queryPage(
        table: String,
        keyCondition: Expression,
        filter: Expression? = nil,
        limit: Int,
        from start: DynamoDBItem?,
        forward: Bool = true,
        consistent: Bool = true
    ) async throws(AWSError) -> (items: [DynamoDBItem], next: DynamoDBItem?) {
        var names = keyCondition.names
        var values = keyCondition.values
        if let filter {
            names.merge(filter.names) { a, _ in a }
            values.merge(filter.values) { a, _ in a }
        }
        let page = try await callForItems(
            "Query",
            body: [
                ("TableName", .string(table)), ("KeyConditionExpression", .string(keyCondition.text)),
                ("FilterExpression", filter.map { .string($0.text) }), ("ExpressionAttributeNames", names.isEmpty ? nil : .names(names)),
                ("ExpressionAttributeValues", .item(values)), ("ConsistentRead", .bool(consistent)), ("Limit", .integer(limit)),
                ("ScanIndexForward", forward ? nil : .bool(false)), ("ExclusiveStartKey", start.map { .item($0) }),
            ]
        )
        return (page.items ?? [], page.lastEvaluatedKey)
    }

    /// Scan with a filter, every page (administrative listings only).
    public func scan(table: String, filter: Expression?) async throws(AWSError) -> [DynamoDBItem] {
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await callForItems(
                "Scan",
                body: [("TableName", .string(table))] + Self.members(filter, "FilterExpression") + [("ExclusiveStartKey", start.map { .item($0) })]
            )
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    /// One page of a Scan, for a bounded look at a table (a check at start): DynamoDB ends a page after
    /// 1 MB of items read, so this is one call reading at most 1 MB whatever the table's size.
    /// `projection` names the attributes returned (its names/values are merged with the filter's).
    /// Returns the items and whether the table has more beyond this page.
    public func scanFirstPage(table: String, filter: Expression, projection: String) async throws(AWSError) -> (items: [DynamoDBItem], more: Bool) {
        let page = try await callForItems(
            "Scan",
            body: [("TableName", .string(table))] + Self.members(filter, "FilterExpression") + [("ProjectionExpression", .string(projection))]
        )
        return (page.items ?? [], page.lastEvaluatedKey != nil)
    }

    public enum TransactItem: Sendable {
        case put(table: String, item: DynamoDBItem, condition: Expression?)
        case delete(table: String, key: DynamoDBItem, condition: Expression?)
        case conditionCheck(table: String, key: DynamoDBItem, condition: Expression)
    }

    /// All or nothing. A cancellation is classified by its `CancellationReasons` (`AWSError.classify`):
    /// a failed condition is `.conditionalCheckFailed`, a conflicting transaction or throttling is
    /// `.throttling` (retried), anything else is not a conflict.
    public func transactWrite(_ items: [TransactItem]) async throws(AWSError) {
        func op(_ table: String, _ target: (String, DynamoDBItem), _ c: Expression?) -> DynamoDBRequestMember {
            .object([("TableName", .string(table)), (target.0, .item(target.1))] + Self.members(c, "ConditionExpression"))
        }
        let entries = items.map { i -> DynamoDBRequestMember in
            switch i {
            case .put(let t, let item, let c): .object([("Put", op(t, ("Item", item), c))])
            case .delete(let t, let key, let c): .object([("Delete", op(t, ("Key", key), c))])
            case .conditionCheck(let t, let key, let c): .object([("ConditionCheck", op(t, ("Key", key), c))])
            }
        }
        _ = try await call("TransactWriteItems", body: [("TransactItems", .list(entries))])
    }

    /// Creates the registry's table layout (`pk`/`sk` strings, on-demand); for tests and first setup.
    public func createTable(_ table: String) async throws(AWSError) {
        func pair(_ a: String, _ av: String, _ b: String, _ bv: String) -> DynamoDBRequestMember { .object([(a, .string(av)), (b, .string(bv))]) }
        _ = try await call(
            "CreateTable",
            body: [
                ("TableName", .string(table)),
                (
                    "AttributeDefinitions",
                    .list([pair("AttributeName", "pk", "AttributeType", "S"), pair("AttributeName", "sk", "AttributeType", "S")])
                ),
                ("KeySchema", .list([pair("AttributeName", "pk", "KeyType", "HASH"), pair("AttributeName", "sk", "KeyType", "RANGE")])),
                ("BillingMode", .string("PAY_PER_REQUEST")),
            ]
        )
    }
}
