// Each forward kernel against a naive twin on odd shapes; masks and relative shifts on hand-checked cases.
import Foundation
import TXL
import Testing

@Suite struct KernelTests {
    @Test func gemmMatchesNaiveWithTransposesAndLeadingDims() {
        var r = Rand(1)
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (17, 9, 13), (33, 65, 31)] {
            for transA in [false, true] {
                for transB in [false, true] {
                    for (alpha, beta) in [(Float(1), Float(0)), (0.5, 1), (-1.5, 0.25)] {
                        let lda = (transA ? m : k) + 3, ldb = (transB ? k : n) + 2, ldc = n + 4
                        let a = r.floats((transA ? k : m) * lda), b = r.floats((transB ? n : k) * ldb)
                        let c0 = r.floats(m * ldc)
                        var c1 = c0, c2 = c0
                        c1.withUnsafeMutableBufferPointer { c in
                            BLAS.gemm(
                                c.baseAddress!, ldc: ldc, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB,
                                m: m, n: n, k: k, alpha: alpha, beta: beta)
                        }
                        c2.withUnsafeMutableBufferPointer { c in
                            BLAS.naiveGemm(
                                c.baseAddress!, ldc: ldc, a, lda: lda, transA: transA, b, ldb: ldb, transB: transB,
                                m: m, n: n, k: k, alpha: alpha, beta: beta)
                        }
                        assertClose(
                            c1, c2, tol: 1e-5,
                            "gemm \(m)x\(n)x\(k) tA \(transA) tB \(transB) alpha \(alpha) beta \(beta)")
                    }
                }
            }
        }
    }

    @Test func layerNormMatchesNaive() {
        var r = Rand(2)
        let N = 7, C = 13
        let x = r.floats(N * C, 3), w = r.floats(C), b = r.floats(C)
        var y = [Float](repeating: 0, count: N * C), mean = [Float](repeating: 0, count: N), rstd = mean
        LayerNorm.forward(&y, mean: &mean, rstd: &rstd, x, w, b, N: N, C: C, eps: 1e-5)
        var want = [Float]()
        for n in 0..<N {
            let row = x[(n * C)..<((n + 1) * C)].map(Double.init)
            let m = row.reduce(0, +) / Double(C)
            let v = row.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(C)
            for i in 0..<C { want.append(Float((row[i] - m) / (v + 1e-5).squareRoot() * Double(w[i]) + Double(b[i]))) }
        }
        assertClose(y, want, tol: 1e-5, "layer norm")
    }

    @Test func vectorExpAndSoftmax() {
        var xs: [Float] = [-87, -50, -10.5, -1, -0.3, 0, 1e-4, 0.7, 3, 10, 42, 88]
        var r = Rand(3)
        xs += r.floats(37, 20)
        for i in stride(from: 0, to: xs.count - 8, by: 8) {
            let v = SIMD8<Float>((0..<8).map { xs[i + $0] })
            let e = VectorMath.exp(v)
            for l in 0..<8 { #expect(abs(e[l] - expf(v[l])) <= 4e-7 * expf(v[l]), "exp(\(v[l]))") }
        }
        for n in [1, 5, 8, 19] {
            var x = r.floats(n, 30)
            let mx = x.max()!
            let z = x.map { Double(expf($0 - mx)) }.reduce(0, +)
            let want = x.map { Float(Double(expf($0 - mx)) / z) }
            VectorMath.softmax(&x, count: n)
            assertClose(x, want, tol: 1e-6, "softmax n \(n)")
        }
    }

    @Test func biasReLUAndResidual() {
        var r = Rand(4)
        let N = 3, O = 11
        let y0 = r.floats(N * O), bias = r.floats(O), res = r.floats(N * O)
        var y = y0
        VectorMath.addBiasReLU(&y, bias, N: N, O: O)
        #expect(y == (0..<(N * O)).map { max(0, y0[$0] + bias[$0 % O]) })
        y = y0
        VectorMath.addBias(&y, bias, residual: res, N: N, O: O)
        #expect(y == (0..<(N * O)).map { (y0[$0] + bias[$0 % O]) + res[$0] })
    }

    @Test func visibleKeys() {
        // Transformer-XL: query i sees all memory and the segment up to itself.
        #expect(RelativeAttention.visible(query: 0, mlen: 0, window: 0) == 0...0)
        #expect(RelativeAttention.visible(query: 2, mlen: 3, window: 0) == 0...5)
        // Same length: exactly the last `window` keys, itself included.
        #expect(RelativeAttention.visible(query: 0, mlen: 3, window: 3) == 1...3)
        #expect(RelativeAttention.visible(query: 2, mlen: 3, window: 3) == 3...5)
        #expect(RelativeAttention.visible(query: 0, mlen: 0, window: 4) == 0...0)
    }

    @Test func positionalEncodingClampsAndHalves() {
        let C = 6, n = 9
        var pe = [Float](repeating: 0, count: n * C), clamped = pe
        PositionalEncoding.table(&pe, distances: n, C: C, clampLen: -1)
        PositionalEncoding.table(&clamped, distances: n, C: C, clampLen: 4)
        #expect(Array(pe[0..<C]) == [0, 0, 0, 1, 1, 1])  // distance 0: sin 0 then cos 0
        #expect(abs(pe[1 * C] - sinf(1)) <= 1e-6)  // distance 1, frequency 1
        for d in 0..<n {
            #expect(Array(clamped[(d * C)..<((d + 1) * C)]) == Array(pe[(min(d, 4) * C)..<((min(d, 4) + 1) * C)]))
        }
    }

    /// The relative shift by hand: with k = 0 and q = 0, scores are rr . R[distance]; R[d] = d gives score = d * scale.
    @Test func relativeShiftByHand() {
        let t = 2, mlen = 1, klen = 3, D = 1
        let q: [Float] = [0, 0], k: [Float] = [0, 0, 0], v: [Float] = [10, 20, 30]
        let R: [Float] = [0, 1, 2], rw: [Float] = [0], rr: [Float] = [1]
        var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
        var bd = probs, qb = [Float](repeating: 0, count: t * D)
        RelativeAttention.forward(
            &vec, ldo: D, probs: &probs, bd: &bd, qb: &qb, q: q, ldq: D, k: k, v: v, ldkv: D,
            r: R, ldr: D, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: 0, scale: 1)
        // Query 0 sits at key 1: keys 0 (distance 1) and 1 (distance 0); key 2 is in its future.
        let z0 = expf(1) + 1
        assertClose(Array(probs[0..<3]), [expf(1) / z0, 1 / z0, 0], tol: 1e-6, "query 0")
        // Query 1 sits at key 2: distances 2, 1, 0.
        let z1 = expf(2) + expf(1) + 1
        assertClose(Array(probs[3..<6]), [expf(2) / z1, expf(1) / z1, 1 / z1], tol: 1e-6, "query 1")
        #expect(abs(vec[0] - (10 * expf(1) + 20) / z0) <= 1e-4)
        // Same length with a window of 2: query 1 drops key 0.
        RelativeAttention.forward(
            &vec, ldo: D, probs: &probs, bd: &bd, qb: &qb, q: q, ldq: D, k: k, v: v, ldkv: D,
            r: R, ldr: D, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: 2, scale: 1)
        assertClose(Array(probs[3..<6]), [0, expf(1) / (expf(1) + 1), 1 / (expf(1) + 1)], tol: 1e-6, "window")
    }

    /// Per element in Double: score(i, j) = ((q_i + u) . k_j + (q_i + v) . R[p - j]) * scale over the visible keys.
    func naiveAttention(
        q: [Float], ldq: Int, k: [Float], v: [Float], ldkv: Int, r: [Float], ldr: Int, rw: [Float], rr: [Float],
        t: Int, mlen: Int, D: Int, window: Int, scale: Float
    ) -> (vec: [Float], probs: [Float]) {
        let klen = mlen + t
        var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
        for i in 0..<t {
            let p = mlen + i, lo = window > 0 ? max(0, p - window + 1) : 0
            var s = [Double](repeating: -.infinity, count: klen)
            for j in lo...p {
                var ac = 0.0, bd = 0.0
                for d in 0..<D {
                    ac += Double(q[i * ldq + d] + rw[d]) * Double(k[j * ldkv + d])
                    bd += Double(q[i * ldq + d] + rr[d]) * Double(r[(p - j) * ldr + d])
                }
                s[j] = (ac + bd) * Double(scale)
            }
            let mx = s.max()!
            let z = s.map { $0 == -.infinity ? 0 : Foundation.exp($0 - mx) }.reduce(0, +)
            for j in 0..<klen where s[j] > -.infinity { probs[i * klen + j] = Float(Foundation.exp(s[j] - mx) / z) }
            for d in 0..<D {
                var acc = 0.0
                for j in 0..<klen { acc += Double(probs[i * klen + j]) * Double(v[j * ldkv + d]) }
                vec[i * D + d] = Float(acc)
            }
        }
        return (vec, probs)
    }

    @Test func relativeAttentionMatchesNaive() {
        var rnd = Rand(5)
        // (t, mlen, D, window): no memory, memory, odd head width, same-length windows shorter and longer than t.
        for (t, mlen, D, window) in [
            (5, 0, 3, 0), (7, 11, 5, 0), (9, 4, 17, 0), (6, 10, 4, 4), (5, 3, 6, 8), (3, 0, 2, 2),
        ] {
            let klen = mlen + t, ldq = 3 * D + 1, ldkv = D + 2, ldr = D + 1
            let q = rnd.floats(t * ldq), k = rnd.floats(klen * ldkv), v = rnd.floats(klen * ldkv)
            let r = rnd.floats(klen * ldr), rw = rnd.floats(D), rr = rnd.floats(D)
            let scale = 1 / Float(D).squareRoot()
            var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
            var bd = probs, qb = [Float](repeating: 0, count: t * D)
            RelativeAttention.forward(
                &vec, ldo: D, probs: &probs, bd: &bd, qb: &qb, q: q, ldq: ldq, k: k, v: v, ldkv: ldkv,
                r: r, ldr: ldr, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: window, scale: scale)
            let want = naiveAttention(
                q: q, ldq: ldq, k: k, v: v, ldkv: ldkv, r: r, ldr: ldr, rw: rw, rr: rr,
                t: t, mlen: mlen, D: D, window: window, scale: scale)
            assertClose(probs, want.probs, tol: 1e-5, "probs t \(t) mlen \(mlen) D \(D) window \(window)")
            assertClose(vec, want.vec, tol: 1e-5, "vec t \(t) mlen \(mlen) D \(D) window \(window)")
        }
    }

    /// Inference's kernel (R by reversed distance, the shift folded into the layout, AC added with beta 1) against
    /// the naive one, with its scratch full of NaN to show that no unwritten entry reaches a visible score.
    @Test func inferenceAttentionMatchesNaive() {
        var rnd = Rand(7)
        for (t, mlen, D, window) in [
            (5, 0, 3, 0), (7, 11, 5, 0), (9, 4, 17, 0), (6, 10, 4, 4), (5, 3, 6, 8), (3, 0, 2, 2), (1, 6, 4, 0),
        ] {
            let klen = mlen + t, ldq = 3 * D + 1, ldkv = D + 2, ldr = D + 1, extra = 3
            let q = rnd.floats(t * ldq), k = rnd.floats(klen * ldkv), v = rnd.floats(klen * ldkv)
            let r = rnd.floats((klen + extra) * ldr), rw = rnd.floats(D), rr = rnd.floats(D)
            // A table longer than klen, reversed: row c holds distance klen + extra - 1 - c.
            var rev = [Float](repeating: 0, count: r.count)
            for c in 0..<(klen + extra) {
                for d in 0..<ldr { rev[c * ldr + d] = r[(klen + extra - 1 - c) * ldr + d] }
            }
            let scale = 1 / Float(D).squareRoot()
            var vec = [Float](repeating: 0, count: t * D), scores = [Float](repeating: .nan, count: t * (klen + 1))
            var qb = [Float](repeating: 0, count: t * D)
            let offset = scores.withUnsafeMutableBufferPointer { s in
                rev.withUnsafeBufferPointer { rv in
                    s.baseAddress!.distance(
                        to: RelativeAttention.inferenceForward(
                            &vec, ldo: D, scores: s.baseAddress!, qb: &qb, q: q, ldq: ldq, k: k, v: v, ldkv: ldkv,
                            rReversed: rv.baseAddress! + extra * ldr, ldr: ldr, rw: rw, rr: rr,
                            t: t, mlen: mlen, D: D, window: window, scale: scale))
                }
            }
            let want = naiveAttention(
                q: q, ldq: ldq, k: k, v: v, ldkv: ldkv, r: r, ldr: ldr, rw: rw, rr: rr,
                t: t, mlen: mlen, D: D, window: window, scale: scale)
            let probs = Array(scores[offset..<(offset + t * klen)])
            assertClose(probs, want.probs, tol: 1e-5, "probs t \(t) mlen \(mlen) D \(D) window \(window)")
            assertClose(vec, want.vec, tol: 1e-5, "vec t \(t) mlen \(mlen) D \(D) window \(window)")
            // By distance: mass[d] sums probs[i, p - d]; memory sums the keys before the segment.
            var mass = [Double](repeating: 0, count: klen)
            let memory = probs.withUnsafeBufferPointer { p in
                RelativeAttention.accumulateDistances(&mass, probs: p.baseAddress!, t: t, mlen: mlen)
            }
            var want2 = [Double](repeating: 0, count: klen), wantMemory = 0.0
            for i in 0..<t {
                for j in 0...(mlen + i) {
                    want2[mlen + i - j] += Double(probs[i * klen + j])
                    if j < mlen { wantMemory += Double(probs[i * klen + j]) }
                }
            }
            for d in 0..<klen { #expect(abs(mass[d] - want2[d]) <= 1e-9) }
            #expect(abs(memory - wantMemory) <= 1e-6)
        }
    }

    @Test func clampedAttentionUsesClampedDistances() {
        // With clamp c, R rows beyond c repeat row c; attention through a clamped table equals the naive one on it.
        let C = 8, cap = 12
        var pe = [Float](repeating: 0, count: cap * C)
        PositionalEncoding.table(&pe, distances: cap, C: C, clampLen: 3)
        var rnd = Rand(6)
        let t = 4, mlen = 8, D = C, klen = mlen + t
        let q = rnd.floats(t * D), k = rnd.floats(klen * D), v = rnd.floats(klen * D), rw = rnd.floats(D),
            rr = rnd.floats(D)
        var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
        var bd = probs, qb = vec
        RelativeAttention.forward(
            &vec, ldo: D, probs: &probs, bd: &bd, qb: &qb, q: q, ldq: D, k: k, v: v, ldkv: D,
            r: pe, ldr: D, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: 0, scale: 0.5)
        let want = naiveAttention(
            q: q, ldq: D, k: k, v: v, ldkv: D, r: pe, ldr: D, rw: rw, rr: rr, t: t, mlen: mlen, D: D, window: 0,
            scale: 0.5)
        assertClose(vec, want.vec, tol: 1e-5, "clamped")
    }
}
