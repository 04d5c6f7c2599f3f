/// Classes of Unicode scalars in text a person reads: names in module archives and messages such as a
/// deprecation reason. One home, so that every check refuses the same set.
public enum VisibleText {
    /// Control characters: C0, DEL and C1 (general category Cc).
    @inlinable public static func isControl(_ s: Unicode.Scalar) -> Bool {
        s.value < 0x20 || (0x7f...0x9f).contains(s.value)
    }

    /// Invisible and bidirectional-control characters: every format character (general category Cf),
    /// which includes the zero-width characters U+200B–200F, the bidi embeddings and overrides
    /// U+202A–202E, the isolates U+2066–2069, U+206A–206F and U+FEFF (the code points HFS+ ignores in
    /// names and git refuses), and also U+00AD, U+061C, U+2060–2064 and the tags U+E0001–E007F. They
    /// make two different names one file, or make a text display as another.
    public static func isInvisible(_ s: Unicode.Scalar) -> Bool {
        let v = s.value
        guard v >= 0xad else { return false }
        return s.properties.generalCategory == .format || (0x200b...0x200f).contains(v) || (0x202a...0x202e).contains(v)
            || (0x2066...0x206f).contains(v) || v == 0xfeff
    }

    /// Whether `text` contains a control, invisible or bidirectional-control character.
    public static func hasHiddenCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { isControl($0) || isInvisible($0) }
    }

    /// `U+XXXX` (at least four uppercase hex digits), for naming a character in a message.
    public static func codePoint(_ s: Unicode.Scalar) -> String {
        let hex = String(s.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}
