import TFRegHTTPClient

/// The caller's identity as STS reports it.
public struct CallerIdentity: Sendable, Equatable {
    public let arn: String
    public let account: String
    public let userID: String
}

/// STS, query protocol (form-encoded POST, XML answers).
public struct STSClient: Sendable {
    public let client: AWSClient
    public init(client: AWSClient) { self.client = client }

    public func getCallerIdentity() async throws(AWSError) -> CallerIdentity {
        let body = Array("Action=GetCallerIdentity&Version=2011-06-15".utf8)
        let r = try await client.send(
            service: "sts", method: "POST", headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")], body: body)
        let text = r.bodyText
        guard text.contains("<GetCallerIdentityResponse"), let arn = XMLText.first("Arn", in: text),
            let account = XMLText.first("Account", in: text), let user = XMLText.first("UserId", in: text)
        else { throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "GetCallerIdentity answered without an identity", status: r.status) }
        return CallerIdentity(arn: arn, account: account, userID: user)
    }
}
