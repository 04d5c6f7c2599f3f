import FuzzSupport
import TFRegAPI
import TFRegCore
import TFRegCrypto

/// Request paths and query strings (`URLParsing`), and the grammars decoded segments meet
/// (`ModuleAddress`, `Version`). Input: the path, then optionally `?` and the query.
/// Properties: never traps; decoded segments re-encode (RFC 3986) to a path that decodes to the same
/// segments; decoded query items re-encode to a query that parses to the same items.
fuzz { bytes in
    let text = String(decoding: bytes, as: UTF8.self)
    let parts = text.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
    let path = String(parts[0])
    let query = parts.count > 1 ? String(parts[1]) : ""
    if let segments = URLParsing.segments(of: path) {
        let encoded = "/" + segments.map { PercentEncoding.encode($0) }.joined(separator: "/")
        guard URLParsing.segments(of: encoded) == segments || encoded.utf8.count > 2048 else {
            fatalError("segments of \(path.debugDescription) do not round-trip through \(encoded.debugDescription)")
        }
        if segments.count >= 3 { _ = try? ModuleAddress(namespace: segments[0], name: segments[1], system: segments[2]) }
        for s in segments.prefix(8) {
            if let v = try? Version(s) { guard v.description == s else { fatalError("Version(\(s)) is \(v)") } }
            _ = try? Namespace(s)
        }
    }
    if let items = URLParsing.queryItems(query) {
        let encoded = items.map { PercentEncoding.encode($0.name) + "=" + PercentEncoding.encode($0.value) }.joined(separator: "&")
        if encoded.utf8.count <= 8192, let again = URLParsing.queryItems(encoded) {
            guard again.map(\.name) == items.map(\.name), again.map(\.value) == items.map(\.value) else {
                fatalError("query \(query.debugDescription) does not round-trip")
            }
        } else if encoded.utf8.count <= 8192 {
            fatalError("re-encoded query \(encoded.debugDescription) does not parse")
        }
    }
    _ = URLParsing.percentDecode(Substring(text), plusIsSpace: false)
    _ = URLParsing.isValidHost(text)
}
