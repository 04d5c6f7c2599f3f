import TFRegSystem
import Testing

@Suite struct ASCIITests {
    @Test func classesAgreeWithCharacter() {
        for b in UInt8(0)...UInt8(127) {
            let c = Character(Unicode.Scalar(b))
            #expect(ASCII.isDigit(b) == ("0"..."9").contains(c))
            #expect(ASCII.isAlpha(b) == (c.isLetter && c.isASCII))
            #expect(ASCII.isAlnum(b) == ((c.isLetter || c.isNumber) && c.isASCII))
            #expect(ASCII.isLowerAlnum(b) == (("0"..."9").contains(c) || ("a"..."z").contains(c)))
            #expect(ASCII.isLowerHex(b) == (("0"..."9").contains(c) || ("a"..."f").contains(c)))
            #expect(ASCII.isHexDigit(b) == c.isHexDigit)
            #expect(ASCII.lowercased(b) == Character(String(c).lowercased()).asciiValue)
        }
        #expect(!ASCII.isAlnum(0xc3))
    }

    @Test func trimming() {
        #expect(" \tkey = v \t".trimmingSpaces() == "key = v")
        #expect(Substring("\n x \n").trimmingSpaces() == "\n x \n")
        #expect("\r\n token \r\n".trimmingASCII(ASCII.isNewline) == " token ")
        #expect("\r\n token \r\n".trimmingASCII(ASCII.isWhitespace) == "token")
        #expect("   ".trimmingSpaces() == "")
        #expect("\u{a0} pattern/ \u{2028}".trimmingWhitespace() == "pattern/")
        let bytes: [UInt8] = Array("  ab  ".utf8)
        #expect(ASCII.trimmedBounds(bytes, dropping: ASCII.isSpaceOrTab) == 2..<4)
    }
}

@Suite struct LexicalPathTests {
    func parts(_ s: String) -> [[UInt8]] { s.split(separator: "/").map { Array($0.utf8) } }

    @Test func resolvesInsideTheRoot() {
        #expect(LexicalPath.resolve(Array("../c/./d".utf8), in: parts("a/b")) == parts("a/c/d"))
        #expect(LexicalPath.resolve(Array("..//..".utf8), in: parts("a/b")) == [])
        #expect(LexicalPath.resolve(Array("x".utf8), in: []) == parts("x"))
    }

    @Test func refusesToLeaveIt() {
        #expect(LexicalPath.resolve(Array("../../..".utf8), in: parts("a/b")) == nil)
        // Leaving and coming back is still leaving.
        #expect(LexicalPath.resolve(Array("../a".utf8), in: []) == nil)
    }

    struct TooLong: Error {}

    @Test func checksNamesInOrder() {
        var seen: [String] = []
        _ = LexicalPath.resolve(Array("a/../b/c".utf8), in: []) { (n: [UInt8]) throws(Never) in seen.append(String(decoding: n, as: UTF8.self)) }
        #expect(seen == ["a", "b", "c"])
        #expect(throws: TooLong.self) {
            try LexicalPath.resolve(Array("long/..".utf8), in: []) { (n: [UInt8]) throws(TooLong) in if n.count > 3 { throw TooLong() } }
        }
    }
}
