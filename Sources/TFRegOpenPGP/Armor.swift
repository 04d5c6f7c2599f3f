import TFRegCrypto

/// ASCII Armor (RFC 9580 §6): `-----BEGIN PGP LABEL-----`, optional `Key: value` headers, a blank line,
/// base64 lines, an optional `=CRC24` line, `-----END PGP LABEL-----`. Strict: nothing but blank lines
/// around the block, the same label at both ends, canonical base64, the checksum right when present.
public enum OpenPGPArmor {
    /// True when `input` starts (after whitespace) with an armor line; binary packets never do.
    public static func isArmored(_ input: [UInt8]) -> Bool {
        let start = input.firstIndex { !isSpace($0) } ?? input.endIndex
        return input[start...].starts(with: Array("-----BEGIN ".utf8))
    }

    /// Decodes an armored block whose label is `label` (e.g. `PUBLIC KEY BLOCK`, `SIGNATURE`).
    public static func decode(_ input: [UInt8], label: String) throws(OpenPGPError) -> [UInt8] {
        var lines: [ArraySlice<UInt8>] = []
        var start = input.startIndex
        for i in input.indices where input[i] == UInt8(ascii: "\n") {
            lines.append(trimmed(input[start..<i]))
            start = i + 1
        }
        lines.append(trimmed(input[start...]))
        var i = 0
        while i < lines.count, lines[i].isEmpty { i += 1 }
        let begin = Array("-----BEGIN PGP \(label)-----".utf8)
        let end = Array("-----END PGP \(label)-----".utf8)
        guard i < lines.count, Array(lines[i]) == begin else {
            throw OpenPGPError(.malformed, "the armor does not start with -----BEGIN PGP \(label)-----")
        }
        i += 1
        var headers = 0
        while i < lines.count, !lines[i].isEmpty {
            guard lines[i].contains(UInt8(ascii: ":")), !lines[i].starts(with: Array("-----".utf8)) else {
                throw OpenPGPError(.malformed, "the armor has no blank line after its headers")
            }
            headers += 1
            guard headers <= OpenPGPLimits.maximumArmorHeaders else {
                throw OpenPGPError(.tooLarge, "the armor has more than \(OpenPGPLimits.maximumArmorHeaders) headers")
            }
            i += 1
        }
        guard i < lines.count else { throw OpenPGPError(.malformed, "the armor ends in its headers") }
        i += 1
        var body: [UInt8] = []
        var checksum: [UInt8]? = nil
        while true {
            guard i < lines.count else { throw OpenPGPError(.malformed, "the armor has no END line") }
            let line = lines[i]
            i += 1
            if Array(line) == end { break }
            if line.first == UInt8(ascii: "=") {
                guard checksum == nil, line.count == 5, let crc = Base64.decode(String(decoding: line.dropFirst(), as: UTF8.self)),
                    crc.count == 3
                else { throw OpenPGPError(.malformed, "the armor checksum line is malformed") }
                checksum = crc
                continue
            }
            guard checksum == nil else { throw OpenPGPError(.malformed, "the armor has data after its checksum") }
            guard !line.isEmpty else { throw OpenPGPError(.malformed, "the armor has a blank line in its body") }
            body.append(contentsOf: line)
        }
        while i < lines.count {
            guard lines[i].isEmpty else { throw OpenPGPError(.malformed, "the armor is followed by more text") }
            i += 1
        }
        guard let data = Base64.decode(String(decoding: body, as: UTF8.self)), !data.isEmpty else {
            throw OpenPGPError(.malformed, "the armor body is not canonical base64")
        }
        if let checksum {
            let crc = crc24(data)
            guard checksum == [UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)] else {
                throw OpenPGPError(.malformed, "the armor checksum does not match its data")
            }
        }
        return data
    }

    /// Encodes `data` as armor with a checksum (what tfreg serves as `ascii_armor`).
    public static func encode(_ data: [UInt8], label: String) -> String {
        let b64 = Base64.encode(data)
        var out = "-----BEGIN PGP \(label)-----\n\n"
        var line = b64.startIndex
        while line < b64.endIndex {
            let next = b64.index(line, offsetBy: 64, limitedBy: b64.endIndex) ?? b64.endIndex
            out += String(b64[line..<next]) + "\n"
            line = next
        }
        let crc = crc24(data)
        out += "=" + Base64.encode([UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]) + "\n"
        out += "-----END PGP \(label)-----\n"
        return out
    }

    /// CRC-24 of RFC 9580 §6.1.1.
    static func crc24(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB7_04CE
        for byte in data {
            crc ^= UInt32(byte) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x100_0000 != 0 { crc ^= 0x186_4CFB }
            }
        }
        return crc & 0xFF_FFFF
    }

    private static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    private static func trimmed(_ line: ArraySlice<UInt8>) -> ArraySlice<UInt8> {
        var l = line
        while let last = l.last, last == 0x20 || last == 0x09 || last == 0x0D { l = l.dropLast() }
        return l
    }
}
