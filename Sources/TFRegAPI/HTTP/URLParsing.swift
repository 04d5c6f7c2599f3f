import TFRegSystem

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

    /// A `Host` header value we are willing to echo into URLs: RFC 3986 §3.2.2 `host [ ":" port ]`
    /// where host is a DNS-style reg-name (labels of letters, digits, `-`, `_`; 1…63 bytes, no `-` at
    /// either end; 253 bytes at most), a dotted IPv4 address, or a bracketed IPv6 address (no zone, no
    /// IPvFuture), and port is 1…65535. All-numeric names must be valid IPv4 addresses.
    public static func isValidHost(_ authority: String) -> Bool {
        let bytes = Array(authority.utf8)
        guard !bytes.isEmpty, bytes.count <= 261 else { return false }
        var host = bytes[...]
        if let close = bytes.lastIndex(of: UInt8(ascii: "]")), bytes.first == UInt8(ascii: "[") {
            let rest = bytes[(close + 1)...]
            if !rest.isEmpty {
                guard rest.first == UInt8(ascii: ":"), isValidPort(rest.dropFirst()) else { return false }
            }
            return isValidIPv6(bytes[1..<close])
        }
        if let colon = bytes.firstIndex(of: UInt8(ascii: ":")) {
            guard isValidPort(bytes[(colon + 1)...]) else { return false }
            host = bytes[..<colon]
        }
        return isValidRegName(host)
    }

    private static func isValidPort(_ p: ArraySlice<UInt8>) -> Bool {
        guard (1...5).contains(p.count), p.allSatisfy(ASCII.isDigit), p.first != UInt8(ascii: "0") else { return false }
        return p.reduce(0) { $0 * 10 + Int($1 - 48) } <= 65535
    }

    /// One pass, no allocation (it runs on every request's `Host`): a dotted-quad IPv4 address, or
    /// dot-separated labels of 1…63 letters, digits, `-` and `_`, neither starting nor ending with `-`.
    private static func isValidRegName(_ h: ArraySlice<UInt8>) -> Bool {
        guard (1...253).contains(h.count) else { return false }
        var labels = 0
        var labelLength = 0
        var last: UInt8 = 0
        var allDigits = true
        var octet = 0
        var octetsValid = true
        for c in h {
            if c == UInt8(ascii: ".") {
                // An empty label, or one ending in `-`; a trailing dot (fully qualified) is not accepted
                // either: it would make two spellings of one host.
                guard labelLength > 0, last != UInt8(ascii: "-") else { return false }
                labels += 1
                labelLength = 0
                octet = 0
            } else {
                guard ASCII.isAlnum(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "_") else { return false }
                if labelLength == 0, c == UInt8(ascii: "-") { return false }
                labelLength += 1
                guard labelLength <= 63 else { return false }
                if ASCII.isDigit(c) {
                    // Accumulated for at most three digits: a longer run is no octet (and cannot overflow).
                    if labelLength > 3 {
                        octetsValid = false
                    } else {
                        octet = octet * 10 + Int(c - 48)
                        if octet > 255 { octetsValid = false }
                    }
                } else {
                    allDigits = false
                }
            }
            last = c
        }
        guard labelLength > 0, last != UInt8(ascii: "-") else { return false }
        labels += 1
        // All-numeric names are IPv4 addresses: exactly four octets of at most 255.
        if allDigits { return labels == 4 && octetsValid }
        return true
    }

    /// RFC 4291 §2.2 text forms: eight groups of 1…4 hex digits, one `::` for a run of zero groups,
    /// optionally ending in a dotted IPv4 address that counts as two groups.
    private static func isValidIPv6(_ a: ArraySlice<UInt8>) -> Bool {
        guard (2...45).contains(a.count) else { return false }
        let s = Array(a)
        var groups = 0
        var sawDoubleColon = false
        var i = 0
        if s.starts(with: [58, 58]) {
            sawDoubleColon = true
            i = 2
        } else if s.first == 58 {
            return false
        }
        while i < s.count {
            var j = i
            while j < s.count, s[j] != 58 { j += 1 }
            let part = s[i..<j]
            if part.contains(UInt8(ascii: ".")) {
                // Embedded IPv4 only as the last part.
                guard j == s.count, isValidRegName(part), part.allSatisfy({ ASCII.isDigit($0) || $0 == 46 }) else { return false }
                groups += 2
                break
            }
            guard (1...4).contains(part.count), part.allSatisfy(ASCII.isHexDigit) else {
                return false
            }
            groups += 1
            if j == s.count { break }
            // s[j] is ':'; a second ':' right after is the one allowed "::".
            if j + 1 < s.count, s[j + 1] == 58 {
                guard !sawDoubleColon else { return false }
                sawDoubleColon = true
                i = j + 2
            } else {
                guard j + 1 < s.count else { return false }
                i = j + 1
            }
        }
        return sawDoubleColon ? groups <= 7 : groups == 8
    }
}
