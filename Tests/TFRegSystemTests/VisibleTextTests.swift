import TFRegSystem
import Testing

@Suite struct VisibleTextTests {
    /// The set archive paths and deprecation reasons refuse: every Cf character, the ranges git and
    /// HFS+ name, and C0/DEL/C1; nothing else.
    @Test func invisibleAndControlClasses() {
        for v: UInt32 in [
            0x200b, 0x200c, 0x200d, 0x200e, 0x200f, 0x202a, 0x202e, 0x2066, 0x2069, 0x206a, 0x206f, 0xfeff, 0xad, 0x61c, 0x2060, 0xe0001,
        ] {
            #expect(VisibleText.isInvisible(Unicode.Scalar(v)!), "\(VisibleText.codePoint(Unicode.Scalar(v)!))")
        }
        for v: UInt32 in [0x20, 0x41, 0xe9, 0x3c3, 0x4e2d, 0x1f600, 0x2028, 0xa0] {
            #expect(!VisibleText.isInvisible(Unicode.Scalar(v)!), "\(VisibleText.codePoint(Unicode.Scalar(v)!))")
        }
        for v in UInt32(0)...UInt32(0x2000) {
            guard let s = Unicode.Scalar(v) else { continue }
            #expect(VisibleText.isControl(s) == (s.properties.generalCategory == .control))
        }
        #expect(VisibleText.hasHiddenCharacters("use 2.x\u{202e}") && VisibleText.hasHiddenCharacters("a\u{7}"))
        #expect(!VisibleText.hasHiddenCharacters("caf\u{e9} \u{1f600}"))
        #expect(VisibleText.codePoint("\u{3c2}") == "U+03C2" && VisibleText.codePoint("\u{e0001}") == "U+E0001")
    }
}
