import TFRegOpenPGP

/// What `tfreg mirror pull` checks of a release it reads from an upstream registry before it sends
/// anything on (issue 20), as Terraform's `internal/getproviders` checks a package it installs
/// (package_authentication.go): the detached signature over `SHA256SUMS` against the keys the
/// upstream's download document lists, then that the document's `shasum` is the one the signed file
/// lists for `filename`, then each downloaded zip against that line.
public enum UpstreamRelease {
    /// The signed `SHA256SUMS` (file name → digest) and the listed key that signed it (its fingerprint
    /// and armor: the one sent on with the release, which the registry verifies again). `.badRequest`
    /// naming the file when the signature is bad or by none of `armoredKeys`.
    public static func verify(
        shasums: [UInt8],
        signature: [UInt8],
        armoredKeys: [String],
        sumsName: String,
        now: Int64
    ) throws(RegistryError) -> (sums: [String: String], fingerprint: String, armor: String) {
        let sums = try RegistryService.parseShasums(shasums, file: sumsName)
        var keys: [(OpenPGPPublicKey, String)] = []
        for armor in armoredKeys.prefix(16) {
            if let key = try? OpenPGPPublicKey.parse(Array(armor.utf8)) { keys.append((key, armor)) }
        }
        guard !keys.isEmpty else {
            throw .badRequest("\(sumsName).sig: the upstream lists no usable signing key (gpg_public_keys), so the release cannot be verified")
        }
        let verified: OpenPGPVerifier.Verified
        do {
            let sig = try OpenPGPSignature.parseDetached(signature)
            verified = try OpenPGPVerifier.verify(sig, data: shasums, keys: keys.map(\.0), now: now)
        } catch {
            throw .badRequest("\(sumsName).sig: not a valid signature by a key the upstream lists (\(error.reason))")
        }
        guard let signer = keys.first(where: { $0.0.fingerprint == verified.fingerprint }) else {
            throw .badRequest("\(sumsName).sig: signed by a key the upstream does not list")
        }
        return (sums, verified.fingerprint, signer.1)
    }
}
