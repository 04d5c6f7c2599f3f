import Logging
import TFRegCore
import TFRegJSON

extension RegistryAPI {
    /// `/token`: IAM credentials become a registry token. The identity a token is issued to is the
    /// request's principal in its observation.
    func token(_ route: TokenRoute, _ req: APIRequest, logger: Logger, trace: inout RequestTrace) async throws(RegistryError) -> APIResponse {
        switch route {
        case .fromFrontEnd: try await tokenFromFrontEnd(req, logger: logger, trace: &trace)
        case .exchange: try await exchangeToken(req, logger: logger, trace: &trace)
        }
    }

    /// `POST /token`: exchanges a presigned GetCallerIdentity for a sealed token. Body:
    /// `{"method", "url", "headers": {name: value}, "body", "expiration_seconds"?}`.
    func exchangeToken(_ req: APIRequest, logger: Logger, trace: inout RequestTrace) async throws(RegistryError) -> APIResponse {
        guard let issuer = tokenIssuer else {
            // 404 as on a registry without IAM: this registry does not offer the exchange (retrying
            // cannot help, unlike a 503), and the message says what the operator has to set.
            if frontEndTokens != nil {
                throw .notFound(
                    "POST /token (a presigned GetCallerIdentity) needs TFREG_AUDIENCE, the registry's host name, set on the function; behind API Gateway or a Function URL with AWS_IAM use GET /token"
                )
            }
            throw .notFound("IAM authentication is not configured on this registry")
        }
        let json = try await jsonObjectBody(req, limit: 32 * 1024, allowed: ["method", "url", "headers", "body", "expiration_seconds"])
        guard let method = json["method"]?.stringValue, let url = json["url"]?.stringValue, let body = json["body"]?.stringValue,
            case .object(let fields)? = json["headers"]
        else { throw .badRequest("method, url, body (strings) and headers (an object) are required") }
        var headers: [(name: String, value: String)] = []
        for (name, value) in fields {
            guard let v = value.stringValue else { throw .badRequest("header values must be strings") }
            headers.append((name, v))
        }
        var lifetime: Int64?
        if let e = json["expiration_seconds"] {
            guard let n = e.intValue, n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        if let q = URLParsing.queryItems(req.query)?.first(where: { $0.name == "expiration_seconds" }) {
            guard let n = Int64(q.value), n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        let result = try await service.issueToken(
            exchanging: SignedCallerIdentityRequest(method: method, url: url, headers: headers, body: body),
            requestedLifetime: lifetime,
            with: issuer,
            logger: Self.withRequestID(logger, req)
        )
        trace.principal = result.identity
        let out = IssuedTokenJSON(token: result.token, principal: result.identity, expiresAt: result.expiresAt)
        return .json(200, out.json.serialized(), headers: [("Cache-Control", "no-store")])
    }

    /// `GET /token?expiration_seconds=N` behind an IAM-authorizing front end: the caller is the ARN the
    /// front end put in the Lambda event's request context (`APIRequest.trustedCallerARN`).
    ///
    /// The answer is the bare token as `text/plain` (what the replaced tool's clients use verbatim as
    /// the bearer token) unless the client asks for JSON with `Accept: application/json`, as tfreg's
    /// own clients do: then `{"token", "principal", "expires_at"}`.
    func tokenFromFrontEnd(_ req: APIRequest, logger: Logger, trace: inout RequestTrace) async throws(RegistryError) -> APIResponse {
        guard tokenIssuer != nil || frontEndTokens != nil else { throw .notFound("IAM authentication is not configured on this registry") }
        guard let arn = req.trustedCallerARN else {
            throw .unauthenticated(
                "GET /token needs an IAM-authorized front end (API Gateway or a Function URL with AWS_IAM); otherwise POST a presigned GetCallerIdentity to /token"
            )
        }
        var lifetime: Int64?
        if let q = URLParsing.queryItems(req.query)?.first(where: { $0.name == "expiration_seconds" }) {
            guard let n = Int64(q.value), n > 0 else { throw .badRequest("expiration_seconds must be a positive integer") }
            lifetime = n
        }
        let identity: Identity
        do { identity = try Identity(arn) } catch { throw .unauthenticated("this IAM principal cannot be used with the registry") }
        let tokens: SealedTokens
        if let issuer = tokenIssuer {
            tokens = issuer.tokens
        } else if let frontEndTokens, let host = req.trustedHost {
            tokens = frontEndTokens.tokens(for: host)
        } else {
            throw .unauthenticated("GET /token needs the front end to name the registry's domain (requestContext.domainName), or TFREG_AUDIENCE")
        }
        let (token, expires) = try await service.issueToken(
            for: Principal(identity: identity),
            requestedLifetime: lifetime,
            with: tokens,
            logger: Self.withRequestID(logger, req)
        )
        trace.principal = identity
        guard AcceptNegotiation.prefersJSON(req.header("accept")) else {
            return APIResponse(
                status: 200,
                headers: [("Content-Type", "text/plain; charset=utf-8"), ("Cache-Control", "no-store"), ("Vary", "Accept")],
                body: .bytes(Array(token.utf8))
            )
        }
        let out = IssuedTokenJSON(token: token, principal: identity, expiresAt: expires)
        return .json(200, out.json.serialized(), headers: [("Cache-Control", "no-store"), ("Vary", "Accept")])
    }
}
