import FuzzSupport
import TFRegCore
import TFRegCrypto

/// Static-token recognition (`StaticTokenAuthenticator.isWellFormed`, the check before any store
/// lookup). Property: a token is well formed exactly when it is `tfr_` + the canonical unpadded
/// base64url spelling of 32 bytes, i.e. what `generate()` makes.
fuzz { bytes in
    let token = String(decoding: bytes, as: UTF8.self)
    let wellFormed = StaticTokenAuthenticator.isWellFormed(token)
    var canonical = false
    if token.hasPrefix(StaticTokenAuthenticator.prefix) {
        let rest = token.dropFirst(StaticTokenAuthenticator.prefix.count)
        if let raw = Base64.decode(rest, urlSafe: true), raw.count == 32, Base64.encode(raw, urlSafe: true) == rest {
            canonical = true
        }
    }
    guard wellFormed == canonical else { fatalError("isWellFormed(\(token.debugDescription)) = \(wellFormed)") }
    if wellFormed { _ = StaticTokenAuthenticator.digest(of: token) }
}
