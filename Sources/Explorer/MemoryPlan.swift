// Per-layer memory lengths: presets, the `--mem` spec, compact descriptions and the memory-state size
// (Rae & Razavi 2020, sec. 4: long-range (lrm) and short-range (srm) memories per layer).
import Foundation
import TXL

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

    /// Long-range layers get `long`, the others `short`; `none` means no memory at all (the `--mem` grammar's).
    public func lengths(layers: Int, long: Int, short: Int) -> [Int] {
        switch self {
        case .full: return Array(repeating: long, count: layers)
        case .none: return Array(repeating: 0, count: layers)
        case .first(let k), .last(let k), .interleaved(let k):
            let kind = String(description.prefix { $0 != ":" })
            let longLayers = MemorySpec.placement(kind, k: min(k, layers), layers: layers) ?? []
            return (0..<layers).map { longLayers.contains($0) ? long : short }
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
    public static func compact(_ memory: [Int]) -> String { MemorySpec.compact(memory) }

    /// Parses a `--mem` spec: a preset (`interleaved:2`), one length for all layers (`512`), one per
    /// layer (`512,512,64,...`) or the compact form (`L0-3:64,L4-11:512`, spaces or commas). Values
    /// outside 0...maxMemory are rejected, never clamped.
    public static func parse(_ spec: String, layers: Int, long: Int, short: Int, maxMemory: Int) throws(MemoryError) -> [Int] {
        let result: [Int]
        do { result = try MemorySpec.parse(spec, layers: layers, lrm: long, srm: short) }
        catch let e as ModelError {
            if case .badMemory(let m) = e { throw .invalid(m) }
            throw .invalid(e.description)
        } catch { throw .invalid("\(error)") }
        for (l, v) in result.enumerated() where v > maxMemory {
            throw .invalid("memory length \(v) for layer \(l) is outside 0...\(maxMemory)")
        }
        return result
    }
}
