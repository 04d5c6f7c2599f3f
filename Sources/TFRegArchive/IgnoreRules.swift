import TFRegSystem

/// One compiled ignore pattern: a line of `.terraformignore` or `.gitignore`, or a `--exclude` /
/// `--include` glob. Matching follows Terraform's own implementation (hashicorp/go-slug,
/// `internal/ignorefiles`): the pattern is matched against the whole slash-separated path relative
/// to the module root, directories are tested a second time with a trailing `/`, `*` and `?` never
/// cross a `/`, `**/` is "any number of directories (or none)", a trailing `**` is "anything", and a
/// trailing `/` makes the pattern `dir/**` (the directory and everything below it).
public struct IgnorePattern: Sendable, Equatable, CustomStringConvertible {
    enum Token: Sendable, Equatable {
        case literal(Unicode.Scalar)
        /// `*`: any run of characters except `/`.
        case star
        /// `?`: one character except `/`.
        case question
        /// `**/` (or `**` inside a pattern): `(.*/)?`, zero or more whole directories.
        case directories
        /// `**` at the end: anything, `/` included.
        case anything
        /// `[a-z]`, `[!a-z]` or `[^a-z]`.
        case set(ranges: [ClosedRange<Unicode.Scalar>], negated: Bool)
    }

    /// How a pattern without a leading `/` is anchored.
    public enum Syntax: Sendable {
        /// `.terraformignore` and the command line: only a leading `/` anchors at the root; anything
        /// else matches at any depth (go-slug prefixes `**/`), even `foo/*.md`.
        case terraform
        /// `.gitignore`: a `/` at the start or in the middle anchors the pattern at the directory of
        /// the `.gitignore` file; a pattern with no `/` but a trailing one matches at any depth.
        case git
    }

    /// The text as written (without the `!`).
    public let source: String
    /// `!pattern`: a match re-includes.
    public let negated: Bool
    /// For `.gitignore` files below the root: the directory the file is in ("" for the root).
    public let base: String
    let tokens: [Token]

    public var description: String { (negated ? "!" : "") + source }

    /// Compiles one line; nil for a blank line or a comment (`#…`). Leading and trailing white space
    /// is dropped (go-slug uses `strings.TrimSpace`).
    public init?(_ line: some StringProtocol, syntax: Syntax = .terraform, base: String = "") {
        var text = Substring(String(line)).trimmingWhitespace()
        guard let first = text.first, first != "#" else { return nil }
        var negated = false
        if first == "!" {
            negated = true
            text = text.dropFirst()
        } else if text.hasPrefix("\\!") || text.hasPrefix("\\#") {
            text = text.dropFirst()
        }
        guard !text.isEmpty, text != "/" else { return nil }
        self.source = String(text)
        self.negated = negated
        self.base = base
        var pattern = String(text)
        if pattern.hasSuffix("/") { pattern += "**" }
        let anchored: Bool
        switch syntax {
        case .terraform: anchored = pattern.hasPrefix("/")
        case .git: anchored = pattern.dropLast(pattern.hasSuffix("/**") ? 3 : 0).contains("/")
        }
        if pattern.hasPrefix("/") { pattern.removeFirst() }
        if !anchored { pattern = "**/" + pattern }
        tokens = Self.tokenize(pattern)
    }

    /// Whether `path` (relative to the module root, `/`-separated; a directory ends in `/`) matches.
    public func matches(_ path: String) -> Bool {
        var relative = Substring(path)
        if !base.isEmpty {
            guard path.hasPrefix(base + "/") else { return false }
            relative = path.dropFirst(base.count + 1)
        }
        return Self.match(tokens, Array(relative.unicodeScalars))
    }

    static func tokenize(_ pattern: String) -> [Token] {
        let s = Array(pattern.unicodeScalars)
        var out: [Token] = []
        var i = 0
        while i < s.count {
            let c = s[i]
            switch c {
            case "*":
                if i + 1 < s.count, s[i + 1] == "*" {
                    i += 2
                    if i < s.count, s[i] == "/" { i += 1 }
                    out.append(i == s.count ? .anything : .directories)
                    continue
                }
                out.append(.star)
            case "?":
                out.append(.question)
            case "\\":
                if i + 1 < s.count {
                    i += 1
                    out.append(.literal(s[i]))
                } else {
                    out.append(.literal("\\"))
                }
            case "[":
                if let (set, end) = parseSet(s, from: i) {
                    out.append(set)
                    i = end + 1
                    continue
                }
                out.append(.literal("["))
            default:
                out.append(.literal(c))
            }
            i += 1
        }
        return out
    }

    /// `[…]` starting at `start`: the token and the index of the closing `]`, or nil when unclosed.
    private static func parseSet(_ s: [Unicode.Scalar], from start: Int) -> (Token, Int)? {
        var i = start + 1
        var negated = false
        if i < s.count, s[i] == "!" || s[i] == "^" {
            negated = true
            i += 1
        }
        var ranges: [ClosedRange<Unicode.Scalar>] = []
        var first = true
        while i < s.count {
            var c = s[i]
            if c == "]" && !first { return (.set(ranges: ranges, negated: negated), i) }
            first = false
            if c == "\\", i + 1 < s.count {
                i += 1
                c = s[i]
            }
            if i + 2 < s.count, s[i + 1] == "-", s[i + 2] != "]" {
                let hi = s[i + 2]
                if c <= hi { ranges.append(c...hi) }
                i += 3
            } else {
                ranges.append(c...c)
                i += 1
            }
        }
        return nil
    }

    /// Whole-string match of tokens against scalars, memoised so `*` and `**` never go exponential.
    static func match(_ tokens: [Token], _ path: [Unicode.Scalar]) -> Bool {
        let width = path.count + 1
        var memo = [UInt8](repeating: 0, count: (tokens.count + 1) * width)  // 0 unknown, 1 no, 2 yes
        func go(_ t: Int, _ p: Int) -> Bool {
            let slot = t * width + p
            if memo[slot] != 0 { return memo[slot] == 2 }
            let result: Bool
            if t == tokens.count {
                result = p == path.count
            } else {
                switch tokens[t] {
                case .literal(let c):
                    result = p < path.count && path[p] == c && go(t + 1, p + 1)
                case .question:
                    result = p < path.count && path[p] != "/" && go(t + 1, p + 1)
                case .set(let ranges, let negated):
                    result = p < path.count && path[p] != "/" && ranges.contains { $0.contains(path[p]) } != negated && go(t + 1, p + 1)
                case .star:
                    var q = p
                    var found = go(t + 1, q)
                    while !found, q < path.count, path[q] != "/" {
                        q += 1
                        found = go(t + 1, q)
                    }
                    result = found
                case .anything:
                    result = true
                case .directories:
                    // (.*/)?: nothing, or up to and including any later '/'.
                    var found = go(t + 1, p)
                    var q = p
                    while !found, q < path.count {
                        if path[q] == "/" { found = go(t + 1, q + 1) }
                        q += 1
                    }
                    result = found
                }
            }
            memo[slot] = result ? 2 : 1
            return result
        }
        return go(0, 0)
    }
}

/// The rules of one ignore file, in order: the last pattern that matches decides (a `!` pattern
/// re-includes), as in both Terraform and git.
public struct IgnoreRules: Sendable {
    public enum Source: Sendable, Equatable {
        /// The module root's `.terraformignore` (Terraform reads no other).
        case terraformignore
        /// `.gitignore` files, the root's and those in subdirectories.
        case gitignore
    }

    public let source: Source
    public private(set) var patterns: [IgnorePattern]

    public init(source: Source, patterns: [IgnorePattern] = []) {
        self.source = source
        self.patterns = patterns
    }

    /// Parses a whole file's text (`base` is the file's directory, for `.gitignore` below the root).
    public static func parse(_ text: String, source: Source, base: String = "") -> [IgnorePattern] {
        let syntax: IgnorePattern.Syntax = source == .terraformignore ? .terraform : .git
        return text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .compactMap { IgnorePattern($0, syntax: syntax, base: base) }
    }

    public mutating func append(_ more: [IgnorePattern]) { patterns += more }

    /// What the rules say about `path`: `matched` when some pattern matches; `excluded` when the last
    /// one that matches is not a `!` pattern; `dominating` when, in addition, no `!` pattern follows
    /// it, so nothing below an excluded directory could be re-included (go-slug's `ExcludesResult`).
    /// Git never re-includes below an excluded directory, so for `.gitignore` an exclusion always
    /// dominates.
    public func excludes(_ path: String) -> (excluded: Bool, dominating: Bool, matched: Bool) {
        var decided: Int?
        for (i, p) in patterns.enumerated().reversed() where p.matches(path) {
            decided = i
            break
        }
        guard let decided else { return (false, false, false) }
        guard !patterns[decided].negated else { return (false, false, true) }
        if source == .gitignore { return (true, true, true) }
        let negationAfter = patterns[(decided + 1)...].contains { $0.negated }
        return (true, !negationAfter, true)
    }

    /// Whether any `!` pattern could bring back a path below an excluded directory.
    public var hasNegations: Bool { source == .terraformignore && patterns.contains { $0.negated } }
}
