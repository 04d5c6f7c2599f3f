import FuzzSupport
import TFRegHTTPClient
import TFRegSystem

@testable import TFRegAWS

/// The AWS CLI's shared files (`SharedConfig.parse`, both conventions, and `merged`) and the small
/// readers of AWS answers next to them: ISO 8601 expirations, credential documents from IMDS and
/// the container endpoint, STS's XML credentials, error bodies. Properties: never traps; a key read
/// from a file is lowercase, trimmed of Python's white space (`str.strip()`, as configparser) and has no `=`.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    for isConfig in [true, false] {
        let c = SharedConfig.parse(text, isConfigFile: isConfig)
        for (_, values) in c.profiles.merging(c.ssoSessions, uniquingKeysWith: { a, _ in a }) {
            for key in values.keys {
                guard key == key.lowercased(), !key.contains("="), key.trimmingPythonSpace() == key else {
                    fatalError("key \(key.debugDescription)")
                }
            }
        }
    }
    _ = SharedConfig.merged(config: text, credentials: text)
    for line in text.split(separator: "\n").prefix(4) { _ = parseISO8601(String(line)) }
    _ = try? MetadataCredentials.decode(bytes, source: "fuzz")
    _ = try? STSClient.parseCredentials(text, status: 200)
    _ = AWSClient.parseError(HTTPResponse(status: 400, headers: [], body: bytes))
    // A transaction cancellation's reasons, as its message lists them: at most a transaction's 100.
    guard AWSError.reasonsListed(in: text).count <= 100 else { fatalError("more than 100 cancellation reasons") }
    _ = XMLText.first("Code", in: text)
}
