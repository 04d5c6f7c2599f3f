import FuzzSupport
import Glibc
import TFRegAPI

// The provider release upload (one uncompressed tar of a goreleaser release): the strict splitter and
// the classifier never trap, leave nothing staged when they refuse, and stage exactly what they accept.
let directory: String = {
    var template = Array("/tmp/fuzz-provider-release.XXXXXX".utf8CString)
    guard let made = mkdtemp(&template) else { fatalError("mkdtemp failed") }
    return String(cString: made)
}()

fuzz { bytes in
    if let violated = ProviderReleaseFuzzProperties.check(bytes, directory: directory) {
        fatalError("provider release property violated: \(violated)")
    }
}
