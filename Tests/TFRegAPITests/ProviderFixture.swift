import TFRegCrypto

/// A signed release of provider `demo` 1.0.0 made once with Debian's gpg (an Ed25519 key) and Python's
/// zipfile (linux_amd64 and darwin_arm64), kept as bytes so the API tests need no gpg and stay fast.
/// `strangerSignature` signs the same SHA256SUMS with a key that is never registered.
enum ProviderFixture {
    static let fingerprint = "30A114031D261DF1CC937FF078720C167BE51AC1"
    static let keyArmor = """
        -----BEGIN PGP PUBLIC KEY BLOCK-----

        mDMEaxV3nhYJKwYBBAHaRw8BAQdAyJSMvU76GamerLQHFhau3JlZZhQMC+0235/b
        gRn6JPm0HUZpeHR1cmUgPGZpeHR1cmVAZXhhbXBsZS5jb20+iJAEExYIADgWIQQw
        oRQDHSYd8cyTf/B4cgwWe+UawQUCaxV3ngIbAwULCQgHAgYVCgkICwIEFgIDAQIe
        AQIXgAAKCRB4cgwWe+UawRd7AP0dfSAVSEhCfL4Bnxw1XokyXqwAKd6TqW2J3Ozf
        r7KixQEArmaQiqL4g6dt4YY6MH9Y5UC8kL7F4aSIxgdc/0vREwM=
        =D+jS
        -----END PGP PUBLIC KEY BLOCK-----
        """
    static let linuxZip = bytes(
        "UEsDBBQAAAAAAAAAIVwghvU3GwAAABsAAAAeAAAAdGVycmFmb3JtLXByb3ZpZGVyLWRlbW9fdjEuMC4wIyEvYmluL3NoCmVjaG8gbGludXhfYW1kNjQKUEsBAhQDFAAAAAAAAAAhXCCG9TcbAAAAGwAAAB4AAAAAAAAAAAAAAO0BAAAAAHRlcnJhZm9ybS1wcm92aWRlci1kZW1vX3YxLjAuMFBLBQYAAAAAAQABAEwAAABXAAAAAAA="
    )
    static let darwinZip = bytes(
        "UEsDBBQAAAAAAAAAIVxIzjc5HAAAABwAAAAeAAAAdGVycmFmb3JtLXByb3ZpZGVyLWRlbW9fdjEuMC4wIyEvYmluL3NoCmVjaG8gZGFyd2luX2FybTY0ClBLAQIUAxQAAAAAAAAAIVxIzjc5HAAAABwAAAAeAAAAAAAAAAAAAADtAQAAAAB0ZXJyYWZvcm0tcHJvdmlkZXItZGVtb192MS4wLjBQSwUGAAAAAAEAAQBMAAAAWAAAAAAA"
    )
    static let shasums = bytes(
        "ODZjN2U0NmJlZWMwZDY2ZDQ3NTQxM2I1N2NlYWQ0Y2RiOGZjMjMxMWE2MTMxZmYyOTUwNWVhZDM3NmU5YTBkMyAgdGVycmFmb3JtLXByb3ZpZGVyLWRlbW9fMS4wLjBfZGFyd2luX2FybTY0LnppcAo2M2FkMmU1NzM3MDRhNjg2YjMwMWJkYjExY2I1YTJiODczNjVjMTc5NWQ2ODcyM2IwMjY3NDczMTcyYTU4NTQ2ICB0ZXJyYWZvcm0tcHJvdmlkZXItZGVtb18xLjAuMF9saW51eF9hbWQ2NC56aXAK"
    )
    static let signature = bytes(
        "iIoEABYIADIWIQQwoRQDHSYd8cyTf/B4cgwWe+UawQUCaxV3nxQcZml4dHVyZUBleGFtcGxlLmNvbQAKCRB4cgwWe+UawYqWAP9gbhAc2tqMXoikx2eytO294UzBFpwe8rqf06AEIORf0wD/a5uFJp6PRpRbWhthjwoibCLPzT7IL0iB2F2nBBaYHgI="
    )
    static let strangerSignature = bytes(
        "iIQEABYIACwWIQTh/it/UAOyhV3KHMWZFFpoz0PvtAUCaxV3nw4cc0BleGFtcGxlLmNvbQAKCRCZFFpoz0PvtIjYAQC3U9gWiNNJwf2JA30KGWpLNivZSHZe5Pj2io2f9Feb4wEA4y9vKfyQDeNxzIQSdtRtoHf3rIm+nmqSv0qjzDMl9gs="
    )
    static let base = "terraform-provider-demo_1.0.0"

    private static func bytes(_ base64: String) -> [UInt8] { Base64.decode(base64)! }
}
