import Glibc

// The one home of the timestamp forms tfreg reads and writes: RFC 3339 (what the registry stores and
// answers), SigV4's `X-Amz-Date`, and the ISO 8601 variants AWS answers with. Formatting never traps
// (years are computed in Int64), parsing reads ASCII digits only.

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-25T11:19:51Z`). Stored times are input (a
/// DynamoDB row may come from another tool), so every value formats: the year is computed in Int64
/// (glibc's gmtime accepts `tm_year` up to Int32.max, where `+ 1900` would trap), and a time gmtime
/// cannot represent formats as the epoch.
public func rfc3339(_ seconds: Int64) -> String {
    let p = UTCFields(seconds)
    return "\(pad(p.year, 4))-\(pad(p.month))-\(pad(p.day))T\(pad(p.hour)):\(pad(p.minute)):\(pad(p.second))Z"
}

/// Parses what `rfc3339(_:)` writes (`YYYY-MM-DDTHH:MM:SSZ`), nil for anything else.
public func parseRFC3339(_ s: String) -> Int64? {
    let u = Array(s.utf8)
    guard u.count == 20, u[4] == 0x2d, u[7] == 0x2d, u[10] == 0x54, u[13] == 0x3a, u[16] == 0x3a, u[19] == 0x5a else { return nil }
    return utc(u, year: 0, month: 5, day: 8, hour: 11, minute: 14, second: 17)
}

/// SigV4's `X-Amz-Date` (`yyyyMMdd'T'HHmmss'Z'`) for Unix seconds.
public func amzDate(_ seconds: Int64) -> String {
    let p = UTCFields(seconds)
    return "\(pad(p.year, 4))\(pad(p.month))\(pad(p.day))T\(pad(p.hour))\(pad(p.minute))\(pad(p.second))Z"
}

/// `YYYYMMDDTHHMMSSZ` → Unix seconds, nil for anything else.
public func parseAmzDate(_ s: String) -> Int64? {
    let u = Array(s.utf8)
    guard u.count == 16, u[8] == 0x54, u[15] == 0x5a else { return nil }
    return utc(u, year: 0, month: 4, day: 6, hour: 9, minute: 11, second: 13)
}

/// RFC 3339 / ISO 8601 timestamps as AWS writes them (`2026-11-25T13:00:00Z`, fractions, offsets,
/// lower-case `t`/`z`), nil for anything else.
public func parseISO8601(_ s: String) -> Int64? {
    let u = Array(s.utf8)
    guard u.count >= 20, u[4] == 0x2d, u[7] == 0x2d, u[10] == 0x54 || u[10] == 0x74, u[13] == 0x3a, u[16] == 0x3a else { return nil }
    guard let base = utc(u, year: 0, month: 5, day: 8, hour: 11, minute: 14, second: 17) else { return nil }
    var i = 19
    if i < u.count, u[i] == 0x2e {
        i += 1
        while i < u.count, ASCII.isDigit(u[i]) { i += 1 }
    }
    var offset: Int64 = 0
    if i < u.count, u[i] == 0x5a || u[i] == 0x7a {
        i += 1
    } else if i + 6 == u.count, u[i] == 0x2b || u[i] == 0x2d, u[i + 3] == 0x3a, let oh = digits(u, i + 1, 2), let om = digits(u, i + 4, 2) {
        offset = Int64(oh) * 3600 + Int64(om) * 60
        if u[i] == 0x2b { offset = -offset }
        i += 6
    } else {
        return nil
    }
    guard i == u.count else { return nil }
    return base + offset
}

/// The calendar fields of Unix seconds in UTC, the year in Int64; the epoch for a time gmtime cannot
/// represent.
struct UTCFields {
    let year: Int64
    let month: Int64
    let day: Int64
    let hour: Int64
    let minute: Int64
    let second: Int64

    init(_ seconds: Int64) {
        var t = time_t(seconds)
        var parts = tm()
        if gmtime_r(&t, &parts) == nil {
            parts = tm()
            parts.tm_year = 70
            parts.tm_mday = 1
        }
        year = Int64(parts.tm_year) + 1900
        month = Int64(parts.tm_mon) + 1
        day = Int64(parts.tm_mday)
        hour = Int64(parts.tm_hour)
        minute = Int64(parts.tm_min)
        second = Int64(parts.tm_sec)
    }
}

/// Zero-padded decimal (a minus sign, if any, is not padded past).
func pad(_ v: Int64, _ width: Int = 2) -> String {
    let s = String(v)
    return String(repeating: "0", count: max(0, width - s.count)) + s
}

/// `count` ASCII digits at `start` as a number (at most four digits, so it fits); nil otherwise.
func digits(_ u: [UInt8], _ start: Int, _ count: Int) -> Int32? {
    guard start >= 0, start + count <= u.count else { return nil }
    var v: Int32 = 0
    for b in u[start..<(start + count)] {
        guard ASCII.isDigit(b) else { return nil }
        v = v * 10 + Int32(b &- 0x30)
    }
    return v
}

/// Unix seconds for the date and time fields at the given offsets (4-digit year, 2-digit rest).
func utc(_ u: [UInt8], year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) -> Int64? {
    guard let y = digits(u, year, 4), let mo = digits(u, month, 2), let d = digits(u, day, 2), let h = digits(u, hour, 2),
        let mi = digits(u, minute, 2), let se = digits(u, second, 2)
    else { return nil }
    var t = tm()
    t.tm_year = y - 1900
    t.tm_mon = mo - 1
    t.tm_mday = d
    t.tm_hour = h
    t.tm_min = mi
    t.tm_sec = se
    return Int64(timegm(&t))
}
