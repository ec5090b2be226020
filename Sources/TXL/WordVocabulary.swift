// A word-level vocabulary (vocab.json, written by scripts/convert-hf.py from Hugging Face's vocab.pkl) and the
// WikiText-103 tokenizer of Transformer-XL (reference: Vocab.tokenize / encode_file): whitespace split, <eos> per line.
import Foundation

public struct WordVocabulary: Sendable, Equatable {
    public let path: String
    /// Word of each id.
    public let words: [String]
    let index: [String: Int]
    /// Id that unknown words map to; nil if the vocabulary has no <unk>.
    public let unk: Int?
    /// Id added at the end of every line.
    public let eos: Int
    public let lowerCase: Bool

    public var count: Int { words.count }

    public init(path: String) throws {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ModelError.checkpoint(
                path: path, problem: "cannot be read (no such file?); scripts/convert-hf.py writes it from vocab.pkl")
        }
        try self.init(json: data, path: path)
    }

    public init(json data: Data, path: String = "vocab.json") throws {
        func fail(_ field: String, _ s: String) -> ModelError {
            .checkpoint(path: path, problem: "field \"\(field)\" \(s)")
        }
        let d = try JSONValue.object(data, path: path)
        guard let list = d["idx2sym"] else { throw fail("idx2sym", "is missing") }
        guard case .array(let items) = list, !items.isEmpty else {
            throw fail("idx2sym", "is not a non-empty list of strings")
        }
        let words = try items.enumerated().map { i, x -> String in
            guard case .string(let s) = x else { throw fail("idx2sym", "holds \(x) at \(i), not a string") }
            return s
        }
        var index = [String: Int](minimumCapacity: words.count)
        for (i, w) in words.enumerated() {
            if let j = index[w] { throw fail("idx2sym", "has \"\(w)\" twice (ids \(j) and \(i))") }
            index[w] = i
        }
        func id(_ field: String) throws -> Int? {
            guard let v = d[field], v != .null else { return nil }
            guard case .int(let n) = v, n >= 0 && n < words.count else {
                throw fail(field, "is \(v), not an id in 0-\(words.count - 1)")
            }
            return n
        }
        if let u = try id("unk_idx") { unk = u } else { unk = index["<unk>"] ?? index["<UNK>"] }
        var eosWord = "<eos>"
        if let v = d["eos"] {
            guard case .string(let s) = v else { throw fail("eos", "is \(v), not a word") }
            eosWord = s
        }
        guard let e = index[eosWord] else { throw fail("eos", "names \"\(eosWord)\", which is not in idx2sym") }
        eos = e
        switch d["lower_case"] {
        case nil, .null?: lowerCase = false
        case .bool(let b)?: lowerCase = b
        case let v?: throw fail("lower_case", "is not true or false: \(v)")
        }
        if let v = d["delimiter"], v != .null {
            // Transformer-XL's WikiText-103 vocabulary splits on whitespace (delimiter None); no other is implemented.
            guard case .string(let s) = v, !s.isEmpty, s.allSatisfy(\.isWhitespace) else {
                throw fail("delimiter", "is \(v); only whitespace splitting (null) is supported")
            }
        }
        self.path = path; self.words = words; self.index = index
    }

    /// Id of one word: the word itself, else <unk>. Throws if the word is unknown and there is no <unk>.
    public func id(_ word: String) throws -> Int {
        if let i = index[lowerCase ? word.lowercased() : word] { return i }
        guard let unk else {
            throw ModelError.badInput("word \"\(word)\" is not in the vocabulary (\(path)), which has no <unk>")
        }
        return unk
    }

    /// Whether `word` is in the vocabulary as it stands.
    public func contains(_ word: String) -> Bool { index[lowerCase ? word.lowercased() : word] != nil }

    /// Ids of a text: each line split on whitespace, then <eos>. Line breaks are \n, \r\n or \r; a final line
    /// without a break counts too. The text is expected pre-tokenized like WikiText-103 ("word @-@ word , ...").
    public func encode(_ text: String) throws -> [Int] {
        var out: [Int] = []
        for line in WordVocabulary.lines(text) {
            for w in String(line).split(whereSeparator: \.isWhitespace) { out.append(try id(String(w))) }
            out.append(eos)
        }
        return out
    }

    /// Word of an id.
    public func word(_ id: Int) -> String { words[id] }

    /// Lines as Python's universal newlines read them (no empty line after a final break).
    static func lines(_ text: String) -> [Substring.UnicodeScalarView] {
        let s = text.unicodeScalars
        var lines: [Substring.UnicodeScalarView] = []
        var start = s.startIndex, i = s.startIndex
        while i < s.endIndex {
            let c = s[i]
            if c == "\n" || c == "\r" {
                lines.append(s[start..<i])
                var next = s.index(after: i)
                if c == "\r", next < s.endIndex, s[next] == "\n" { next = s.index(after: next) }
                i = next; start = next
            } else {
                i = s.index(after: i)
            }
        }
        if start < s.endIndex { lines.append(s[start..<s.endIndex]) }
        return lines
    }
}
