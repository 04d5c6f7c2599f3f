/// Strict parsing of request paths and query strings.
///
/// Paths are split on `/` *before* percent-decoding, so `%2F` can never become a separator; a decoded
/// segment must then pass the identifier grammar of whatever it names. `.` and `..` segments, empty
/// segments (`//`), control characters and malformed escapes are rejected outright.
public enum URLParsing {
    /// Splits and decodes an absolute path. A single trailing `/` is allowed and ignored.
    public static func segments(of rawPath: String) -> [String]? {
        var path = rawPath
        return path.withUTF8 { u -> [String]? in
            guard u.count >= 1, u.count <= 2048, u[0] == UInt8(ascii: "/") else { return nil }
            var end = u.count
            if end > 1 && u[end - 1] == UInt8(ascii: "/") { end -= 1 }
            // "//…" or "…//" would hide an empty segment behind the one trailing slash we allow.
            if u.count >= 2 && u[1] == UInt8(ascii: "/") { return nil }
            if end > 1 && u[end - 1] == UInt8(ascii: "/") { return nil }
            var out: [String] = []
            out.reserveCapacity(8)
            var start = 1
            while start < end {
                var stop = start
                var escaped = false
                while stop < end && u[stop] != UInt8(ascii: "/") {
                    let c = u[stop]
                    // Raw controls, space, backslash and non-ASCII must be percent-encoded by a client.
                    if c <= 0x20 || c >= 0x7f || c == UInt8(ascii: "\\") { return nil }
                    if c == UInt8(ascii: "%") { escaped = true }
                    stop += 1
                }
                guard stop > start else { return nil }  // empty segment: "//"
                let raw = UnsafeBufferPointer(rebasing: u[start..<stop])
                let segment: String
                if escaped {
                    guard let decoded = percentDecode(Substring(decoding: raw, as: UTF8.self), plusIsSpace: false),
                        !decoded.unicodeScalars.contains(where: { $0.value < 0x20 || $0.value == 0x7f || $0 == "\\" || $0 == "/" })
                    else { return nil }
                    segment = decoded
                } else {
                    segment = String(decoding: raw, as: UTF8.self)
                }
                guard segment != ".", segment != ".." else { return nil }
                out.append(segment)
                start = stop + 1
            }
            return out
        }
    }

    /// Parses `a=1&b=2` (form encoding: `+` is a space). Nil on a malformed escape.
    public static func queryItems(_ query: String) -> [(name: String, value: String)]? {
        guard query.utf8.count <= 8192 else { return nil }
        var items: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = percentDecode(parts[0], plusIsSpace: true),
                let value = percentDecode(parts.count > 1 ? parts[1] : "", plusIsSpace: true)
            else { return nil }
            items.append((name, value))
        }
        return items
    }

    public static func percentDecode(_ s: Substring, plusIsSpace: Bool) -> String? {
        if !s.utf8.contains(UInt8(ascii: "%")) && !(plusIsSpace && s.utf8.contains(UInt8(ascii: "+"))) {
            return String(s)  // the common case: nothing to decode
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(s.utf8.count)
        var it = s.utf8.makeIterator()
        while let c = it.next() {
            if c == UInt8(ascii: "%") {
                guard let h = it.next(), let l = it.next(), let hv = hexValue(h), let lv = hexValue(l) else { return nil }
                bytes.append(hv << 4 | lv)
            } else if c == UInt8(ascii: "+") && plusIsSpace {
                bytes.append(UInt8(ascii: " "))
            } else {
                bytes.append(c)
            }
        }
        return String(validating: bytes, as: UTF8.self)
    }

    private static func hexValue(_ c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - 48
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - 87
        case UInt8(ascii: "A")...UInt8(ascii: "F"): c - 55
        default: nil
        }
    }

    /// A `Host` header value we are willing to echo into URLs: a DNS name, IPv4, or bracketed IPv6,
    /// with an optional port.
    public static func isValidHost(_ host: String) -> Bool {
        guard !host.isEmpty, host.utf8.count <= 255 else { return false }
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]".utf8)
        return host.utf8.allSatisfy(allowed.contains) && !host.hasPrefix(".") && !host.hasPrefix("-")
    }
}
