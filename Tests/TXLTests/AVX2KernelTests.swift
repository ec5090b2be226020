// The AVX2 kernels (kernels.c) against OpenBLAS and naive twins: packed products on odd shapes, one head of attention
// on every masking case, and whole inference runs with and without them. Skipped where the processor lacks AVX2.
import Foundation
import TXL
import Testing

@Suite(.enabled(if: Kernels.available, "the processor has no AVX2 and FMA")) struct AVX2KernelTests {
    /// out = a W^T (+ out) through packed W, for every column range a worker may take, against the naive product.
    @Test func packedGemmMatchesNaive() {
        var r = Rand(41)
        for (m, n, k) in [(1, 1, 1), (5, 15, 3), (6, 16, 64), (7, 17, 65), (13, 40, 257), (128, 48, 300)] {
            let lda = k + 3, ldo = n + 5
            let a = r.floats(m * lda), w = r.floats(n * k)
            var p = [Float](repeating: .nan, count: Kernels.packedFloats(rows: n, columns: k))
            p.withUnsafeMutableBufferPointer { Kernels.pack($0.baseAddress!, w, ldw: k, rows: n, columns: k) }
            for accumulate in [false, true] {
                for cols in [0..<n, 0..<min(n, 16), min(n, 16)..<n, (n / 32 * 16)..<n] where cols.lowerBound % 16 == 0 {
                    let c0 = r.floats(m * ldo)
                    var got = c0, want = c0
                    got.withUnsafeMutableBufferPointer { c in
                        Kernels.gemm(
                            c.baseAddress!, ldo: ldo, a, lda: lda, packed: p, columns: cols, m: m, k: k,
                            accumulate: accumulate)
                    }
                    if !cols.isEmpty {
                        want.withUnsafeMutableBufferPointer { c in
                            w.withUnsafeBufferPointer { wb in
                                BLAS.naiveGemm(
                                    c.baseAddress! + cols.lowerBound, ldc: ldo, a, lda: lda,
                                    wb.baseAddress! + cols.lowerBound * k, ldb: k, transB: true, m: m, n: cols.count,
                                    k: k,
                                    beta: accumulate ? 1 : 0)
                            }
                        }
                    }
                    assertClose(got, want, tol: 2e-5, "\(m)x\(n)x\(k) columns \(cols) accumulate \(accumulate)")
                }
            }
        }
    }

    /// The feed-forward's first product with its bias and ReLU fused into the stores: bit for bit the product, then
    /// VectorMath.addBiasReLU, on odd shapes, column ranges, a depth split in two blocks (k > 256), and a NaN input.
    @Test func fusedBiasReLUMatchesTwoPasses() {
        var r = Rand(44)
        for (m, n, k) in [(1, 1, 1), (7, 17, 65), (13, 40, 257), (128, 64, 256), (20, 33, 0)] {
            let lda = max(k, 1), n16 = (n + 15) / 16 * 16
            var a = r.floats(m * lda)
            if m * k > 5 { a[5] = .nan }
            let w = r.floats(n * k), bias = r.floats(n16)
            var p = [Float](repeating: .nan, count: Kernels.packedFloats(rows: n, columns: k))
            p.withUnsafeMutableBufferPointer { Kernels.pack($0.baseAddress!, w, ldw: k, rows: n, columns: k) }
            for cols in [0..<n, min(n, 16)..<n] where cols.lowerBound % 16 == 0 {
                var got = r.floats(m * n), want = got
                got.withUnsafeMutableBufferPointer {
                    Kernels.gemm(
                        $0.baseAddress!, ldo: n, a, lda: lda, packed: p, columns: cols, m: m, k: k, reluBias: bias)
                }
                want.withUnsafeMutableBufferPointer { c in
                    Kernels.gemm(c.baseAddress!, ldo: n, a, lda: lda, packed: p, columns: cols, m: m, k: k)
                    bias.withUnsafeBufferPointer { b in
                        for i in 0..<m where !cols.isEmpty {
                            VectorMath.addBiasReLU(
                                c.baseAddress! + i * n + cols.lowerBound, b.baseAddress! + cols.lowerBound, N: 1,
                                O: cols.count)
                        }
                    }
                }
                #expect(
                    got.map(\.bitPattern) == want.map(\.bitPattern), "\(m)x\(n)x\(k) columns \(cols): not bit for bit")
                if m * k > 5 && !cols.isEmpty { #expect(got[cols.lowerBound].isNaN, "\(m)x\(n)x\(k): NaN lost") }
            }
        }
    }

    /// One head against RelativeAttention.inferenceForward (OpenBLAS): with and without memory, a window, a
    /// position table longer than the keys (memory not yet full), a window wider than the memory (the first queries
    /// see from key 0, the others less), widths that are and are not multiples of 16.
    @Test func attentionHeadMatchesOpenBLAS() {
        var r = Rand(42)
        for (t, mlen, D, window, extra) in [
            (1, 0, 8, 0, 0), (5, 0, 16, 0, 3), (7, 3, 20, 0, 0), (13, 17, 64, 0, 9), (13, 17, 64, 10, 0),
            (32, 40, 64, 40, 16), (128, 512, 64, 0, 0), (24, 30, 5, 24, 7), (20, 5, 16, 12, 2), (30, 0, 32, 9, 0),
        ] {
            let klen = mlen + t, cap = klen + extra, ldkv = 2 * D + 3, ldo = D + 2, ldq = D + 1
            let q = r.floats(t * ldq), kv = r.floats(klen * ldkv), rw = r.floats(D, 0.5), rr = r.floats(D, 0.5)
            let rRev = r.floats(cap * D)  // row c: distance cap - 1 - c
            let scale = 1 / Float(D).squareRoot()
            // OpenBLAS: the table's last klen rows.
            var wantVec = [Float](repeating: 0, count: t * ldo)
            var scores = [Float](repeating: 0, count: t * (klen + 1)), qb = [Float](repeating: 0, count: t * D)
            var wantProbs: [Float] = []
            wantVec.withUnsafeMutableBufferPointer { v in
                scores.withUnsafeMutableBufferPointer { s in
                    qb.withUnsafeMutableBufferPointer { b in
                        kv.withUnsafeBufferPointer { kvb in
                            rRev.withUnsafeBufferPointer { rb in
                                let p = RelativeAttention.inferenceForward(
                                    v.baseAddress!, ldo: ldo, scores: s.baseAddress!, qb: b.baseAddress!, q: q,
                                    ldq: ldq,
                                    k: kvb.baseAddress!, v: kvb.baseAddress! + D, ldkv: ldkv,
                                    rReversed: rb.baseAddress! + (cap - klen) * D, ldr: D, rw: rw, rr: rr, t: t,
                                    mlen: mlen, D: D, window: window, scale: scale)
                                wantProbs = Array(UnsafeBufferPointer(start: p, count: t * klen))
                            }
                        }
                    }
                }
            }
            // The kernel: (q + u) scale, (q + v) scale, the table packed whole.
            var qw = [Float](repeating: 0, count: t * D), qr = qw
            for i in 0..<t {
                for d in 0..<D {
                    qw[i * D + d] = (q[i * ldq + d] + rw[d]) * scale; qr[i * D + d] = (q[i * ldq + d] + rr[d]) * scale
                }
            }
            var rp = [Float](repeating: .nan, count: Kernels.packedFloats(rows: cap, columns: D))
            rp.withUnsafeMutableBufferPointer { Kernels.pack($0.baseAddress!, rRev, ldw: D, rows: cap, columns: D) }
            var vecs: [[Float]] = []
            for keepProbs in [true, false] {
                var vec = [Float](repeating: 0, count: t * ldo)
                var probs = [Float](repeating: .nan, count: t * klen)
                var scratch = [Float](repeating: .nan, count: Kernels.attentionScratch(t: t, keys: klen, D: D))
                vec.withUnsafeMutableBufferPointer { v in
                    probs.withUnsafeMutableBufferPointer { p in
                        scratch.withUnsafeMutableBufferPointer { s in
                            kv.withUnsafeBufferPointer { kvb in
                                Kernels.relativeAttention(
                                    v.baseAddress!, ldo: ldo, probs: keepProbs ? p.baseAddress! : nil,
                                    scratch: s.baseAddress!, qw: qw, qr: qr, k: kvb.baseAddress!,
                                    v: kvb.baseAddress! + D, ldkv: ldkv, rPacked: rp, distances: cap, t: t, mlen: mlen,
                                    D: D, window: window)
                            }
                        }
                    }
                }
                let what = "t \(t) mlen \(mlen) D \(D) window \(window) table +\(extra) probabilities kept \(keepProbs)"
                for i in 0..<t {
                    assertClose(
                        Array(vec[(i * ldo)..<(i * ldo + D)]), Array(wantVec[(i * ldo)..<(i * ldo + D)]), tol: 2e-5,
                        "\(what): output row \(i)")
                }
                if keepProbs {
                    assertClose(probs, wantProbs, tol: 2e-6, "\(what): probabilities")
                } else {
                    #expect(!probs.contains { !$0.isNaN }, "\(what): probabilities not asked for are not written")
                }
                vecs.append(vec)
            }
            #expect(vecs[0] == vecs[1], "output bit for bit the same whether the probabilities are kept or not")
        }
    }

    /// Whole runs, with and without the kernels: log-probs, attention captures and distance profiles, over segments
    /// that fill, slide and partly fill the memory (the last one short), batch 1 and 3, 1 and 2 threads, the dense
    /// products on packed weights and (as for large layers) on OpenBLAS.
    @Test func inferenceWithKernelsMatchesOpenBLAS() throws {
        var r = Rand(43)
        let text = r.bytes(3 * 61 + 1)
        for (sameLength, clamp, pre, memory, threads, batch, columns) in [
            (false, -1, false, [16, 0, 40], 2, 1, false), (true, 6, true, [16, 24, 40], 2, 3, false),
            (false, -1, false, [5, 33, 8], 1, 3, false), (false, -1, false, [16, 0, 40], 2, 1, true),
            (true, 6, true, [16, 24, 40], 2, 3, true),
        ] {
            let saved = Inference.threads
            Inference.threads = threads
            defer { Inference.threads = saved }
            let m = tinyModel(
                layers: 3, heads: 2, dModel: 24, dHead: 16, dInner: 40, segment: 16, sameLength: sameLength,
                clamp: clamp, preLnorm: pre)
            let o = RunOptions(config: m.config, memory: memory)
            let k = try Inference(
                model: m, batch: batch, segment: 16, options: o, kernels: true, packLimit: columns ? 0 : 1 << 30)
            let b = try Inference(model: m, batch: batch, segment: 16, options: o, kernels: false)
            #expect(k.usesKernels && !b.usesKernels)
            let L = text.count / batch
            var pos = 0
            while pos < L - 1 {
                let n = min(16, L - 1 - pos)
                let rows = (0..<batch).map { s in s * L + pos }
                let inputs = rows.flatMap { Array(text[$0..<($0 + n)]) }
                let targets = rows.flatMap { Array(text[($0 + 1)...($0 + n)]) }
                let x = k.step(inputs: inputs, targets: targets, capture: [0, 2], profile: [1])
                let y = b.step(inputs: inputs, targets: targets, capture: [0, 2], profile: [1])
                let what = "same-length \(sameLength) memory \(memory) batch \(batch) columns \(columns) at \(pos)"
                assertClose(x.logProbs, y.logProbs, tol: 2e-5, "\(what): log-probs")
                for (a, c) in zip(x.attention, y.attention) {
                    assertClose(a.probabilities, c.probabilities, tol: 1e-5, "\(what): layer \(a.layer) attention")
                }
                for (a, c) in zip(x.distances, y.distances) {
                    assertClose(a.mass.map { Float($0) }, c.mass.map { Float($0) }, tol: 1e-4, "\(what): profile")
                }
                pos += n
            }
        }
    }
}

@Suite struct MemorySlackTests {
    /// Appends and trims over many segments of varying length, including the moves back to the front, keep exactly
    /// the last M rows of each stream in order; snapshots taken on the way stay as they were.
    @Test func memoryKeepsTheLastRowsAcrossMoves() {
        var r = Rand(44)
        let limits = [0, 3, 10, 25], width = 2, batch = 2, segment = 7
        var memory = Memory(limits: limits, batch: batch, width: width, segment: segment)
        var want = Array(repeating: Array(repeating: [Float](), count: batch), count: limits.count)
        var snapshot: (Memory, [[[Float]]])?
        for step in 0..<40 {
            let t = 1 + Int(r.next() % UInt64(segment))
            for l in limits.indices {
                let x = r.floats(batch * t * width)
                memory.append(layer: l, x, t: t)
                memory.trim(layer: l, appended: t)
                for b in 0..<batch {
                    want[l][b] += x[(b * t * width)..<((b + 1) * t * width)]
                    want[l][b] = Array(want[l][b].suffix(limits[l] * width))
                }
            }
            if step == 17 { snapshot = (memory, want) }
        }
        func rows(_ m: Memory, _ l: Int, _ b: Int) -> [Float] {
            Array(UnsafeBufferPointer(start: m.row(l, stream: b, 0), count: m.lengths[l] * width))
        }
        for l in limits.indices {
            for b in 0..<batch { #expect(rows(memory, l, b) == want[l][b], "layer \(l) stream \(b)") }
        }
        if let (m, w) = snapshot {
            for l in limits.indices {
                for b in 0..<batch { #expect(rows(m, l, b) == w[l][b], "snapshot layer \(l) stream \(b)") }
            }
        }
    }
}

extension AVX2KernelTests {
    /// Scores that overflow (huge queries and keys) give NaN probabilities and outputs, as OpenBLAS's path does:
    /// never a finite number made up by the exp's clamping.
    @Test func overflowingScoresStayNonFinite() {
        let t = 4, mlen = 4, D = 16, klen = mlen + t
        var r = Rand(45)
        // Every score overflows to +inf: the softmax's max is inf, and inf - inf is NaN.
        let kv = [Float](repeating: 1e30, count: klen * 2 * D), rRev = r.floats(klen * D)
        let qw = [Float](repeating: 1e30, count: t * D), qr = r.floats(t * D)
        var rp = [Float](repeating: 0, count: Kernels.packedFloats(rows: klen, columns: D))
        rp.withUnsafeMutableBufferPointer { Kernels.pack($0.baseAddress!, rRev, ldw: D, rows: klen, columns: D) }
        var vec = [Float](repeating: 0, count: t * D), probs = [Float](repeating: 0, count: t * klen)
        var scratch = [Float](repeating: 0, count: Kernels.attentionScratch(t: t, keys: klen, D: D))
        kv.withUnsafeBufferPointer { kvb in
            Kernels.relativeAttention(
                &vec, ldo: D, probs: &probs, scratch: &scratch, qw: qw, qr: qr, k: kvb.baseAddress!,
                v: kvb.baseAddress! + D, ldkv: 2 * D, rPacked: rp, distances: klen, t: t, mlen: mlen, D: D, window: 0)
        }
        #expect(probs.contains { $0.isNaN } && vec.contains { $0.isNaN })
    }
}
