import TFRegHTTPClient

#if canImport(FoundationEssentials)
import FoundationEssentials
#endif

/// DynamoDB over its JSON 1.0 protocol: exactly the operations tfreg uses.
public struct DynamoDBClient: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    /// One operation: `X-Amz-Target: DynamoDB_20120810.<operation>`, JSON in and out.
    public func call<Request: Encodable, Response: Decodable>(
        _ operation: String,
        _ request: Request,
        as: Response.Type
    ) async throws(AWSError) -> Response {
        let r = try await send(operation, request)
        do { return try JSONDecoder().decode(Response.self, from: Data(r.body)) } catch {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON",
                status: r.status
            )
        }
    }

    /// The item-returning operations (GetItem, Query, Scan, DeleteItem): answers read by `DynamoDBWire`.
    func callForItems<Request: Encodable>(_ operation: String, _ request: Request) async throws(AWSError) -> DynamoDBAnswer {
        let r = try await send(operation, request)
        do { return try DynamoDBWire.answer(r.body) } catch {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON (\(error.message))",
                status: r.status
            )
        }
    }

    func send<Request: Encodable>(_ operation: String, _ request: Request) async throws(AWSError) -> HTTPResponse {
        let body: Data
        do { body = try JSONEncoder().encode(request) } catch {
            throw AWSError(kind: .validation, code: "SerializationException", message: "cannot encode \(operation)", status: 0)
        }
        return try await send(operation, body: Array(body))
    }

    /// Errors name the operation that was refused (`GetItem: …`), so a message can say which call failed.
    func send(_ operation: String, body: [UInt8]) async throws(AWSError) -> HTTPResponse {
        do {
            return try await client.send(
                service: "dynamodb",
                method: "POST",
                headers: [("Content-Type", "application/x-amz-json-1.0"), ("X-Amz-Target", "DynamoDB_20120810.\(operation)")],
                body: body
            )
        } catch {
            throw AWSError(kind: error.kind, code: error.code, message: "\(operation): \(error.message)", status: error.status)
        }
    }

    /// DescribeTable: nil when the table does not exist (`ResourceNotFoundException`); else its status
    /// (`ACTIVE`, `CREATING`, …). Used once at start to fail fast on a wrong name or region.
    public func tableStatus(_ table: String) async throws(AWSError) -> String? {
        struct Req: Encodable { let TableName: String }
        struct Table: Decodable { let TableStatus: String? }
        struct Res: Decodable { let Table: Table? }
        do {
            return try await call("DescribeTable", Req(TableName: table), as: Res.self).Table?.TableStatus ?? "UNKNOWN"
        } catch {
            if error.code == "ResourceNotFoundException" { return nil }
            throw error
        }
    }

    /// GetItem and Query are on every request's path: their bodies are written by `DynamoDBWire`.
    func callForItems(_ operation: String, body: [(String, DynamoDBRequestMember?)]) async throws(AWSError) -> DynamoDBAnswer {
        let r = try await send(operation, body: DynamoDBWire.body(body))
        do { return try DynamoDBWire.answer(r.body) } catch {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "\(operation) answered with unreadable JSON (\(error.message))",
                status: r.status
            )
        }
    }

    struct Empty: Codable {}

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
        struct Req: Encodable {
            let TableName: String
            let Item: DynamoDBItem
            let ConditionExpression: String?
            let ExpressionAttributeNames: [String: String]?
            let ExpressionAttributeValues: DynamoDBItem?
        }
        _ = try await call(
            "PutItem",
            Req(
                TableName: table,
                Item: item,
                ConditionExpression: condition?.text,
                ExpressionAttributeNames: condition.flatMap { $0.names.isEmpty ? nil : $0.names },
                ExpressionAttributeValues: condition.flatMap { $0.values.isEmpty ? nil : $0.values }
            ),
            as: Empty.self
        )
    }

    /// Deletes and returns the old item (nil if there was none).
    public func deleteItem(table: String, key: DynamoDBItem, condition: Expression? = nil) async throws(AWSError) -> DynamoDBItem? {
        struct Req: Encodable {
            let TableName: String
            let Key: DynamoDBItem
            let ReturnValues: String
            let ConditionExpression: String?
            let ExpressionAttributeNames: [String: String]?
            let ExpressionAttributeValues: DynamoDBItem?
        }
        return try await callForItems(
            "DeleteItem",
            Req(
                TableName: table,
                Key: key,
                ReturnValues: "ALL_OLD",
                ConditionExpression: condition?.text,
                ExpressionAttributeNames: condition.flatMap { $0.names.isEmpty ? nil : $0.names },
                ExpressionAttributeValues: condition.flatMap { $0.values.isEmpty ? nil : $0.values }
            )
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

    /// Scan with a filter, every page (administrative listings only).
    public func scan(table: String, filter: Expression?) async throws(AWSError) -> [DynamoDBItem] {
        struct Req: Encodable {
            let TableName: String
            let FilterExpression: String?
            let ExpressionAttributeNames: [String: String]?
            let ExpressionAttributeValues: DynamoDBItem?
            let ExclusiveStartKey: DynamoDBItem?
        }
        var items: [DynamoDBItem] = []
        var start: DynamoDBItem?
        repeat {
            let page = try await callForItems(
                "Scan",
                Req(
                    TableName: table,
                    FilterExpression: filter?.text,
                    ExpressionAttributeNames: filter.flatMap { $0.names.isEmpty ? nil : $0.names },
                    ExpressionAttributeValues: filter.flatMap { $0.values.isEmpty ? nil : $0.values },
                    ExclusiveStartKey: start
                )
            )
            items += page.items ?? []
            start = page.lastEvaluatedKey
        } while start != nil
        return items
    }

    public enum TransactItem: Sendable {
        case put(table: String, item: DynamoDBItem, condition: Expression?)
        case delete(table: String, key: DynamoDBItem, condition: Expression?)
        case conditionCheck(table: String, key: DynamoDBItem, condition: Expression)
    }

    /// All or nothing; a failed condition is `.conditionalCheckFailed`.
    public func transactWrite(_ items: [TransactItem]) async throws(AWSError) {
        struct Op: Encodable {
            let TableName: String
            let Item: DynamoDBItem?
            let Key: DynamoDBItem?
            let ConditionExpression: String?
            let ExpressionAttributeNames: [String: String]?
            let ExpressionAttributeValues: DynamoDBItem?
        }
        struct Entry: Encodable {
            let Put: Op?
            let Delete: Op?
            let ConditionCheck: Op?
        }
        struct Req: Encodable { let TransactItems: [Entry] }
        func op(_ table: String, item: DynamoDBItem?, key: DynamoDBItem?, _ c: Expression?) -> Op {
            Op(
                TableName: table,
                Item: item,
                Key: key,
                ConditionExpression: c?.text,
                ExpressionAttributeNames: c.flatMap { $0.names.isEmpty ? nil : $0.names },
                ExpressionAttributeValues: c.flatMap { $0.values.isEmpty ? nil : $0.values }
            )
        }
        let entries = items.map { i -> Entry in
            switch i {
            case .put(let t, let item, let c): Entry(Put: op(t, item: item, key: nil, c), Delete: nil, ConditionCheck: nil)
            case .delete(let t, let key, let c): Entry(Put: nil, Delete: op(t, item: nil, key: key, c), ConditionCheck: nil)
            case .conditionCheck(let t, let key, let c): Entry(Put: nil, Delete: nil, ConditionCheck: op(t, item: nil, key: key, c))
            }
        }
        _ = try await call("TransactWriteItems", Req(TransactItems: entries), as: Empty.self)
    }

    /// Creates the registry's table layout (`pk`/`sk` strings, on-demand); for tests and first setup.
    public func createTable(_ table: String) async throws(AWSError) {
        struct Attr: Encodable {
            let AttributeName: String
            let AttributeType: String
        }
        struct KeyEl: Encodable {
            let AttributeName: String
            let KeyType: String
        }
        struct Req: Encodable {
            let TableName: String
            let AttributeDefinitions: [Attr]
            let KeySchema: [KeyEl]
            let BillingMode: String
        }
        _ = try await call(
            "CreateTable",
            Req(
                TableName: table,
                AttributeDefinitions: [Attr(AttributeName: "pk", AttributeType: "S"), Attr(AttributeName: "sk", AttributeType: "S")],
                KeySchema: [KeyEl(AttributeName: "pk", KeyType: "HASH"), KeyEl(AttributeName: "sk", KeyType: "RANGE")],
                BillingMode: "PAY_PER_REQUEST"
            ),
            as: Empty.self
        )
    }
}
