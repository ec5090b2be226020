// Per-layer memory lengths: presets, the `--mem` spec, compact descriptions and the memory-state size
// (Rae & Razavi 2020, sec. 4: long-range (lrm) and short-range (srm) memories per layer).
import Foundation

public enum Preset: Sendable, Equatable, CustomStringConvertible {
    case full, none
    case first(Int), last(Int), interleaved(Int)

    /// Presets the `P` key cycles through.
    public static let cycle: [Preset] = [.full, .interleaved(2), .interleaved(4), .last(1), .first(1), .none]

    public var description: String {
        switch self {
        case .full: return "full"
        case .none: return "none"
        case .first(let k): return "first:\(k)"
        case .last(let k): return "last:\(k)"
        case .interleaved(let k): return "interleaved:\(k)"
        }
    }

    public static func parse(_ s: String) throws(MemoryError) -> Preset {
        let parts = s.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch (parts.first ?? "", parts.count) {
        case ("full", 1): return .full
        case ("none", 1): return .none
        case (let name, 2) where ["first", "last", "interleaved"].contains(name):
            guard let k = Int(parts[1]), k >= 1 else { throw .invalid("preset \(s): K must be a whole number >= 1") }
            switch name {
            case "first": return .first(k)
            case "last": return .last(k)
            default: return .interleaved(k)
            }
        default:
            throw .invalid("unknown preset \(s) (full, none, first:K, last:K, interleaved:K)")
        }
    }

    /// Long-range layers get `long`, the others `short`. `none` means no long-range memory at all:
    /// every layer short-range. interleaved:K makes layers K-1, 2K-1, ... long (the top layer when K divides L).
    public func lengths(layers: Int, long: Int, short: Int) -> [Int] {
        (0..<layers).map { i in
            let isLong: Bool
            switch self {
            case .full: isLong = true
            case .none: isLong = false
            case .first(let k): isLong = i < k
            case .last(let k): isLong = i >= layers - k
            case .interleaved(let k): isLong = i % k == k - 1
            }
            return isLong ? long : short
        }
    }
}

public enum MemoryError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let m) = self { return m }; return "" }
}

public enum MemoryPlan {
    /// Floats in the memory state: sum over layers of memory length x dModel (the paper's count).
    public static func stateFloats(_ memory: [Int], dModel: Int) -> Int { memory.reduce(0, +) * dModel }

    /// Ratio of a configuration's memory state to the default (full) one; NaN when the default is empty.
    public static func ratio(_ memory: [Int], to full: [Int]) -> Double {
        let f = full.reduce(0, +)
        return f == 0 ? .nan : Double(memory.reduce(0, +)) / Double(f)
    }

    /// `L0-3:64 L4-11:512`: runs of equal lengths, layers numbered from 0.
    public static func compact(_ memory: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < memory.count {
            var j = i
            while j + 1 < memory.count && memory[j + 1] == memory[i] { j += 1 }
            parts.append(i == j ? "L\(i):\(memory[i])" : "L\(i)-\(j):\(memory[i])")
            i = j + 1
        }
        return parts.joined(separator: " ")
    }

    /// Parses a `--mem` spec: a preset (`interleaved:2`), one length for all layers (`512`), one per
    /// layer (`512,512,64,...`) or the compact form (`L0-3:64,L4-11:512`, spaces or commas). Values
    /// outside 0...maxMemory are rejected, never clamped.
    public static func parse(_ spec: String, layers: Int, long: Int, short: Int, maxMemory: Int) throws(MemoryError) -> [Int] {
        let s = spec.trimmingCharacters(in: .whitespaces)
        if s.isEmpty { throw .invalid("empty memory spec") }
        var result: [Int]
        let chars = Array(s)
        let compactForm = (chars[0] == "L" || chars[0] == "l") && chars.count > 1 && chars[1].isNumber
        if chars[0].isLetter && !compactForm {
            result = try Preset.parse(s).lengths(layers: layers, long: long, short: short)
        } else if compactForm {
            var out = [Int?](repeating: nil, count: layers)
            for item in s.split(whereSeparator: { $0 == "," || $0 == " " }) {
                let kv = item.dropFirst().split(separator: ":")
                guard kv.count == 2, let value = Int(kv[1]) else { throw .invalid("bad memory item \(item) (expected L3:128 or L0-5:64)") }
                let range = kv[0].split(separator: "-")
                guard let lo = Int(range[0]), let hi = Int(range.count == 2 ? range[1] : range[0]), range.count <= 2, lo <= hi else {
                    throw .invalid("bad layer range in \(item)")
                }
                guard hi < layers else { throw .invalid("layer \(hi) in \(item) does not exist (layers 0-\(layers - 1))") }
                for l in lo...hi { out[l] = value }
            }
            if let missing = out.firstIndex(where: { $0 == nil }) { throw .invalid("memory spec \(s) leaves layer \(missing) unset") }
            result = out.map { $0! }
        } else {
            let items = s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let values = items.map { Int($0) }
            if let bad = values.firstIndex(where: { $0 == nil }) { throw .invalid("bad memory length \(items[bad])") }
            if values.count == 1 { result = Array(repeating: values[0]!, count: layers) }
            else if values.count == layers { result = values.map { $0! } }
            else { throw .invalid("memory spec has \(values.count) lengths for \(layers) layers") }
        }
        for (l, v) in result.enumerated() where v < 0 || v > maxMemory {
            throw .invalid("memory length \(v) for layer \(l) is outside 0...\(maxMemory)")
        }
        return result
    }
}
