/// An operator running the CLI directly on the registry's store (`tfreg grant` without `--registry`):
/// the principal of the changes made there. Whoever can open the store is trusted as its administrator,
/// so no grant is checked; the change is still named, `local:USER@HOST` in its log line (`by=`), as a
/// change over the API names the caller's identity.
///
/// Not an `Identity`: nothing can be granted to it, and no request can present it.
public struct LocalOperator: Sendable, Hashable, CustomStringConvertible {
    /// The user name, cleaned (`clean`).
    public let user: String
    /// The host name, cleaned (`clean`).
    public let host: String

    /// Both parts are cleaned: they come from the system (the password database, `gethostname`) and
    /// end up in log lines, which must stay one line of plain text.
    public init(user: String, host: String) {
        self.user = Self.clean(user)
        self.host = Self.clean(host)
    }

    /// `local:USER@HOST`.
    public var description: String { "local:\(user)@\(host)" }

    /// At most 64 characters of ASCII letters, digits, `.`, `_` and `-`; anything else (spaces,
    /// controls, `@`, `:`, non-ASCII) becomes `_`; empty becomes `unknown`.
    static func clean(_ text: String) -> String {
        let kept = text.unicodeScalars.prefix(64).map { s -> Character in
            s.isASCII && (s.properties.isAlphabetic || ("0"..."9").contains(s) || s == "." || s == "_" || s == "-") ? Character(s) : "_"
        }
        return kept.isEmpty ? "unknown" : String(kept)
    }
}
