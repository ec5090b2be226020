// How far each layer looks: attention mass by relative distance in log-spaced bins, the mean
// distance, and the share on memory keys, i.e. beyond the current segment (Rae & Razavi 2020, sec. 5).

import TXL

public struct DistanceProfile: Sendable, Equatable {
    public let layer: Int
    public let memoryKeys: Int
    public let bins: [Double]  // share of attention mass per bin; sums to 1 when any mass
    public let meanDistance: Double
    public let beyondSegment: Double  // share of mass on memory keys

    /// Bin 0 holds distance 0, bin i >= 1 holds distances 2^(i-1) ..< 2^i.
    public static func bin(of d: Int) -> Int { d <= 0 ? 0 : Int.bitWidth - d.leadingZeroBitCount }
    public static func range(ofBin i: Int) -> ClosedRange<Int> { i == 0 ? 0...0 : (1 << (i - 1))...((1 << i) - 1) }
    /// Bins needed to hold every distance up to `maxDistance`.
    public static func binCount(maxDistance: Int) -> Int { bin(of: Swift.max(0, maxDistance)) + 1 }

    /// Mass averaged over heads and queries; `bins` at least what the layer's distances need.
    public init(_ a: AttentionCapture, bins binTotal: Int = 0) {
        let maxD = a.memoryKeys + a.queries - 1
        let n = Swift.max(binTotal, DistanceProfile.binCount(maxDistance: maxD))
        var mass = [Double](repeating: 0, count: n)
        var total = 0.0, weighted = 0.0, memory = 0.0
        let Q = a.queries, K = a.keys, M = a.memoryKeys
        // Distances repeat along each row, so accumulate per (q, k) over heads first.
        var binOfDistance = [Int](repeating: 0, count: maxD + 1)
        for d in 0...maxD { binOfDistance[d] = DistanceProfile.bin(of: d) }
        a.probabilities.withUnsafeBufferPointer { p in
            for q in 0..<Q {
                let kEnd = Swift.min(K, M + q + 1)
                for k in 0..<kEnd {
                    var v = 0.0
                    for h in 0..<a.heads { v += Double(p[(h * Q + q) * K + k]) }
                    if v == 0 { continue }
                    let d = M + q - k
                    mass[binOfDistance[d]] += v
                    total += v; weighted += v * Double(d)
                    if k < M { memory += v }
                }
            }
        }
        layer = a.layer; memoryKeys = M
        bins = total > 0 ? mass.map { $0 / total } : mass
        meanDistance = total > 0 ? weighted / total : 0
        beyondSegment = total > 0 ? memory / total : 0
    }

    public init(layer: Int, memoryKeys: Int, bins: [Double], meanDistance: Double, beyondSegment: Double) {
        self.layer = layer; self.memoryKeys = memoryKeys; self.bins = bins
        self.meanDistance = meanDistance; self.beyondSegment = beyondSegment
    }

    /// Profiles of the same layer over several segments, each weighted by its queries: the window's profile.
    public struct Accumulator: Sendable {
        var mass: [Double] = [], mean = 0.0, beyond = 0.0, weight = 0.0, memoryKeys = 0
        public init() {}
        public mutating func add(_ a: AttentionCapture) {
            let p = DistanceProfile(a)
            let w = Double(a.queries)
            if mass.count < p.bins.count { mass += [Double](repeating: 0, count: p.bins.count - mass.count) }
            for (i, m) in p.bins.enumerated() { mass[i] += m * w }
            mean += p.meanDistance * w; beyond += p.beyondSegment * w; weight += w
            memoryKeys = Swift.max(memoryKeys, a.memoryKeys)
        }
        /// A segment's attention summed by distance in the step (`Inference.step(profile:)`), weighted by its
        /// queries as a capture is.
        public mutating func add(_ m: DistanceMass) {
            let total = m.mass.reduce(0, +), share = total > 0 ? 1 / total : 0
            let bins = DistanceProfile.binCount(maxDistance: m.memoryKeys + m.queries - 1)
            if mass.count < bins { mass += [Double](repeating: 0, count: bins - mass.count) }
            let w = Double(m.queries)
            var weighted = 0.0
            for (d, v) in m.mass.enumerated() {
                mass[DistanceProfile.bin(of: d)] += v * share * w
                weighted += v * Double(d)
            }
            mean += weighted * share * w; beyond += m.memory * share * w; weight += w
            memoryKeys = Swift.max(memoryKeys, m.memoryKeys)
        }
        public func profile(layer: Int, bins: Int) -> DistanceProfile {
            let w = Swift.max(weight, 1e-300)
            var b = mass.map { $0 / w }
            if b.count < bins { b += [Double](repeating: 0, count: bins - b.count) }
            return DistanceProfile(
                layer: layer, memoryKeys: memoryKeys, bins: b, meanDistance: mean / w, beyondSegment: beyond / w)
        }
        public var binCount: Int { mass.count }
    }

    public static func all(_ s: SegmentAnalysis) -> [DistanceProfile] {
        let maxD = s.attention.map { $0.memoryKeys + $0.queries - 1 }.max() ?? 0
        let n = binCount(maxDistance: maxD)
        return s.attention.map { DistanceProfile($0, bins: n) }
    }
}
