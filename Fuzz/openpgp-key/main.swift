import FuzzSupport
import TFRegOpenPGP

// The strict public-key parser (armor, packets, key material, self-signature verification): never traps;
// an accepted key's armored form (what tfreg serves) parses to the same key.
fuzz { bytes in
    guard let key = try? OpenPGPPublicKey.parse(bytes) else { return }
    guard let again = try? OpenPGPPublicKey.parse(Array(key.asciiArmor.utf8)) else {
        fatalError("an accepted key's armor is refused")
    }
    if again.fingerprint != key.fingerprint || again.userIDs != key.userIDs {
        fatalError("an accepted key's armor reads back as another key")
    }
}
