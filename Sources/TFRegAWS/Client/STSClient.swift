import TFRegHTTPClient
import TFRegSystem

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
            service: "sts",
            method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: body
        )
        let text = r.bodyText
        guard text.contains("<GetCallerIdentityResponse"), let arn = XMLText.first("Arn", in: text),
            let account = XMLText.first("Account", in: text), let user = XMLText.first("UserId", in: text)
        else {
            throw AWSError(
                kind: .malformedResponse,
                code: "MalformedResponse",
                message: "GetCallerIdentity answered without an identity",
                status: r.status
            )
        }
        return CallerIdentity(arn: arn, account: account, userID: user)
    }

    /// AssumeRole with the client's credentials; returns the role's temporary credentials.
    public func assumeRole(
        roleARN: String,
        sessionName: String,
        externalID: String? = nil,
        durationSeconds: Int? = nil
    ) async throws(AWSError) -> AWSCredentials {
        var form =
            "Action=AssumeRole&Version=2011-06-15&RoleArn=\(SigV4.uriEncode(roleARN, keepSlash: false))&RoleSessionName=\(SigV4.uriEncode(sessionName, keepSlash: false))"
        if let externalID { form += "&ExternalId=\(SigV4.uriEncode(externalID, keepSlash: false))" }
        if let durationSeconds { form += "&DurationSeconds=\(durationSeconds)" }
        let r = try await client.send(
            service: "sts",
            method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(form.utf8)
        )
        return try Self.parseCredentials(r.bodyText, status: r.status)
    }

    /// AssumeRoleWithWebIdentity: an unsigned call; the web identity token is the proof.
    public func assumeRoleWithWebIdentity(roleARN: String, sessionName: String, token: String) async throws(AWSError) -> AWSCredentials {
        let form =
            "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn=\(SigV4.uriEncode(roleARN, keepSlash: false))"
            + "&RoleSessionName=\(SigV4.uriEncode(sessionName, keepSlash: false))&WebIdentityToken=\(SigV4.uriEncode(token, keepSlash: false))"
        let r = try await client.send(
            service: "sts",
            method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: Array(form.utf8),
            signed: false
        )
        return try Self.parseCredentials(r.bodyText, status: r.status)
    }

    static func parseCredentials(_ text: String, status: Int) throws(AWSError) -> AWSCredentials {
        guard let id = XMLText.first("AccessKeyId", in: text), let secret = XMLText.first("SecretAccessKey", in: text),
            let token = XMLText.first("SessionToken", in: text)
        else { throw AWSError(kind: .malformedResponse, code: "MalformedResponse", message: "STS answered without credentials", status: status) }
        return AWSCredentials(
            accessKeyID: id,
            secretAccessKey: secret,
            sessionToken: token,
            expiration: XMLText.first("Expiration", in: text).flatMap(parseISO8601)
        )
    }
}
