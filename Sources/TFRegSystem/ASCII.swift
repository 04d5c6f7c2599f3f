/// ASCII byte classes, for grammars checked on the UTF-8 view (no grapheme breaking on hot paths).
public enum ASCII {
    @inlinable public static func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
    @inlinable public static func isUpper(_ c: UInt8) -> Bool { c >= 0x41 && c <= 0x5a }
    @inlinable public static func isLower(_ c: UInt8) -> Bool { c >= 0x61 && c <= 0x7a }
    @inlinable public static func isAlpha(_ c: UInt8) -> Bool { isUpper(c) || isLower(c) }
    @inlinable public static func isAlnum(_ c: UInt8) -> Bool { isDigit(c) || isAlpha(c) }
    /// `0-9a-z`: lowercase letters and digits.
    @inlinable public static func isLowerAlnum(_ c: UInt8) -> Bool { isDigit(c) || isLower(c) }
    /// `0-9a-f`.
    @inlinable public static func isLowerHex(_ c: UInt8) -> Bool { isDigit(c) || (c >= 0x61 && c <= 0x66) }
    /// `0-9a-fA-F`.
    @inlinable public static func isHexDigit(_ c: UInt8) -> Bool { isLowerHex(c) || (c >= 0x41 && c <= 0x46) }
    /// Space and horizontal tab (HTTP's OWS, AWS config files).
    @inlinable public static func isSpaceOrTab(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 }
    /// CR and LF.
    @inlinable public static func isNewline(_ c: UInt8) -> Bool { c == 0x0d || c == 0x0a }
    /// Space, tab, CR, LF.
    @inlinable public static func isWhitespace(_ c: UInt8) -> Bool { isSpaceOrTab(c) || isNewline(c) }
    /// C0 controls and DEL.
    @inlinable public static func isControl(_ c: UInt8) -> Bool { c < 0x20 || c == 0x7f }
    /// `A-Z` → `a-z`, every other byte unchanged.
    @inlinable public static func lowercased(_ c: UInt8) -> UInt8 { isUpper(c) ? c + 0x20 : c }

    /// The bounds of `bytes` without leading and trailing bytes for which `drop` holds.
    @inlinable
    public static func trimmedBounds<C: BidirectionalCollection>(_ bytes: C, dropping drop: (UInt8) -> Bool) -> Range<C.Index>
    where C.Element == UInt8 {
        var start = bytes.startIndex
        var end = bytes.endIndex
        while start < end, drop(bytes[start]) { start = bytes.index(after: start) }
        while end > start, drop(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
        return start..<end
    }
}

extension Substring {
    /// Without leading and trailing ASCII bytes for which `drop` holds, on the UTF-8 view.
    @inlinable
    public func trimmingASCII(_ drop: (UInt8) -> Bool) -> String {
        String(Substring(self.utf8[ASCII.trimmedBounds(self.utf8, dropping: drop)]))
    }

    /// Without leading and trailing spaces and tabs (no grapheme breaking: this runs on every request).
    @inlinable
    public func trimmingSpaces() -> String { trimmingASCII(ASCII.isSpaceOrTab) }

    /// Without leading and trailing Unicode whitespace (`Character.isWhitespace`, as Go's
    /// `strings.TrimSpace`).
    public func trimmingWhitespace() -> Substring {
        var s = self
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return s
    }
}

extension Unicode.Scalar {
    /// Python's `str.isspace()`: Unicode White_Space plus the separators U+001C–U+001F (what
    /// `str.strip()`, and so the AWS CLI's configparser, removes).
    public var isPythonSpace: Bool {
        switch value {
        case 0x09...0x0d, 0x1c...0x20, 0x85, 0xa0, 0x1680, 0x2000...0x200a, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000: true
        default: false
        }
    }
}

extension Substring {
    /// Without leading and trailing `Unicode.Scalar.isPythonSpace` scalars: Python's `str.strip()`.
    /// On scalars, not Characters: a space before a combining mark is still stripped, as in Python.
    public func trimmingPythonSpace() -> String {
        var scalars = unicodeScalars[...]
        while let f = scalars.first, f.isPythonSpace { scalars = scalars.dropFirst() }
        while let l = scalars.last, l.isPythonSpace { scalars = scalars.dropLast() }
        return String(String.UnicodeScalarView(scalars))
    }
}

extension String {
    /// See `Substring.trimmingASCII(_:)`.
    @inlinable
    public func trimmingASCII(_ drop: (UInt8) -> Bool) -> String { self[...].trimmingASCII(drop) }

    /// See `Substring.trimmingSpaces()`.
    @inlinable
    public func trimmingSpaces() -> String { self[...].trimmingSpaces() }

    /// See `Substring.trimmingWhitespace()`.
    public func trimmingWhitespace() -> Substring { self[...].trimmingWhitespace() }

    /// See `Substring.trimmingPythonSpace()`.
    public func trimmingPythonSpace() -> String { self[...].trimmingPythonSpace() }
}
