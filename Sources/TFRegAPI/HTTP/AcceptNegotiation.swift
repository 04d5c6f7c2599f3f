import TFRegCore
import TFRegSystem

/// `Accept` negotiation for the one route that answers in two forms, `GET /token` (RFC 9110 §12.5.1).
public enum AcceptNegotiation {
    /// Whether a client with this `Accept` header gets JSON rather than the bare token as text.
    ///
    /// The replaced tool's clients (python-requests: `Accept: */*`) use the response text verbatim as
    /// the bearer token, so text is the answer unless the client names JSON: `application/json` (or
    /// `application/*`) with a q-value above 0, not below the q-value it gives `text/plain` or
    /// `text/*`. `*/*` alone, no header, or JSON with `q=0` mean text. Malformed parameters are
    /// ignored (q stays 1), so an odd header never turns into an error on this route.
    public static func prefersJSON(_ accept: String?) -> Bool {
        guard let accept else { return false }
        var json: Double?
        var text: Double?
        for range in accept.split(separator: ",") {
            let parts = range.split(separator: ";")
            guard let type = parts.first?.trimmingSpaces().lowercased(), !type.isEmpty else { continue }
            var q = 1.0
            for p in parts.dropFirst() {
                let kv = p.split(separator: "=", maxSplits: 1)
                if kv.count == 2, kv[0].trimmingSpaces().lowercased() == "q", let v = Double(kv[1].trimmingSpaces()), (0...1).contains(v) { q = v }
            }
            // The most specific range wins for each type (RFC 9110: "application/json" over "application/*").
            switch type {
            case "application/json": json = q
            case "application/*": json = json ?? q
            case "text/plain": text = q
            case "text/*": text = text ?? q
            default: break
            }
        }
        guard let json, json > 0 else { return false }
        return json >= (text ?? 0)
    }
}
