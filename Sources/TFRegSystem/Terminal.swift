import Glibc

/// The process's controlling terminal, for the one message a parent program would otherwise swallow
/// (Terraform captures a credentials helper's standard error and shows it only in its log).
public enum Terminal {
    /// Whether standard error is a terminal.
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Writes `line` (and a newline) to `/dev/tty`; false when there is no controlling terminal (CI,
    /// a daemon) or the write fails. Opened without becoming the controlling terminal and closed again.
    @discardableResult
    public static func write(line: String) -> Bool {
        let fd = open("/dev/tty", O_WRONLY | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        return FileSystem.write(fd: fd, Array((line + "\n").utf8))
    }
}
