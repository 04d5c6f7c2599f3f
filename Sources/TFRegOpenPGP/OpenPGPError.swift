/// Why an OpenPGP key or signature was refused: a code for programs, a reason for people.
/// Equality is on the code only, so tests compare codes (the swift-certificates convention).
public struct OpenPGPError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        /// Framing, armor, packet or field syntax is wrong.
        case malformed
        /// Well formed but outside what tfreg accepts (algorithm, version, weak key, SHA-1…).
        case unsupported
        /// Over a size or count bound.
        case tooLarge
        /// A secret key was offered where a public key belongs.
        case secretKey
        /// No registered key matches the signature's issuer (or it may not sign).
        case unknownKey
        /// The signature does not verify, is expired, or its key is revoked.
        case invalidSignature
    }

    public let code: Code
    public let reason: String

    public init(_ code: Code, _ reason: String) {
        self.code = code
        self.reason = reason
    }

    public var description: String { "\(code.rawValue): \(reason)" }

    public static func == (a: OpenPGPError, b: OpenPGPError) -> Bool { a.code == b.code }
}

/// Bounds on what the parsers read (RFC 9580 sets none; these fit real release keys many times over).
public enum OpenPGPLimits {
    /// Input size (armored or binary) of a key.
    public static let maximumKeyBytes = 256 * 1024
    /// Input size of a detached signature.
    public static let maximumSignatureBytes = 16 * 1024
    /// Packets in one transferable public key.
    public static let maximumPackets = 512
    /// User IDs, and subkeys, on one key.
    public static let maximumUserIDs = 64
    public static let maximumSubkeys = 32
    /// Largest MPI (bits): RSA-16384 is far beyond what gpg generates.
    public static let maximumMPIBits = 16384
    /// Smallest RSA modulus accepted for signing.
    public static let minimumRSABits = 2048
    /// Armor header lines.
    public static let maximumArmorHeaders = 32
}
