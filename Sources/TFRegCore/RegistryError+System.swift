import TFRegSystem

extension RegistryError {
    /// A failed file operation (TFRegSystem) as what storage failures have always been: 503, the
    /// call and errno in `detail` only.
    public init(_ error: SystemError, file: String = #fileID, line: Int = #line) {
        self = .unavailable("storage", detail: error.description, file: file, line: line)
    }

    /// A TFRegSystem file operation where `RegistryError` is thrown:
    /// `try RegistryError.storage(FileSystem.makeDirectories(dir, mode: 0o750))`.
    public static func storage<T>(
        _ operation: @autoclosure () throws(SystemError) -> T,
        file: String = #fileID,
        line: Int = #line
    ) throws(RegistryError) -> T {
        do { return try operation() } catch { throw RegistryError(error, file: file, line: line) }
    }
}

extension RegistryError {
    /// A file or directory another user could have written or planted (TFRegSystem's trust checks):
    /// the operator must fix it, so `misconfigured` (500 for a client, exit 78 in the CLI); the path
    /// and the fix in `detail`.
    public init(_ error: UntrustedPath, file: String = #fileID, line: Int = #line) {
        self.init(.misconfigured, "the registry's files are not safe to use (see its log)", detail: error.description, file: file, line: line)
    }
}
