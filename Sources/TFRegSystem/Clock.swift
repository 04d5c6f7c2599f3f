import Glibc

/// Wall-clock time in Unix seconds, behind a protocol so tests can move time. The one way tfreg
/// tells the time: everything takes `any WallClock` (default `SystemClock()`), nothing calls
/// `time(nil)` itself.
public protocol WallClock: Sendable {
    func now() -> Int64
}

public struct SystemClock: WallClock {
    public init() {}
    public func now() -> Int64 { Int64(time(nil)) }
}
