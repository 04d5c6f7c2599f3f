import FuzzSupport
import TFRegCrypto
import TFRegSystem

@testable import TFRegCore

/// Sealed-token opening (`SealedTokens.verify` minus the async key lookup): `parse` on any bytes,
/// then AES-GCM open and the claim checks under a fixed key and clock. Input with a first byte of
/// 0xFF is instead taken as a claims plaintext, sealed under the fixed key (header expiry taken from
/// the claims, as `issue` does), so the claim checks behind the authentication tag are fuzzed too.
/// Properties: never traps; a token we sealed always parses back to the same envelope.
let material = [UInt8](repeating: 0x42, count: 32)
let keyID = Array(SHA256.hash(material).prefix(8))
struct FixedClock: WallClock { func now() -> Int64 { 1_800_000_000 } }
let tokens = SealedTokens(keys: StaticTokenKeys(keys: [material]), audience: "registry.example.com", clock: FixedClock())

fuzz { bytes in
    let now = FixedClock().now()
    if bytes.first == 0xFF {
        let claims = Array(bytes.dropFirst())
        var expiry: UInt64 = 0
        for b in claims.dropFirst(8).prefix(8) { expiry = expiry << 8 | UInt64(b) }
        let header = [SealedTokens.version] + SealedTokens.be(UInt64(keyID.count), bytes: 2) + keyID + SealedTokens.be(expiry, bytes: 8)
        let sealed = AESGCM.seal(claims, key: material, aad: tokens.aad(header), nonce: [UInt8](repeating: 7, count: 12))
        let token = SealedTokens.prefix + Base64.encode(header + sealed.nonce + sealed.ciphertext + sealed.tag, urlSafe: true)
        guard token.utf8.count <= 4096 else { return }
        guard let envelope = SealedTokens.parse(token), envelope.keyID == keyID, envelope.expiry == expiry,
            envelope.header == header, envelope.sealed == sealed
        else { fatalError("a token sealed under the fixed key does not parse back") }
        if let c = tokens.open(envelope, key: material, now: now) {
            guard c.expiresAt > now, c.issuedAt <= c.expiresAt, c.subject.kind == .iam else { fatalError("accepted bad claims") }
        }
        return
    }
    let token = String(decoding: bytes, as: UTF8.self)
    guard let envelope = SealedTokens.parse(token) else { return }
    _ = tokens.open(envelope, key: material, now: now)
}
