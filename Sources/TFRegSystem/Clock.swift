#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Wall-clock time in Unix seconds, behind a protocol so tests can move time.
public protocol WallClock: Sendable {
    func now() -> Int64
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Int64 { Int64(time(nil)) }
}

/// Formats Unix seconds as RFC 3339 UTC (`2026-11-25T11:19:51Z`). Stored times are input (a
/// DynamoDB row may come from another tool), so every value formats: the year is computed in Int64
/// (glibc's gmtime accepts `tm_year` up to Int32.max, where `+ 1900` would trap), and a time gmtime
/// cannot represent formats as the epoch.
public func rfc3339(_ seconds: Int64) -> String {
    var t = time_t(seconds)
    var parts = tm()
    if gmtime_r(&t, &parts) == nil {
        parts = tm()
        parts.tm_year = 70
        parts.tm_mday = 1
    }
    func pad(_ v: Int64, _ width: Int = 2) -> String {
        let s = String(v)
        return String(repeating: "0", count: max(0, width - s.count)) + s
    }
    return
        "\(pad(Int64(parts.tm_year) + 1900, 4))-\(pad(Int64(parts.tm_mon) + 1))-\(pad(Int64(parts.tm_mday)))T\(pad(Int64(parts.tm_hour))):\(pad(Int64(parts.tm_min))):\(pad(Int64(parts.tm_sec)))Z"
}

/// Parses what `rfc3339(_:)` writes (`YYYY-MM-DDTHH:MM:SSZ`), nil for anything else.
public func parseRFC3339(_ s: String) -> Int64? {
    let u = Array(s.utf8)
    guard u.count == 20, u[4] == 45, u[7] == 45, u[10] == 84, u[13] == 58, u[16] == 58, u[19] == 90 else { return nil }
    var c: [UInt8] = Array(u[0..<4])
    c += u[5..<7]
    c += u[8..<10]
    c.append(84)
    c += u[11..<13]
    c += u[14..<16]
    c += u[17..<19]
    c.append(90)
    let compact = String(decoding: c, as: UTF8.self)
    return SignedCallerIdentityRequest.amzDate(compact)
}
