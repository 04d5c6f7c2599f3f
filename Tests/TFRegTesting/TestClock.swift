import TFRegSystem

/// A clock tests can move.
public final class TestClock: WallClock, @unchecked Sendable {
    private var value: Int64
    public init(_ start: Int64 = 1_800_000_000) { value = start }
    public func now() -> Int64 { value }
    public func advance(_ seconds: Int64) { value += seconds }
}
