import Foundation
import Testing

@testable import TFRegOpenPGP

/// Keys and detached signatures made by gpg, verified by TFRegOpenPGP; every tampering refused.
@Suite("OpenPGP against gpg")
struct OpenPGPGPGTests {
    static let sums = Array(
        """
        0f3c6b5d9a0c7e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f8091  terraform-provider-demo_1.0.0_linux_amd64.zip
        a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90  terraform-provider-demo_1.0.0_darwin_arm64.zip

        """.utf8
    )

    @Test("RSA: gpg's key parses with gpg's fingerprint; its signatures verify; tampering and wrong keys are refused")
    func rsa() throws {
        let gpg = try GPG()
        defer { gpg.close() }
        let fpr = try gpg.generate("RSA Signer <rsa@example.com>", algorithm: "rsa2048")
        let other = try gpg.generate("Other <other@example.com>", algorithm: "ed25519")
        let armored = [UInt8](try gpg.gpg(["--export", "--armor", fpr]))
        let key = try OpenPGPPublicKey.parse(armored)
        #expect(key.fingerprint == fpr)
        #expect(key.keyID == String(fpr.suffix(16)))
        #expect(key.algorithmName == "rsa2048")
        #expect(key.userIDs == ["RSA Signer <rsa@example.com>"])
        // The binary export parses to the same key, and what tfreg serves re-parses.
        let binary = try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", fpr])))
        #expect(binary.fingerprint == fpr)
        #expect(try OpenPGPPublicKey.parse(Array(key.asciiArmor.utf8)).fingerprint == fpr)
        let otherKey = try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", "--armor", other])))

        for options in [[], ["--digest-algo", "SHA256"], ["--digest-algo", "SHA512", "--armor"], ["--digest-algo", "SHA384"], ["--textmode"]] {
            let sig = try OpenPGPSignature.parseDetached(try gpg.sign(Self.sums, key: fpr, options: options))
            let verified = try OpenPGPVerifier.verify(sig, data: Self.sums, keys: [otherKey, key])
            #expect(verified.fingerprint == fpr, "options \(options)")
            var tampered = Self.sums
            tampered[3] ^= 1
            #expect(throws: OpenPGPError(.invalidSignature, "")) { try OpenPGPVerifier.verify(sig, data: tampered, keys: [key]) }
            #expect(throws: OpenPGPError(.unknownKey, "")) { try OpenPGPVerifier.verify(sig, data: Self.sums, keys: [otherKey]) }
        }
        // One flipped bit anywhere the signature covers (everything but the unhashed subpacket area, which
        // only carries the issuer hint): refused, never accepted, never a trap.
        let raw = try gpg.sign(Self.sums, key: fpr)
        let body = try PacketReader.packets(raw, maximumCount: 1)[0].body
        let header = raw.count - body.count
        let hashed = try OpenPGPSignature.parse(body).hashedPart.count
        let unhashed = (header + hashed)..<(header + hashed + 2 + (Int(body[hashed]) << 8 | Int(body[hashed + 1])))
        for i in raw.indices where !unhashed.dropFirst(2).contains(i) {
            for bit in [0x01, 0x10, 0x80] as [UInt8] {
                var bad = raw
                bad[i] ^= bit
                let accepted = (try? OpenPGPVerifier.verify(OpenPGPSignature.parseDetached(bad), data: Self.sums, keys: [key])) != nil
                #expect(!accepted, "bit flip \(bit) at \(i) accepted")
            }
        }
        // SHA-1 signatures are refused outright.
        #expect(throws: OpenPGPError(.unsupported, "")) {
            try OpenPGPSignature.parseDetached(try gpg.sign(Self.sums, key: fpr, options: ["--digest-algo", "SHA1"]))
        }
        // The secret key is never taken for a public one, armored or not.
        #expect(throws: OpenPGPError(.secretKey, "")) {
            try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export-secret-keys", "--armor", fpr])))
        }
        #expect(throws: OpenPGPError(.secretKey, "")) {
            try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export-secret-keys", fpr])))
        }
        // Two keys in one block: refused (one key per registration).
        #expect(throws: OpenPGPError(.unsupported, "")) {
            try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", fpr, other])))
        }
    }

    @Test("Ed25519 (legacy EdDSA): primary and signing-subkey signatures verify; an encryption subkey is carried but never signs")
    func ed25519() throws {
        let gpg = try GPG()
        defer { gpg.close() }
        let fpr = try gpg.generate("Ed Signer <ed@example.com>", algorithm: "ed25519")
        let key = try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", "--armor", fpr])))
        #expect(key.fingerprint == fpr)
        #expect(key.algorithmName == "ed25519")
        for options in [[], ["--armor"], ["--digest-algo", "SHA512"]] {
            let sig = try OpenPGPSignature.parseDetached(try gpg.sign(Self.sums, key: fpr, options: options))
            #expect(try OpenPGPVerifier.verify(sig, data: Self.sums, keys: [key]).signingKeyID == String(fpr.suffix(16)))
            #expect(throws: OpenPGPError(.invalidSignature, "")) {
                try OpenPGPVerifier.verify(sig, data: Self.sums + [0x0A], keys: [key])
            }
        }

        // A signing subkey: the signature names the subkey; it verifies through the primary's binding.
        try gpg.gpg(["--quick-add-key", fpr, "ed25519", "sign", "never"])
        let subkey = try #require(try gpg.fingerprints(fpr).last)
        #expect(subkey != fpr)
        let withSubkey = try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", "--armor", fpr])))
        let subSig = try OpenPGPSignature.parseDetached(try gpg.sign(Self.sums, key: subkey))
        let verified = try OpenPGPVerifier.verify(subSig, data: Self.sums, keys: [withSubkey])
        #expect(verified.fingerprint == fpr)
        #expect(verified.signingKeyID == String(subkey.suffix(16)))
        // The key as registered before the subkey existed does not know it.
        #expect(throws: OpenPGPError(.unknownKey, "")) { try OpenPGPVerifier.verify(subSig, data: Self.sums, keys: [key]) }

        // An encryption-only subkey is never a signing key.
        try gpg.gpg(["--quick-add-key", fpr, "cv25519", "encr", "never"])
        let three = try OpenPGPPublicKey.parse([UInt8](try gpg.gpg(["--export", fpr])))
        #expect(try OpenPGPVerifier.verify(subSig, data: Self.sums, keys: [three]).fingerprint == fpr)
    }
}
