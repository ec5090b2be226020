// The explorer's text for a word-level model: positions are tokens (word ids), not bytes. The text pane lays them out
// as words with a space between and a line break after each <eos>; search matches whole words. A byte model has no
// TokenText (its tokens are the text's bytes) and the explorer is unchanged for it.
import Foundation

public struct TokenText: Sendable, Equatable {
    /// The text as token ids, <eos> at the end of every line (WordVocabulary.encode).
    public let ids: [Int]
    /// Word of each id.
    public let vocabulary: [String]
    public let eos: Int
    /// The text's original bytes, for a description of what it is ("N tokens from M bytes").
    public let sourceBytes: Int

    public init(ids: [Int], vocabulary: [String], eos: Int, sourceBytes: Int) {
        precondition(ids.allSatisfy { $0 >= 0 && $0 < vocabulary.count }, "TokenText: id outside the vocabulary")
        self.ids = ids; self.vocabulary = vocabulary; self.eos = eos; self.sourceBytes = sourceBytes
    }

    public var count: Int { ids.count }

    /// Word at position i.
    public func word(at i: Int) -> String { vocabulary[ids[i]] }

    /// What stands for position i in the explorer's byte array (AppState.text): counts and offsets are tokens, and
    /// nothing reads these bytes as text for a word model. The word's first ASCII byte, else "?".
    public var placeholderBytes: [UInt8] {
        ids.map { id in
            let b = vocabulary[id].utf8.first ?? UInt8(ascii: "?")
            return b >= 0x21 && b < 0x7F ? b : UInt8(ascii: "?")
        }
    }

    /// A word as a label of at most `width` characters (the heatmap's readout, the text pane): the word, cut with
    /// "~" when longer.
    public func label(at i: Int, width: Int = 24) -> String {
        let w = word(at: i)
        guard w.unicodeScalars.count > width else { return w }
        return String(String.UnicodeScalarView(w.unicodeScalars.prefix(Swift.max(0, width - 1)))) + "~"
    }

    // MARK: Layout

    /// One word of a text-pane row: token index, column, and the text drawn (cut to the row when longer).
    public struct Placed: Equatable, Sendable {
        public let token: Int, x: Int
        public let text: String
    }

    /// How far back or forward a paragraph is looked for: a text without <eos> is laid out from a bounded start.
    static let paragraphLimit = 4096

    /// First token of the line holding token i: just after the <eos> before it.
    func lineStart(_ i: Int) -> Int {
        var j = Swift.min(i, count) - 1
        let stop = Swift.max(0, i - TokenText.paragraphLimit)
        while j >= stop && ids[j] != eos { j -= 1 }
        return j + 1
    }

    /// One past the <eos> that ends the line holding token i (or the text's end).
    func lineEnd(_ i: Int) -> Int {
        var j = i
        let stop = Swift.min(count, i + TokenText.paragraphLimit)
        while j < stop && ids[j] != eos { j += 1 }
        return Swift.min(count, j + 1)
    }

    /// Rows of tokens from..<to (`from` a line start), `width` columns: words with a space between, wrapped at the
    /// width, a new row after each <eos> (drawn as `eosMark`).
    func rows(from: Int, to: Int, width: Int, eosMark: String) -> [[Placed]] {
        var out: [[Placed]] = [], row: [Placed] = [], x = 0
        let w = Swift.max(1, width)
        for i in from..<to {
            var t = ids[i] == eos ? eosMark : vocabulary[ids[i]]
            if t.isEmpty { t = "?" }
            var n = t.unicodeScalars.count  // cells: the grid holds one scalar a cell
            if x > 0 && x + n > w { out.append(row); row = []; x = 0 }
            if n > w { t = String(String.UnicodeScalarView(t.unicodeScalars.prefix(w))); n = w }
            row.append(Placed(token: i, x: x, text: t))
            x += n + 1
            if ids[i] == eos { out.append(row); row = []; x = 0 }
        }
        if !row.isEmpty { out.append(row) }
        return out
    }

    /// The rows a text pane of `width` x `height` shows: the cursor's row a third of the way down, as the byte
    /// view places it, and no empty rows at the end while there is text above.
    public func view(cursor: Int, width: Int, height: Int, eosMark: String) -> [[Placed]] {
        guard count > 0, height > 0 else { return [] }
        let c = Swift.max(0, Swift.min(count - 1, cursor))
        var start = lineStart(c), end = lineEnd(c)
        var rows = self.rows(from: start, to: end, width: width, eosMark: eosMark)
        var cursorRow = rows.firstIndex { $0.contains { $0.token == c } } ?? 0
        while cursorRow < height && start > 0 {
            let s0 = lineStart(start - 1)
            let before = self.rows(from: s0, to: start, width: width, eosMark: eosMark)
            rows = before + rows; cursorRow += before.count; start = s0
        }
        while rows.count - cursorRow < height && end < count {
            let e1 = lineEnd(end)
            rows += self.rows(from: end, to: e1, width: width, eosMark: eosMark)
            end = e1
        }
        let top = Swift.max(0, Swift.min(cursorRow - height / 3, rows.count - height))
        return Array(rows[top..<Swift.min(rows.count, top + height)])
    }

    /// The token drawn at (`row`, `column`) of the view `rows`, or the last on that row left of the column.
    public static func token(in rows: [[Placed]], row: Int, column: Int) -> Int? {
        guard row >= 0 && row < rows.count else { return nil }
        return rows[row].last { $0.x <= column }?.token ?? rows[row].first?.token
    }

    /// The cursor one row up or down in a pane `width` wide: the word at the same column on that row (else the
    /// row's last word left of it); the cursor itself at the text's first or last row.
    public func verticalMove(from cursor: Int, down: Bool, width: Int) -> Int {
        guard count > 0 else { return cursor }
        let c = Swift.max(0, Swift.min(count - 1, cursor)), mark = "$"
        let start = lineStart(c), end = lineEnd(c)
        let rows = self.rows(from: start, to: end, width: width, eosMark: mark)
        guard let r = rows.firstIndex(where: { $0.contains { $0.token == c } }),
            let x = rows[r].first(where: { $0.token == c })?.x
        else { return c }
        let target: [Placed]?
        if down {
            target =
                r + 1 < rows.count
                ? rows[r + 1]
                : (end < count ? self.rows(from: end, to: lineEnd(end), width: width, eosMark: mark).first : nil)
        } else {
            target =
                r > 0
                ? rows[r - 1]
                : (start > 0 ? self.rows(from: lineStart(start - 1), to: start, width: width, eosMark: mark).last : nil)
        }
        guard let row = target else { return c }
        return TokenText.token(in: [row], row: 0, column: x) ?? c
    }

    /// The cursor a page of `rows` rows up or down in a pane `width` wide: row by row as `verticalMove`, stopping at
    /// the text's first or last row.
    public func pageMove(from cursor: Int, down: Bool, width: Int, rows: Int) -> Int {
        var c = cursor
        for _ in 0..<Swift.max(1, rows) {
            let next = verticalMove(from: c, down: down, width: width)
            if next == c { break }
            c = next
        }
        return c
    }

    // MARK: Search

    /// The words of a query (whitespace split); a word matches a token when equal.
    static func words(_ query: String) -> [String] { query.split(whereSeparator: \.isWhitespace).map(String.init) }

    /// Whether the query's words occur at token i.
    func occurs(_ words: [String], at i: Int) -> Bool {
        guard !words.isEmpty, i >= 0, i + words.count <= count else { return false }
        for (k, w) in words.enumerated() where vocabulary[ids[i + k]] != w { return false }
        return true
    }

    /// The next (or previous) token where the query's words occur, after (before) `from`, wrapping around.
    public func find(_ query: String, from: Int, forward: Bool) -> Int? {
        let q = TokenText.words(query)
        guard !q.isEmpty, count > 0 else { return nil }
        for step in 1...count {
            let i = ((from + (forward ? step : -step)) % count + count) % count
            if occurs(q, at: i) { return i }
        }
        return nil
    }

    /// Which tokens of `range` belong to a hit of `query`.
    public func hits(_ query: String, in range: Range<Int>) -> [Bool] {
        var marks = [Bool](repeating: false, count: range.count)
        let q = TokenText.words(query), m = q.count
        guard m > 0 else { return marks }
        for i in Swift.max(0, range.lowerBound - m + 1)..<range.upperBound where occurs(q, at: i) {
            for k in Swift.max(i, range.lowerBound)..<Swift.min(i + m, range.upperBound) {
                marks[k - range.lowerBound] = true
            }
        }
        return marks
    }
}

/// A word's loss as one of 16 shades: 0 to 16 bits (a word's loss runs about twice a byte's scale).
public func wordLossLevel(_ bits: Float) -> UInt8 {
    guard bits.isFinite else { return 0 }
    return UInt8(Swift.max(0, Swift.min(15, Int((bits / 16 * 15).rounded()))))
}

extension ModelInfo {
    /// What a position is: "byte" for a byte model, "token" for a word model.
    public var unit: String { tokens == nil ? "byte" : "token" }
    /// The loss unit where bpc is shown: "bpc", or "bits/token" for a word model.
    public var lossUnit: String { tokens == nil ? "bpc" : "bits/token" }
    /// Positions in the plural: "bytes", or "tokens" for a word model.
    public var units: String { tokens == nil ? "bytes" : "tokens" }
    /// The loss column's title in tables: "bpc", or "bits/tok" for a word model.
    public var lossColumn: String { tokens == nil ? "bpc" : "bits/tok" }
    /// A position count for a narrow column: "64.0 KiB" of bytes, or "1234" tokens (the column names the unit).
    public func count(_ n: Int) -> String { tokens == nil ? formatBytes(n) : "\(n)" }
    /// A position count with its unit: "64 KiB" of bytes, or "1,234 tokens".
    public func positions(_ n: Int) -> String { tokens == nil ? formatBytes(n) : "\(n) tokens" }
    /// The text's size for the title: "64 KiB", or "1234 tokens, pre-tokenized" (WikiText-103 style text expected).
    public func textSize(_ n: Int) -> String {
        tokens == nil ? formatBytes(n) : "\(n) tokens, pre-tokenized"
    }
}

extension Renderer {
    /// A text position as the readouts show it: 'x' (the byte described) for a byte model, "word" for a word model.
    func label(ofKey i: Int, _ byte: UInt8) -> String {
        guard let t = s.model.tokens else { return "'\(Glyphs.describe(byte))'" }
        return i >= 0 && i < t.count ? "\"\(t.label(at: i, width: 16))\"" : "?"
    }
}
