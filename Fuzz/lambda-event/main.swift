import FuzzSupport
import TFRegAPI
import TFRegCore
import TFRegJSON

@testable import TFRegLambda

/// The Lambda event adapters (REST v1, HTTP API v2, Function URL, ALB): `EventAdapter.decode` on
/// any bytes under every configured format, then `encode` of a response (and of an error, as
/// `LambdaHandler` does) in the detected format. Properties: never traps; the detected format is the
/// one decoded, whatever is configured; the path is never empty (the router rejects a relative one);
/// every response event is JSON our parser reads back; a trusted host is a valid host name and never
/// comes from an ALB event; `Accept` negotiation takes any header value.
fuzz { bytes in
    guard let event = try? JSONParser.parse(bytes) else { return }
    guard let format = EventAdapter.detect(event) else { return }
    for configured in EventFormat.allCases {
        guard let decoded = try? EventAdapter.decode(event, configured: configured) else { continue }
        guard decoded.format == format, !decoded.request.path.isEmpty else { fatalError("decoded \(decoded.request.path)") }
        _ = URLParsing.segments(of: decoded.request.path)
        _ = URLParsing.queryItems(decoded.request.query)
        // The front end's domain becomes a token audience: only ever a valid host, never from ALB.
        if let host = decoded.request.trustedHost, !URLParsing.isValidHost(host) || format == .alb { fatalError("trusted host \(host)") }
        _ = AcceptNegotiation.prefersJSON(decoded.request.header("accept"))
        let body = decoded.request.query.utf8.first.map { [$0, 0xff] } ?? Array(decoded.request.path.utf8)
        let response = APIResponse(status: 200, headers: decoded.request.headers.prefix(8).map { ($0.name, $0.value) }, body: .bytes(body))
        for r in [response, APIResponse.error(RegistryError.badRequest("x"))] {
            guard (try? JSONParser.parse(EventAdapter.encode(r, as: decoded))) != nil else { fatalError("response event is not JSON") }
        }
    }
}
