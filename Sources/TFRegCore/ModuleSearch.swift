/// Search over module summaries and README words: how text becomes terms and how a module ranks.
/// One tokenizer for what is stored and what is asked, the same as SQLite FTS5's `unicode61`
/// (letters and digits; everything else separates), so that no user text ever reaches a query as
/// syntax: a term is only ever letters and digits.
public enum ModuleSearch {
    /// At most this many terms of a query are used.
    public static let maximumTerms = 8
    /// A word longer than this is cut (no README word is a useful search term beyond it).
    public static let maximumWordLength = 64
    /// The README words kept per module (distinct, in first-seen order).
    public static let maximumWordBytes = 32 * 1024

    /// The lowercased letter-and-digit runs of `text`, each at most `maximumWordLength` characters.
    public static func tokens(_ text: some StringProtocol, limit: Int = .max) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in text.lowercased() {
            if ch.isLetter || ch.isNumber {
                if current.count < maximumWordLength { current.append(ch) }
            } else if !current.isEmpty {
                out.append(current)
                current = ""
                if out.count >= limit { return out }
            }
        }
        if !current.isEmpty && out.count < limit { out.append(current) }
        return out
    }

    /// A query's terms: distinct tokens, at most `maximumTerms`.
    public static func terms(_ query: String) -> [String] {
        var seen: Set<String> = []
        return tokens(query.prefix(1024)).filter { seen.insert($0).inserted }.prefix(maximumTerms).map { $0 }
    }

    /// What is kept of a README for search: its distinct words, space-separated, bounded.
    public static func words(ofReadme readme: String) -> String {
        var seen: Set<String> = []
        var out = ""
        for w in tokens(readme.prefix(4 << 20)) where seen.insert(w).inserted {
            guard out.utf8.count + w.utf8.count + 1 <= maximumWordBytes else { break }
            if !out.isEmpty { out += " " }
            out += w
        }
        return out
    }

    /// How well a module matches: 3 every term is in its address (`ns/name/system`), 2 in its
    /// description, 1 in its README (`readmeMatch`), 0 no match. Without terms (a query of only
    /// punctuation) the raw text is looked for in the address and description.
    public static func rank(_ summary: ModuleSummary, terms: [String], rawText: String, readmeMatch: Bool) -> Int {
        let address = summary.module.description.lowercased()
        let description = summary.description.lowercased()
        if terms.isEmpty {
            let needle = rawText.lowercased()
            return address.contains(needle) ? 3 : description.contains(needle) ? 2 : 0
        }
        if terms.allSatisfy({ address.contains($0) }) { return 3 }
        let descriptionWords = Set(tokens(description))
        if terms.allSatisfy({ descriptionWords.contains($0) || description.contains($0) }) { return 2 }
        return readmeMatch ? 1 : 0
    }
}

extension ModuleSearch {
    /// A module that matches a search, with its rank (`rank`, 1...3).
    public struct Hit: Sendable, Hashable {
        public var rank: Int
        public var summary: ModuleSummary

        public init(rank: Int, summary: ModuleSummary) {
            self.rank = rank
            self.summary = summary
        }

        /// The search order: higher rank first, then module order.
        public static func precedes(_ a: Hit, _ b: Hit) -> Bool {
            a.rank != b.rank ? a.rank > b.rank : a.summary.module < b.summary.module
        }
    }

    /// The first `capacity` hits in search order of all those inserted: memory bounded by the page
    /// asked for (offset + limit + 1), never by the number of matches. A store's ranked search and the
    /// merge across namespaces both keep one.
    public struct TopK: Sendable {
        public let capacity: Int
        /// The kept hits, in search order.
        public private(set) var hits: [Hit] = []

        public init(capacity: Int) { self.capacity = max(capacity, 0) }

        public mutating func insert(_ hit: Hit) {
            guard capacity > 0 else { return }
            if hits.count == capacity, let last = hits.last, !Hit.precedes(hit, last) { return }
            var low = 0
            var high = hits.count
            while low < high {
                let mid = (low + high) / 2
                if Hit.precedes(hits[mid], hit) { low = mid + 1 } else { high = mid }
            }
            hits.insert(hit, at: low)
            if hits.count > capacity { hits.removeLast() }
        }
    }

    /// What a page of `limit` after `offset` needs from each source: offset + limit + 1 items (the one
    /// more says whether a next page exists), saturating instead of overflowing on a huge offset.
    public static func wanted(offset: Int, limit: Int) -> Int {
        let (sum, overflow) = max(offset, 0).addingReportingOverflow(max(limit, 0))
        return overflow || sum == .max ? .max : sum + 1
    }
}
