import FuzzSupport
import TFRegOpenPGP

// The detached-signature parser and the verifier: never traps; only the seed's signed text verifies.
let signed: [UInt8] = Array("abc  terraform-provider-x_1.0.0_linux_amd64.zip\n".utf8)
let keys: [OpenPGPPublicKey] = [
    try! OpenPGPPublicKey.parse(
        Array(
            """
            -----BEGIN PGP PUBLIC KEY BLOCK-----

            mDMEaxVG4xYJKwYBBAHaRw8BAQdAbaBM9a1uEOlmGehYoAFso8mat2TAJFx8pQ1j
            q/nCvfa0HEZ1enogU2VlZCA8c2VlZEBleGFtcGxlLmNvbT6IkAQTFggAOBYhBLoA
            T8MyJGA49oBbQOcyYzQzr4mSBQJrFUbjAhsDBQsJCAcCBhUKCQgLAgQWAgMBAh4B
            AheAAAoJEOcyYzQzr4mSlN4BALiPyGUjjltfSloudRe4WZ4ga2upCRcjXXd+kBcm
            QqB1APoDqTSMJdfiqq2Vm3qAFHPTz750fFgwj9t15R9yMLW3Bw==
            =Gf+E
            -----END PGP PUBLIC KEY BLOCK-----
            """.utf8
        )
    )
]

fuzz { bytes in
    guard let signature = try? OpenPGPSignature.parseDetached(bytes) else { return }
    _ = try? OpenPGPVerifier.verify(signature, data: signed, keys: keys)
    if (try? OpenPGPVerifier.verify(signature, data: signed + [0], keys: keys)) != nil {
        fatalError("a signature verifies over other data")
    }
}
