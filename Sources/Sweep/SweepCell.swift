// One cell of a sweep: a placement of long-range memories (Rae & Razavi 2020 §4: full, none, first:K, last:K,
// interleaved:K), the short-range length of the other layers, and a seed. The `--cells` grammar lives here too.
import Foundation
import TXL

public enum SweepError: Error, CustomStringConvertible, Equatable {
    case bad(String)
    case io(path: String, problem: String)

    public var description: String {
        switch self {
        case .bad(let s): return s
        case .io(let path, let problem): return "\(path): \(problem)"
        }
    }
}

public struct SweepCell: Codable, Sendable, Equatable, Hashable {
    /// `full`, `none`, `first:K`, `last:K` or `interleaved:K`.
    public var placement: String
    /// Long-range length (the sweep's --lrm, or one of eval's --lrm values).
    public var lrm: Int
    /// Short-range length of the other layers; nil for `full`, where no layer is short-range.
    public var srm: Int?
    /// Training seed; nil in an evaluation sweep.
    public var seed: UInt64?

    public init(placement: String, lrm: Int, srm: Int?, seed: UInt64?) {
        self.placement = placement; self.lrm = lrm; self.srm = placement == "full" ? nil : srm; self.seed = seed
    }

    /// The placement's family (`full`, `none`, `first`, `last`, `interleaved`) and K.
    public var family: String { placement.split(separator: ":").first.map(String.init) ?? placement }

    /// File-safe name: `full-s1`, `last1-srm64-s1`; evaluation cells name the long length: `last1-lrm512-srm128`.
    public func name(withLRM: Bool) -> String {
        var parts = [placement.replacingOccurrences(of: ":", with: "")]
        if withLRM && placement != "none" { parts.append("lrm\(lrm)") }
        if let srm { parts.append("srm\(srm)") }
        if let seed { parts.append("s\(seed)") }
        return parts.joined(separator: "-")
    }

    /// Checks the placement's grammar and that it fits a model of `layers` layers.
    public static func checkPlacement(_ p: String, layers: Int) throws {
        if p == "full" || p == "none" { return }
        let parts = p.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, ["first", "last", "interleaved"].contains(String(parts[0])) else {
            throw SweepError.bad("placement \"\(p)\": use full, none, first:K, last:K or interleaved:K")
        }
        guard let k = Int(parts[1]), k >= 1 else { throw SweepError.bad("placement \"\(p)\": K must be a number >= 1") }
        guard k <= layers else {
            throw SweepError.bad(
                "placement \"\(p)\" does not fit the model: K is \(k) but the model has \(layers) layers")
        }
    }

    /// Number of long-range layers.
    public func longLayers(layers: Int) -> Int {
        switch placement {
        case "full": return layers
        case "none": return 0
        default: return Int(placement.split(separator: ":").last ?? "") ?? 0
        }
    }

    /// Memory length per layer, bottom first. `none` gives every layer the short length (no long-range layer).
    public func memory(layers: Int, lrm longLength: Int? = nil) throws -> [Int] {
        try SweepCell.checkPlacement(placement, layers: layers)
        let long = longLength ?? lrm, short = srm ?? 0
        do {
            switch placement {
            case "full": return try MemorySpec.parse("full", layers: layers, lrm: long, srm: 0)
            case "none": return try MemorySpec.parse("\(short)", layers: layers, lrm: long, srm: short)
            default: return try MemorySpec.parse(placement, layers: layers, lrm: long, srm: short)
            }
        } catch let e as ModelError {
            throw SweepError.bad("cell \(name(withLRM: false)): \(e.description)")
        }
    }

    // MARK: grammar

    /// Splits a comma list of placements. `interleaved:2` keeps its colon; blanks are refused.
    public static func parsePlacements(_ text: String, layers: Int) throws -> [String] {
        let items = text.lowercased().split(separator: ",", omittingEmptySubsequences: false)
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard !items.isEmpty, !items.contains("") else {
            throw SweepError.bad("--placements \"\(text)\": an empty item")
        }
        for p in items { try checkPlacement(p, layers: layers) }
        return items
    }

    /// A comma list of non-negative integers for --srm, --lrm, --seeds.
    public static func parseInts(_ text: String, flag: String, range: ClosedRange<Int>) throws -> [Int] {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map {
            $0.trimmingCharacters(in: .whitespaces)
        }
        var out: [Int] = []
        for i in items {
            guard let v = Int(i), range.contains(v) else {
                throw SweepError.bad(
                    "\(flag) \"\(text)\": \"\(i)\" is not a number in \(range.lowerBound)...\(range.upperBound)")
            }
            if !out.contains(v) { out.append(v) }
        }
        return out
    }

    /// The training grid: seeds x placements x srm values, `full` once per seed (it has no short-range layer).
    public static func grid(placements: [String], lrm: Int, srms: [Int], seeds: [UInt64]) -> [SweepCell] {
        var out: [SweepCell] = []
        for seed in seeds {
            for p in placements {
                for srm in (p == "full" ? [srms.first ?? 0] : srms) {
                    let c = SweepCell(placement: p, lrm: lrm, srm: srm, seed: seed)
                    if !out.contains(c) { out.append(c) }
                }
            }
        }
        return out
    }

    /// `--cells full/s1,last:1/s1,last:1/srm16/s1`: an explicit, ordered list. Each item is a placement, then
    /// optionally `srmN` and `sN`; a missing srm is `defaultSRM`, a missing seed `defaultSeed`.
    public static func parseCells(
        _ text: String, layers: Int, lrm: Int, defaultSRM: Int, defaultSeed: UInt64
    ) throws -> [SweepCell] {
        var out: [SweepCell] = []
        for raw in text.lowercased().split(separator: ",", omittingEmptySubsequences: false) {
            let item = raw.trimmingCharacters(in: .whitespaces)
            let parts = item.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
            guard let p = parts.first, !p.isEmpty else { throw SweepError.bad("--cells \"\(text)\": an empty item") }
            try checkPlacement(p, layers: layers)
            var srm = defaultSRM, seed = defaultSeed
            for extra in parts.dropFirst() {
                if extra.hasPrefix("srm"), let v = Int(extra.dropFirst(3)), (0...Config.maxLength).contains(v) {
                    srm = v
                } else if extra.hasPrefix("s"), let v = UInt64(extra.dropFirst()) {
                    seed = v
                } else {
                    throw SweepError.bad(
                        "--cells item \"\(item)\": \"\(extra)\" is neither srmN nor sN (e.g. last:1/srm16/s2)")
                }
            }
            let c = SweepCell(placement: p, lrm: lrm, srm: srm, seed: seed)
            guard !out.contains(c) else { throw SweepError.bad("--cells: \"\(item)\" is listed twice") }
            out.append(c)
        }
        return out
    }
}
