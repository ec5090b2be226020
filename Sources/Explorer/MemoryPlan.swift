// Per-layer memory lengths in the explorer: presets and the `--mem` spec, both read by TXL's MemorySpec
// (Rae & Razavi 2020, sec. 4: long-range (lrm) and short-range (srm) memories per layer), plus the
// engine's own limit on a length.
import Foundation
import TXL

/// A named arrangement of long- and short-range memories: the placement words of the `--mem` grammar.
public enum Preset: Sendable, Equatable, CustomStringConvertible {
    case full, none
    case first(Int), last(Int), interleaved(Int)

    /// Presets the `P` key cycles through (those that fit the model's layers).
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

    /// A preset word for a model of `layers` layers; what `--mem` accepts, `:preset` accepts.
    public static func parse(_ s: String, layers: Int) throws(MemoryError) -> Preset {
        let parts = s.lowercased().split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        let preset: Preset
        switch (parts.first ?? "", parts.count) {
        case ("full", 1): preset = .full
        case ("none", 1): preset = .none
        case ("first", 2), ("last", 2), ("interleaved", 2):
            guard let k = Int(parts[1]) else { throw .invalid("preset \(s): K must be a whole number") }
            preset = parts[0] == "first" ? .first(k) : parts[0] == "last" ? .last(k) : .interleaved(k)
        default:
            throw .invalid("unknown preset \(s) (full, none, first:K, last:K, interleaved:K)")
        }
        _ = try preset.lengths(layers: layers, long: 1, short: 0)  // K within 0...layers, as --mem checks it
        return preset
    }

    /// Long-range layers get `long`, the others `short`; `none` means no memory at all (the `--mem` grammar's).
    public func lengths(layers: Int, long: Int, short: Int) throws(MemoryError) -> [Int] {
        do { return try MemorySpec.parse(description, layers: layers, lrm: long, srm: short) } catch {
            throw MemoryError(error)
        }
    }
}

public enum MemoryError: Error, Equatable, CustomStringConvertible {
    case invalid(String)
    public var description: String { if case .invalid(let m) = self { return m }; return "" }

    /// The one-line message of a MemorySpec error.
    init(_ error: any Error) {
        if let e = error as? ModelError, case .badMemory(let m) = e { self = .invalid(m); return }
        self = .invalid("\(error)")
    }
}

public enum MemoryPlan {
    /// Ratio of a configuration's memory state to the default (full) one; NaN when the default is empty.
    public static func ratio(_ memory: [Int], to full: [Int]) -> Double {
        let f = full.reduce(0, +)
        return f == 0 ? .nan : Double(memory.reduce(0, +)) / Double(f)
    }

    /// Parses a `--mem` spec with MemorySpec's grammar, then refuses lengths above what the engine accepts
    /// (never clamps).
    public static func parse(
        _ spec: String, layers: Int, long: Int, short: Int, maxMemory: Int
    )
        throws(MemoryError) -> [Int]
    {
        let result: [Int]
        do { result = try MemorySpec.parse(spec, layers: layers, lrm: long, srm: short) } catch {
            throw MemoryError(error)
        }
        for (l, v) in result.enumerated() where v > maxMemory {
            throw .invalid("memory length \(v) for layer \(l) is outside 0...\(maxMemory)")
        }
        return result
    }
}
