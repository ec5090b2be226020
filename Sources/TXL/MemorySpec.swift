// The `--mem` grammar shared by every command and the explorer: N | N1,N2,... | L0-3:64,L4-5:512 | full | none |
// first:K | last:K | interleaved:K.
// Placements put K long-range memories (length lrm) among short-range ones (length srm), as in Rae & Razavi (2020) §4.
import Foundation

public enum MemorySpec {
    /// The long-range length `full` and placements use when --lrm is not given: the model's default evaluation
    /// memory (its longest layer). The same in every command and the explorer.
    public static func defaultLong(_ c: Config) -> Int { c.defaultMemory.max() ?? 0 }

    /// The default evaluation memory `memscope train` records in a new model: 4 x the segment in every layer.
    public static func defaultEvalLength(segment: Int) -> Int { 4 * segment }

    /// Memory length per layer for `model`: --lrm defaults to `defaultLong`, --srm to the segment length.
    public static func parse(
        _ text: String, config c: Config, segment: Int, lrm: Int? = nil, srm: Int? = nil
    ) throws -> [Int] {
        try parse(text, layers: c.nLayer, lrm: lrm ?? defaultLong(c), srm: srm ?? segment)
    }

    /// Memory length per layer, bottom layer first.
    public static func parse(_ text: String, layers: Int, lrm: Int, srm: Int) throws -> [Int] {
        let s = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard !s.isEmpty else {
            throw ModelError.badMemory("empty --mem; use N, N1,N2,..., full, none, first:K, last:K or interleaved:K")
        }
        var lens: [Int]
        if s == "full" {
            lens = Array(repeating: lrm, count: layers)
        } else if s == "none" {
            lens = Array(repeating: 0, count: layers)
        } else if s.hasPrefix("l"), s.dropFirst().first?.isNumber == true {
            lens = try compactForm(s, original: text, layers: layers)
        } else if let colon = s.firstIndex(of: ":") {
            let kind = String(s[..<colon]), arg = String(s[s.index(after: colon)...])
            guard let k = Int(arg) else { throw ModelError.badMemory("\"\(text)\": K in \(kind):K must be a number") }
            guard k >= 0 && k <= layers else {
                throw ModelError.badMemory("\"\(text)\": K is \(k) but the model has \(layers) layers")
            }
            guard let long = placement(kind, k: k, layers: layers) else {
                throw ModelError.badMemory(
                    "unknown placement \"\(kind)\" in \"\(text)\"; use first:K, last:K or interleaved:K")
            }
            lens = (0..<layers).map { long.contains($0) ? lrm : srm }
        } else {
            let parts = s.split(separator: ",", omittingEmptySubsequences: false).map {
                $0.trimmingCharacters(in: .whitespaces)
            }
            var values: [Int] = []
            for p in parts {
                guard let v = Int(p) else {
                    throw ModelError.badMemory(
                        "\"\(text)\": \"\(p)\" is not a length; use N, N1,N2,..., full, none, "
                            + "first:K, last:K or interleaved:K"
                    )
                }
                values.append(v)
            }
            if values.count == 1 {
                lens = Array(repeating: values[0], count: layers)
            } else {
                guard values.count == layers else {
                    throw ModelError.badMemory(
                        "\"\(text)\" gives \(values.count) lengths but the model has \(layers) layers")
                }
                lens = values
            }
        }
        try check(lens, layers: layers, what: "--mem \(text)")
        return lens
    }

    /// `L0-3:64,L4-5:512` (commas or spaces): every layer named exactly once or more, the last word wins.
    static func compactForm(_ s: String, original: String, layers: Int) throws -> [Int] {
        var out = [Int?](repeating: nil, count: layers)
        for item in s.split(whereSeparator: { $0 == "," || $0 == " " }) {
            let kv = item.dropFirst().split(separator: ":")
            let range = kv.first?.split(separator: "-") ?? []
            guard kv.count == 2, let value = Int(kv[1]), (1...2).contains(range.count),
                let lo = Int(range[0]), let hi = Int(range[range.count - 1]), lo <= hi
            else {
                throw ModelError.badMemory("\"\(item)\" in \"\(original)\" is not of the form L3:128 or L0-5:64")
            }
            guard hi < layers else {
                throw ModelError.badMemory("\"\(item)\": layer \(hi) does not exist (layers 0-\(layers - 1))")
            }
            for l in lo...hi { out[l] = value }
        }
        if let missing = out.firstIndex(where: { $0 == nil }) {
            throw ModelError.badMemory("\"\(original)\" leaves layer \(missing) without a length")
        }
        return out.map { $0! }
    }

    /// Layers that get long-range memory for a placement, or nil for an unknown placement.
    public static func placement(_ kind: String, k: Int, layers: Int) -> Set<Int>? {
        switch kind {
        case "first": return Set(0..<k)
        case "last": return Set((layers - k)..<layers)
        case "interleaved":
            // Evenly spaced, ending at the top layer: layers 3 and 7 of 8 for K = 2.
            return Set((0..<k).map { ($0 + 1) * layers / k - 1 })
        default: return nil
        }
    }

    public static func check(_ lens: [Int], layers: Int, what: String) throws {
        guard lens.count == layers else {
            throw ModelError.badMemory("\(what) has \(lens.count) lengths for \(layers) layers")
        }
        for (i, m) in lens.enumerated() where m < 0 || m > Config.maxLength {
            throw ModelError.badMemory("\(what): layer \(i) length \(m) is out of range 0...\(Config.maxLength)")
        }
    }

    /// Compact form for status lines: "L0-3:64 L4-7:512".
    public static func compact(_ lens: [Int]) -> String {
        var out: [String] = []
        var i = 0
        while i < lens.count {
            var j = i
            while j + 1 < lens.count && lens[j + 1] == lens[i] { j += 1 }
            out.append(i == j ? "L\(i):\(lens[i])" : "L\(i)-\(j):\(lens[i])")
            i = j + 1
        }
        return out.joined(separator: " ")
    }
}
