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
