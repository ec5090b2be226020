// Projected adaptive log-softmax, forward only (Grave et al. 2017; reference: transformers'
// ProjectedAdaptiveLogSoftmax). The head scores the first cutoffs[0] words plus one logit per tail cluster; tail
// cluster i (1-based) takes head column cutoffs[0] + i - 1, and log p(word) = log p_head(cluster) + log p_tail(word).
// Each cluster's logits are (h P_i) W_i^T + b_i with P_i [d_model, d_i] (none where d_i == d_model and untied).
import Foundation

public struct AdaptiveSoftmax: Sendable {
    public struct Cluster: Sendable {
        /// [n_i, d_i]: the head's words only for cluster 0 (cluster logits are separate).
        public let weight: FloatView
        public let bias: FloatView
        /// [d_model, d_i], or nil: h is used as it is.
        public let projection: FloatView?
        public init(weight: FloatView, bias: FloatView, projection: FloatView?) {
            self.weight = weight; self.bias = bias; self.projection = projection
        }
    }

    public let dModel: Int
    /// [0, cutoffs..., vocabulary size].
    public let ends: [Int]
    public let clusters: [Cluster]
    /// [tail clusters, d_0] and [tail clusters]: the head's logits for the tail clusters.
    public let clusterWeight: FloatView, clusterBias: FloatView

    public init(dModel: Int, ends: [Int], clusters: [Cluster], clusterWeight: FloatView, clusterBias: FloatView) {
        precondition(ends.count == clusters.count + 1, "AdaptiveSoftmax: cluster counts")
        self.dModel = dModel; self.ends = ends; self.clusters = clusters
        self.clusterWeight = clusterWeight; self.clusterBias = clusterBias
        let tails = clusters.count - 1
        for (i, c) in clusters.enumerated() {
            let n = ends[i + 1] - ends[i], w = width(i)
            precondition(w >= 1 && c.weight.count == n * w && c.bias.count == n, "AdaptiveSoftmax: cluster \(i) sizes")
            precondition(
                c.projection.map { $0.count == dModel * w } ?? (w == dModel),
                "AdaptiveSoftmax: projection \(i)")
        }
        precondition(
            clusterBias.count == tails && clusterWeight.count == tails * width(0),
            "AdaptiveSoftmax: cluster logits")
    }

    /// The weights packed for the kernels (`Kernels.pack`): each cluster's projection and weight, the cluster logits'.
    public struct Packed: @unchecked Sendable {
        public let projections: [UnsafePointer<Float>?]
        public let weights: [UnsafePointer<Float>]
        public let clusterWeight: UnsafePointer<Float>?
    }

    /// Packs every weight into buffers from `alloc` (floats), for `logProbs(packed:)`.
    public func pack(_ alloc: (Int) -> UnsafeMutablePointer<Float>) -> Packed {
        let C = dModel, tails = clusters.count - 1
        let projections = clusters.indices.map { i -> UnsafePointer<Float>? in
            guard let p = clusters[i].projection else { return nil }
            let w = width(i), b = alloc(Kernels.packedFloats(rows: w, columns: C))
            Kernels.packRows(b, p.base, ldb: w, rows: C, columns: w)
            return UnsafePointer(b)
        }
        let weights = clusters.indices.map { i -> UnsafePointer<Float> in
            let w = width(i), n = ends[i + 1] - ends[i], b = alloc(Kernels.packedFloats(rows: n, columns: w))
            Kernels.pack(b, clusters[i].weight.base, ldw: w, rows: n, columns: w)
            return UnsafePointer(b)
        }
        var cluster: UnsafePointer<Float>?
        if tails > 0 {
            let b = alloc(Kernels.packedFloats(rows: tails, columns: width(0)))
            Kernels.pack(b, clusterWeight.base, ldw: width(0), rows: tails, columns: width(0))
            cluster = UnsafePointer(b)
        }
        return Packed(projections: projections, weights: weights, clusterWeight: cluster)
    }

    /// d_i, the width cluster i's logits are computed in.
    public func width(_ i: Int) -> Int { clusters[i].weight.count / (ends[i + 1] - ends[i]) }

    /// Natural-log probability of each target [T] given hidden states [T, d_model].
    /// Only each target's cluster is scored. With `packed`, the products run on the kernels, else OpenBLAS.
    public func logProbs(_ hidden: UnsafePointer<Float>, targets: [Int], packed: Packed? = nil) -> [Float] {
        let T = targets.count, tails = clusters.count - 1
        var out = [Float](repeating: 0, count: T)
        if T == 0 { return out }
        // Head: every position, over the shortlist and the tail clusters' logits.
        let w0 = width(0), n0 = ends[1], H = n0 + tails
        let hp0 = project(hidden, rows: Array(0..<T), cluster: 0, packed: packed)  // [T, d_0]
        var head = [Float](repeating: 0, count: T * H)  // [T, n_0 + tails]
        head.withUnsafeMutableBufferPointer { hb in
            let h = hb.baseAddress!
            if let packed {
                Kernels.gemm(h, ldo: H, hp0, lda: w0, packed: packed.weights[0], columns: 0..<n0, m: T, k: w0)
            } else {
                BLAS.gemm(
                    h, ldc: H, hp0, lda: w0, clusters[0].weight.base, ldb: w0, transB: true, m: T, n: n0, k: w0)
            }
            if let cw = packed?.clusterWeight {
                Kernels.gemm(h + n0, ldo: H, hp0, lda: w0, packed: cw, columns: 0..<tails, m: T, k: w0)
            } else if tails > 0 {
                BLAS.gemm(
                    h + n0, ldc: H, hp0, lda: w0, clusterWeight.base, ldb: w0, transB: true, m: T, n: tails, k: w0)
            }
            for t in 0..<T {
                let row = h + t * H
                for j in 0..<n0 { row[j] += clusters[0].bias[j] }
                for j in 0..<tails { row[n0 + j] += clusterBias[j] }
                let lse = AdaptiveSoftmax.logSumExp(row, H)
                let y = targets[t]
                out[t] = y < n0 ? row[y] - lse : row[n0 + clusterIndex(y) - 1] - lse
            }
        }
        // Tails: the positions whose target lies in cluster i, together.
        for i in 1..<clusters.count {
            let rows = (0..<T).filter { clusterIndex(targets[$0]) == i }
            if rows.isEmpty { continue }
            let n = rows.count, w = width(i), V = ends[i + 1] - ends[i]
            let hp = project(hidden, rows: rows, cluster: i, packed: packed)  // [n, d_i]
            var logits = [Float](repeating: 0, count: n * V)  // [n, n_i]
            logits.withUnsafeMutableBufferPointer { lb in
                let l = lb.baseAddress!
                if let packed {
                    Kernels.gemm(l, ldo: V, hp, lda: w, packed: packed.weights[i], columns: 0..<V, m: n, k: w)
                    VectorMath.addBias(l, clusters[i].bias.base, residual: nil, N: n, O: V)
                } else {
                    Linear.forward(l, hp, clusters[i].weight.base, clusters[i].bias.base, N: n, I: w, O: V)
                }
                for (k, t) in rows.enumerated() {
                    let row = l + k * V
                    out[t] += row[targets[t] - ends[i]] - AdaptiveSoftmax.logSumExp(row, V)
                }
            }
        }
        return out
    }

    /// Cluster of an id.
    @inline(__always)
    public func clusterIndex(_ y: Int) -> Int {
        var i = 0
        while y >= ends[i + 1] { i += 1 }
        return i
    }

    /// h P_i for the given rows of hidden [., d_model]: [rows, d_i]. h itself where cluster i has no projection.
    func project(_ hidden: UnsafePointer<Float>, rows: [Int], cluster i: Int, packed: Packed?) -> [Float] {
        let C = dModel, w = width(i), n = rows.count
        var h = [Float](repeating: 0, count: n * C)
        for (k, r) in rows.enumerated() { for c in 0..<C { h[k * C + c] = hidden[r * C + c] } }
        guard let p = clusters[i].projection else { return h }
        var out = [Float](repeating: 0, count: n * w)
        if let pp = packed?.projections[i] {
            out.withUnsafeMutableBufferPointer {
                Kernels.gemm($0.baseAddress!, ldo: w, h, lda: C, packed: pp, columns: 0..<w, m: n, k: C)
            }
        } else {
            BLAS.gemm(&out, ldc: w, h, lda: C, p.base, ldb: w, m: n, n: w, k: C)
        }
        return out
    }

    /// log sum exp of x[0..<n]: exp eight lanes at a time (VectorMath.exp, within 2 ulp), summed in Float over
    /// blocks of 1,024 and in Double across them.
    static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for j in 0..<n { m = max(m, x[j]) }
        if !m.isFinite { return m.isNaN || m > 0 ? m : -.infinity }
        let m8 = SIMD8<Float>(repeating: m)
        var s = 0.0, j = 0
        while j + 8 <= n {
            var block = SIMD8<Float>(repeating: 0)
            let end = min(n, j + 1024)
            while j + 8 <= end { block += VectorMath.exp(VectorMath.load(x + j) - m8); j += 8 }
            s += Double(block.sum())
        }
        while j < n { s += exp(Double(x[j] - m)); j += 1 }
        return m + Float(log(s))
    }
}
