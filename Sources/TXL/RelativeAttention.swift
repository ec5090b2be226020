// One head of Transformer-XL relative attention for one stream (Dai et al. 2019 §3.3, attn_type 0;
// reference: RelPartialLearnableMultiHeadAttn). Score(i, j) = (q_i + u)·k_j + (q_i + v)·R[dist(i, j)], scaled.
// Queries are the last t of klen = mlen + t keys; query i sits at key position p = mlen + i, dist = p - j.
import Foundation

public enum RelativeAttention {
    /// Keys query i may see: j in lo...p, with p = mlen + i; a sliding window of `window` keys when window > 0.
    @inline(__always)
    public static func visible(query i: Int, mlen: Int, window: Int) -> ClosedRange<Int> {
        let p = mlen + i
        return (window > 0 ? max(0, p - window + 1) : 0)...p
    }

    /// vec[t, D] = softmax(scores) v. probs [t, klen] holds the attention probabilities afterwards (masked = 0).
    /// Scratch: bd [t, klen], qb [t, D]. r [klen, D] is indexed by distance.
    /// dropMask [t, klen] (training only): attention dropout as multipliers, 0 or 1/(1-p); probs stay undropped.
    public static func forward(
        _ vec: UnsafeMutablePointer<Float>, ldo: Int, probs: UnsafeMutablePointer<Float>,
        bd: UnsafeMutablePointer<Float>, qb: UnsafeMutablePointer<Float>,
        q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
        r: UnsafePointer<Float>, ldr: Int, rw: UnsafePointer<Float>, rr: UnsafePointer<Float>,
        t: Int, mlen: Int, D: Int, window: Int, scale: Float, dropMask: UnsafePointer<Float>? = nil
    ) {
        let klen = mlen + t
        // AC = (q + r_w_bias) k^T
        addBias(qb, q, ldq: ldq, rw, t: t, D: D)
        BLAS.gemm(probs, ldc: klen, qb, lda: D, k, ldb: ldkv, transB: true, m: t, n: klen, k: D)
        // BD by distance = (q + r_r_bias) R^T; the reference's _rel_shift becomes an index p - j below.
        addBias(qb, q, ldq: ldq, rr, t: t, D: D)
        BLAS.gemm(bd, ldc: klen, qb, lda: D, r, ldb: ldr, transB: true, m: t, n: klen, k: D)
        for i in 0..<t {
            let s = probs + i * klen, b = bd + i * klen
            let range = visible(query: i, mlen: mlen, window: window), p = mlen + i, lo = range.lowerBound
            // Separate passes so each vectorises: the shifted sum (b read backwards), then the softmax.
            var j = lo
            while j <= p { s[j] = (s[j] + b[p &- j]) * scale; j &+= 1 }
            VectorMath.softmax(s + lo, count: p - lo + 1)
            if lo > 0 { s.update(repeating: 0, count: lo) }
            if p + 1 < klen { (s + p + 1).update(repeating: 0, count: klen - p - 1) }
        }
        if let dropMask {
            for i in 0..<(t * klen) { bd[i] = probs[i] * dropMask[i] }
            BLAS.gemm(vec, ldc: ldo, bd, lda: klen, v, ldb: ldkv, m: t, n: D, k: klen)
        } else {
            BLAS.gemm(vec, ldc: ldo, probs, lda: klen, v, ldb: ldkv, m: t, n: D, k: klen)
        }
    }

    /// Inference's `forward`: the same probabilities and output without the relative shift's pass or a second
    /// zeroed product. R is stored by reversed distance (`rReversed` row c is distance klen - 1 - c), so row i of
    /// (q_i + v) Rrev^T holds the shifted BD of query i from column t - 1 - i on. Computed with a row stride of
    /// klen + 1 and read with stride klen from offset t - 1, every row's BD lies under its scores, and AC is added
    /// by a product with beta 1. The scale is folded into the queries. Returns where the probabilities [t, klen]
    /// lie inside `scores` (capacity t * (klen + 1)); masked entries are 0.
    @discardableResult
    public static func inferenceForward(
        _ vec: UnsafeMutablePointer<Float>, ldo: Int, scores: UnsafeMutablePointer<Float>,
        qb: UnsafeMutablePointer<Float>, q: UnsafePointer<Float>, ldq: Int,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
        rReversed: UnsafePointer<Float>, ldr: Int, rw: UnsafePointer<Float>, rr: UnsafePointer<Float>,
        t: Int, mlen: Int, D: Int, window: Int, scale: Float
    ) -> UnsafeMutablePointer<Float> {
        let klen = mlen + t, probs = scores + (t - 1)
        // BD: row i at scores[i (klen + 1) ..< i (klen + 1) + klen]; entries left of t - 1 - i are future distances.
        addBias(qb, q, ldq: ldq, rr, t: t, D: D, scale: scale)
        BLAS.gemm(scores, ldc: klen + 1, qb, lda: D, rReversed, ldb: ldr, transB: true, m: t, n: klen, k: D)
        // probs[i, j] = scores[t - 1 + i klen + j] = BD row i, column j + t - 1 - i: distance p - j. Add AC.
        addBias(qb, q, ldq: ldq, rw, t: t, D: D, scale: scale)
        BLAS.gemm(probs, ldc: klen, qb, lda: D, k, ldb: ldkv, transB: true, m: t, n: klen, k: D, beta: 1)
        for i in 0..<t {
            let s = probs + i * klen
            let range = visible(query: i, mlen: mlen, window: window), p = mlen + i, lo = range.lowerBound
            VectorMath.softmax(s + lo, count: p - lo + 1)
            if lo > 0 { s.update(repeating: 0, count: lo) }
            if p + 1 < klen { (s + p + 1).update(repeating: 0, count: klen - p - 1) }
        }
        BLAS.gemm(vec, ldc: ldo, probs, lda: klen, v, ldb: ldkv, m: t, n: D, k: klen)
        return probs
    }

    /// mass[d] += attention on distance d, summed over the t queries of probs [t, klen] (query i at key mlen + i);
    /// returns the part on memory keys (k < mlen).
    public static func accumulateDistances(
        _ mass: UnsafeMutablePointer<Double>, probs: UnsafePointer<Float>, t: Int, mlen: Int
    ) -> Double {
        let klen = mlen + t
        var memory = 0.0
        for i in 0..<t {
            let s = probs + i * klen, p = mlen + i
            var j = 0
            while j <= p { mass[p &- j] += Double(s[j]); j &+= 1 }
            var m: Float = 0
            for j in 0..<mlen { m += s[j] }
            memory += Double(m)
        }
        return memory
    }

    /// Backward of `forward`, accumulating into dq, dk, dv (stride ldkv), dr (by distance), drw, drr.
    /// Scratch: dp and dbd [t, klen], qb and dqb [t, D]. dvec is read only.
    public static func backward(
        dq: UnsafeMutablePointer<Float>, ldq: Int, dk: UnsafeMutablePointer<Float>, dv: UnsafeMutablePointer<Float>,
        dr: UnsafeMutablePointer<Float>, ldr: Int, drw: UnsafeMutablePointer<Float>, drr: UnsafeMutablePointer<Float>,
        dp: UnsafeMutablePointer<Float>, dbd: UnsafeMutablePointer<Float>,
        qb: UnsafeMutablePointer<Float>, dqb: UnsafeMutablePointer<Float>,
        _ dvec: UnsafePointer<Float>, ldo: Int, probs: UnsafePointer<Float>,
        q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int,
        r: UnsafePointer<Float>, rw: UnsafePointer<Float>, rr: UnsafePointer<Float>,
        t: Int, mlen: Int, D: Int, window: Int, scale: Float, dropMask: UnsafePointer<Float>? = nil
    ) {
        let klen = mlen + t
        // vec = drop(P) v
        if let dropMask {
            for i in 0..<(t * klen) { dbd[i] = probs[i] * dropMask[i] }
            BLAS.gemm(dv, ldc: ldkv, dbd, lda: klen, transA: true, dvec, ldb: ldo, m: klen, n: D, k: t, beta: 1)
        } else {
            BLAS.gemm(dv, ldc: ldkv, probs, lda: klen, transA: true, dvec, ldb: ldo, m: klen, n: D, k: t, beta: 1)
        }
        BLAS.gemm(dp, ldc: klen, dvec, lda: ldo, v, ldb: ldkv, transB: true, m: t, n: klen, k: D)
        if let dropMask { for i in 0..<(t * klen) { dp[i] *= dropMask[i] } }
        // P = softmax(S): dS = P (dP - sum(P dP)); S = scale (AC + BD)
        for i in 0..<t {
            let pr = probs + i * klen, g = dp + i * klen, gb = dbd + i * klen
            let range = visible(query: i, mlen: mlen, window: window), p = mlen + i
            var dot: Float = 0
            for j in range { dot += pr[j] * g[j] }
            for j in 0..<klen { gb[j] = 0 }
            for j in 0..<range.lowerBound { g[j] = 0 }
            for j in (p + 1)..<klen { g[j] = 0 }
            for j in range {
                let ds = pr[j] * (g[j] - dot) * scale
                g[j] = ds
                gb[p - j] = ds  // BD[i, j] = BDraw[i, p - j]
            }
        }
        // AC = (q + rw) k^T
        addBias(qb, q, ldq: ldq, rw, t: t, D: D)
        BLAS.gemm(dk, ldc: ldkv, dp, lda: klen, transA: true, qb, ldb: D, m: klen, n: D, k: t, beta: 1)
        BLAS.gemm(dqb, ldc: D, dp, lda: klen, k, ldb: ldkv, m: t, n: D, k: klen)
        accumulate(dq, ldq: ldq, bias: drw, dqb, t: t, D: D)
        // BDraw = (q + rr) R^T
        addBias(qb, q, ldq: ldq, rr, t: t, D: D)
        BLAS.gemm(dr, ldc: ldr, dbd, lda: klen, transA: true, qb, ldb: D, m: klen, n: D, k: t, beta: 1)
        BLAS.gemm(dqb, ldc: D, dbd, lda: klen, r, ldb: ldr, m: t, n: D, k: klen)
        accumulate(dq, ldq: ldq, bias: drr, dqb, t: t, D: D)
    }

    @inline(__always)
    static func addBias(
        _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, ldq: Int, _ bias: UnsafePointer<Float>, t: Int,
        D: Int
    ) {
        for i in 0..<t {
            let o = out + i * D, x = q + i * ldq
            for d in 0..<D { o[d] = x[d] + bias[d] }
        }
    }

    /// out = (q + bias) * scale, [t, D].
    @inline(__always)
    static func addBias(
        _ out: UnsafeMutablePointer<Float>, _ q: UnsafePointer<Float>, ldq: Int, _ bias: UnsafePointer<Float>, t: Int,
        D: Int, scale: Float
    ) {
        for i in 0..<t {
            let o = out + i * D, x = q + i * ldq
            for d in 0..<D { o[d] = (x[d] + bias[d]) * scale }
        }
    }

    @inline(__always)
    static func accumulate(
        _ dq: UnsafeMutablePointer<Float>, ldq: Int, bias: UnsafeMutablePointer<Float>, _ g: UnsafePointer<Float>,
        t: Int, D: Int
    ) {
        for i in 0..<t {
            let o = dq + i * ldq, x = g + i * D
            for d in 0..<D { o[d] += x[d]; bias[d] += x[d] }
        }
    }
}
