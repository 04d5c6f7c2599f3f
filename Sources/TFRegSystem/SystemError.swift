import Glibc

/// A failed system call: what was attempted, on which path, and `errno` at the time.
/// Callers turn it into their own error type (`RegistryError(_:)` in TFRegCore for storage).
public struct SystemError: Error, Sendable, CustomStringConvertible {
    /// The call, as the message names it (`mkdir`, `open`, `fsync`, `create`, `write`).
    public let operation: String
    public let path: String
    public let errno: Int32

    public init(_ operation: String, _ path: String, errno: Int32 = Glibc.errno) {
        self.operation = operation
        self.path = path
        self.errno = errno
    }

    /// `mkdir /a/b: errno 13`, the form the storage errors have always logged.
    public var description: String { "\(operation) \(path): errno \(errno)" }
}
