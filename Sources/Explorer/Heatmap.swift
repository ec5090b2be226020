// Attention heatmap downsampling: query rows and key columns binned to fit the screen, each bin the
// min, mean or max of the visible (unmasked) probabilities, with heads combined by mean, max or one head.
import Foundation
import TXL

public enum HeadView: Sendable, Equatable, CustomStringConvertible {
    case mean, max, head(Int)
    public var description: String {
        switch self {
        case .mean: return "mean";
        case .max: return "max";
        case .head(let h): return "head \(h)"
        }
    }
    public var headIndex: Int? { if case .head(let h) = self { return h }; return nil }
}

public enum Reduction: String, Sendable, CaseIterable { case min, mean, max }
public enum HeatScale: String, Sendable { case log, linear }

public struct HeatmapView: Sendable, Equatable {
    public let rows: Int, cols: Int
    public let values: [Float]  // [rows][cols]; NaN where every key in the bin is masked
    public let queryStarts: [Int]  // first query of each row; queryStarts[rows] = end
    public let keyStarts: [Int]  // first key of each column; keyStarts[cols] = end
    public let maxValue: Float
    public func value(_ r: Int, _ c: Int) -> Float { values[r * cols + c] }
    /// The column that holds `key`, if visible.
    public func column(ofKey key: Int) -> Int? {
        guard key >= keyStarts[0], key < keyStarts[cols] else { return nil }
        var c = 0
        while keyStarts[c + 1] <= key { c += 1 }
        return c
    }
    public func row(ofQuery q: Int) -> Int? {
        guard q >= queryStarts[0], q < queryStarts[rows] else { return nil }
        var r = 0
        while queryStarts[r + 1] <= q { r += 1 }
        return r
    }
}

public enum Heatmap {
    /// Keys shown at a zoom: all of them / 2^zoom, but never fewer than one per column (nor than one).
    public static func visibleKeys(_ keys: Int, zoom: Int, columns: Int) -> Int {
        Swift.max(1, Swift.min(keys, Swift.max(keys >> zoom, columns)))
    }

    /// Even split of `range` into at most `parts` bins: bin starts plus the end.
    public static func binStarts(_ range: Range<Int>, parts: Int) -> [Int] {
        let n = range.count, p = Swift.max(1, Swift.min(parts, n))
        return (0...p).map { range.lowerBound + $0 * n / p }
    }

    /// What a head view shows of query q's attention on `keys`, written to v[0 ..< keys.count]: the mean or
    /// the max over heads, or one head. The one place heads are combined (heatmap, reads strip, export).
    static func combineHeads(
        _ p: UnsafeBufferPointer<Float>, _ a: AttentionCapture, query q: Int, keys: Range<Int>,
        view: HeadView, into v: UnsafeMutableBufferPointer<Float>
    ) {
        let Q = a.queries, K = a.keys, n = keys.count
        for j in 0..<n { v[j] = 0 }
        switch view {
        case .head(let h):
            let base = (h * Q + q) * K + keys.lowerBound
            for j in 0..<n { v[j] = p[base + j] }
        case .max:
            for h in 0..<a.heads {
                let base = (h * Q + q) * K + keys.lowerBound
                for j in 0..<n { v[j] = Swift.max(v[j], p[base + j]) }
            }
        case .mean:
            for h in 0..<a.heads {
                let base = (h * Q + q) * K + keys.lowerBound
                for j in 0..<n { v[j] += p[base + j] }
            }
            let H = Float(a.heads)
            for j in 0..<n { v[j] /= H }
        }
    }

    /// Query q's attention on `keys` under a head view.
    public static func row(_ a: AttentionCapture, query q: Int, keys: Range<Int>, view: HeadView) -> [Float] {
        var v = [Float](repeating: 0, count: keys.count)
        a.probabilities.withUnsafeBufferPointer { p in
            v.withUnsafeMutableBufferPointer { combineHeads(p, a, query: q, keys: keys, view: view, into: $0) }
        }
        return v
    }

    /// Downsamples `attention` over `queries` x `keys` into at most rows x cols bins.
    public static func downsample(
        _ a: AttentionCapture, head: HeadView, reduction: Reduction,
        queries: Range<Int>, keys: Range<Int>, rows: Int, cols: Int
    ) -> HeatmapView {
        downsample(
            a, head: head, reduction: reduction, queries: queries, keyStarts: binStarts(keys, parts: cols), rows: rows)
    }

    /// Column starts for `keys` in `cols` columns with no column across `split` (the memory/segment boundary):
    /// the keys before it and from it get columns in proportion, at least one each when both are visible.
    public static func splitKeyStarts(_ keys: Range<Int>, cols: Int, split: Int) -> [Int] {
        guard split > keys.lowerBound, split < keys.upperBound, cols >= 2 else { return binStarts(keys, parts: cols) }
        let before = split - keys.lowerBound
        let c0 = Swift.max(1, Swift.min(cols - 1, Int((Double(before) / Double(keys.count) * Double(cols)).rounded())))
        return binStarts(keys.lowerBound..<split, parts: c0)
            + binStarts(split..<keys.upperBound, parts: cols - c0).dropFirst()
    }

    /// Downsamples over `queries` into at most `rows` bins and over the key columns `ks` (starts plus the end).
    public static func downsample(
        _ a: AttentionCapture, head: HeadView, reduction: Reduction,
        queries: Range<Int>, keyStarts ks: [Int], rows: Int
    ) -> HeatmapView {
        let qs = binStarts(queries, parts: rows)
        let R = qs.count - 1, C = ks.count - 1
        let keys = ks[0]..<ks[ks.count - 1]
        guard R > 0, C > 0 else {
            return HeatmapView(rows: 0, cols: 0, values: [], queryStarts: [0], keyStarts: [0], maxValue: 0)
        }
        var colOf = [Int](repeating: 0, count: keys.count)
        for c in 0..<C { for k in ks[c]..<ks[c + 1] { colOf[k - keys.lowerBound] = c } }
        var acc = [Float](repeating: reduction == .min ? .infinity : 0, count: R * C)
        var count = [Int32](repeating: 0, count: R * C)
        let M = a.memoryKeys
        // Heads are combined one query row at a time with contiguous reads, then binned.
        var row = [Float](repeating: 0, count: keys.count)
        a.probabilities.withUnsafeBufferPointer { p in
            row.withUnsafeMutableBufferPointer { v in
                for r in 0..<R {
                    for q in qs[r]..<qs[r + 1] {
                        // Key k is visible to query q when its distance M + q - k >= 0.
                        let k0 = keys.lowerBound
                        let n = Swift.min(keys.upperBound, M + q + 1) - k0
                        guard n > 0 else { continue }
                        combineHeads(p, a, query: q, keys: k0..<(k0 + n), view: head, into: v)
                        let rowBase = r * C
                        for j in 0..<n {
                            let x = v[j]
                            let i = rowBase + colOf[j]
                            switch reduction {
                            case .min: acc[i] = Swift.min(acc[i], x)
                            case .mean: acc[i] += x
                            case .max: acc[i] = Swift.max(acc[i], x)
                            }
                            count[i] += 1
                        }
                    }
                }
            }
        }
        var top: Float = 0
        for i in 0..<(R * C) {
            if count[i] == 0 { acc[i] = .nan; continue }
            if reduction == .mean { acc[i] /= Float(count[i]) }
            top = Swift.max(top, acc[i])
        }
        return HeatmapView(rows: R, cols: C, values: acc, queryStarts: qs, keyStarts: ks, maxValue: top)
    }

    /// Heat level 0...15 of `v` against `top`. Log scale spans `decades` decades below the top.
    public static func level(_ v: Float, top: Float, scale: HeatScale, decades: Double = 3) -> UInt8 {
        guard v.isFinite, v > 0, top > 0 else { return 0 }
        let r = Double(Swift.min(1, v / top))
        switch scale {
        case .linear: return UInt8(Swift.max(1, Swift.min(15, Int((r * 15).rounded(.up)))))
        case .log:
            let t = (log10(r) + decades) / decades  // 10^-decades -> 0, 1 -> 1
            if t <= 0 { return 0 }
            return UInt8(Swift.max(1, Swift.min(15, Int((t * 15).rounded(.up)))))
        }
    }

    /// The smallest value drawn at `level` (for the legend).
    public static func threshold(_ level: Int, top: Float, scale: HeatScale, decades: Double = 3) -> Double {
        guard level > 0 else { return 0 }
        switch scale {
        case .linear: return Double(top) * Double(level - 1) / 15
        case .log: return Double(top) * pow(10, Double(level - 1) / 15 * decades - decades)
        }
    }

    /// The fixed colour scale (`:scale fixed`): the same for every layer, head, setting and zoom, so that two
    /// heatmaps compare by eye: log10 of the probability itself, from 1e-4 to 1.
    public static let fixedTop: Float = 1
    public static let fixedDecades: Double = 4

    /// The full-resolution [query][key] matrix a head view shows (for export).
    public static func matrix(_ a: AttentionCapture, head: HeadView) -> [Float] {
        let Q = a.queries, K = a.keys
        var out = [Float](repeating: 0, count: Q * K)
        a.probabilities.withUnsafeBufferPointer { p in
            out.withUnsafeMutableBufferPointer { o in
                for q in 0..<Q {
                    let v = UnsafeMutableBufferPointer(rebasing: o[(q * K)..<((q + 1) * K)])
                    combineHeads(p, a, query: q, keys: 0..<K, view: head, into: v)
                }
            }
        }
        return out
    }
}
