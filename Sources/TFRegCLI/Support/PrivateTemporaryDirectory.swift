import Glibc

/// A new directory under `TMPDIR` (else /tmp) that only this user can enter (mkdtemp: 0700), for
/// files that must not outlive the command; `remove()` deletes it and the plain files in it.
struct PrivateTemporaryDirectory {
    let path: String

    init(prefix: String) throws {
        let base = Env.value("TMPDIR") ?? "/tmp"
        var template = Array("\(base)/\(prefix)-XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw CLIError("cannot create a temporary directory in \(base) (errno \(errno))")
        }
        path = String(cString: made)
    }

    func remove() {
        if let dir = opendir(path) {
            while let ent = readdir(dir) {
                let name = withUnsafePointer(to: ent.pointee.d_name) {
                    $0.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
                }
                if name != "." && name != ".." { unlink(path + "/" + name) }
            }
            closedir(dir)
        }
        rmdir(path)
    }
}
