// The training forward pass with saved activations, and its backward pass, for the whole model
// (reference: MemTransformerLM.forward in train mode; llm.c gpt2_forward / gpt2_backward).
// Layout: rows are batch-major, [B, t, C]; layer l sees klen = mlen_l + t keys, memory rows first.
import Foundation
import TXL

public final class TrainingPass: @unchecked Sendable {
    public let model: TransformerXL
    public let grads: ParameterStore
    public let batch: Int
    public let segment: Int
    public let memoryLimits: [Int]
    public let dropout: Float
    public let dropatt: Float
    public var memory: Memory
    public var rng: Random

    // Saved activations of one layer, sized for t = segment and klen = M_l + segment.
    struct Acts {
        let cat, catn: UnsafeMutablePointer<Float>      // [B, klen, C] layer input with memory; normalised (pre-LN)
        let ln1Mean, ln1Rstd: UnsafeMutablePointer<Float>  // [B*klen] (pre-LN) or [B*t] (post-LN)
        let q, kv: UnsafeMutablePointer<Float>          // [B, t, A], [B, klen, 2A]
        let r: UnsafeMutablePointer<Float>              // [klen, A] position projections by distance
        let probs, attMask: UnsafeMutablePointer<Float> // [B, H, t, klen]
        let vec: UnsafeMutablePointer<Float>            // [B, t, A]
        let attnOut, attnMask: UnsafeMutablePointer<Float>  // [B, t, C] dropped o_net output, its dropout mask
        let z1, h1: UnsafeMutablePointer<Float>         // [B, t, C] residual sum before LN1 (post-LN); block output
        let hn, ln2Mean, ln2Rstd: UnsafeMutablePointer<Float>  // [B, t, C] LN2(h1) (pre-LN); [B*t]
        let a, u, ffMask: UnsafeMutablePointer<Float>   // [B, t, F] relu output, dropped, mask
        let ff2Mask, z2, out: UnsafeMutablePointer<Float>  // [B, t, C]
        var mlen = 0
    }

    var acts: [Acts]
    let pos, posMask: UnsafeMutablePointer<Float>       // [maxK, C] position embedding by distance (dropped in training)
    let x0, embMask, xf, finalMask, logits, logprob: UnsafeMutablePointer<Float>
    // Backward scratch.
    let dx, dh, dt2, dq, dkv, dr, dvec, dcat, dsrc, da: UnsafeMutablePointer<Float>
    let sp, sb, sq, sdq: UnsafeMutablePointer<Float>    // per-head scratch [t, klen] x2, [t, D] x2
    var inputs: [UInt8] = [], targets: [UInt8] = []
    var t = 0
    private var blocks: [UnsafeMutableBufferPointer<Float>] = []

    public init(model: TransformerXL, grads: ParameterStore, batch: Int, segment: Int, memory: [Int],
                dropout: Float = 0, dropatt: Float = 0, seed: UInt64 = 1) throws {
        let c = model.config
        try MemorySpec.check(memory, layers: c.nLayer, what: "memory")
        guard (0..<1).contains(dropout), (0..<1).contains(dropatt) else {
            throw ModelError.badInput("dropout \(dropout) / dropatt \(dropatt) must be in [0, 1)")
        }
        self.model = model; self.grads = grads; self.batch = batch; self.segment = segment
        self.memoryLimits = memory; self.dropout = dropout; self.dropatt = dropatt
        self.memory = Memory(limits: memory, batch: batch, width: c.dModel)
        self.rng = Random(seed: seed)
        let B = batch, T = segment, C = c.dModel, A = c.dAttn, F = c.dInner, H = c.nHead, D = c.dHead, V = c.nToken
        let maxK = (memory.max() ?? 0) + T
        var blocks: [UnsafeMutableBufferPointer<Float>] = []
        func alloc(_ n: Int) -> UnsafeMutablePointer<Float> {
            let b = UnsafeMutableBufferPointer<Float>.allocate(capacity: max(n, 1)); b.initialize(repeating: 0)
            blocks.append(b); return b.baseAddress!
        }
        acts = memory.map { M in
            let K = M + T
            return Acts(cat: alloc(B * K * C), catn: alloc(c.preLnorm ? B * K * C : 0),
                        ln1Mean: alloc(B * K), ln1Rstd: alloc(B * K), q: alloc(B * T * A), kv: alloc(B * K * 2 * A),
                        r: alloc(K * A), probs: alloc(B * H * T * K), attMask: alloc(dropatt > 0 ? B * H * T * K : 0),
                        vec: alloc(B * T * A), attnOut: alloc(B * T * C), attnMask: alloc(dropout > 0 ? B * T * C : 0),
                        z1: alloc(B * T * C), h1: alloc(B * T * C), hn: alloc(c.preLnorm ? B * T * C : 0),
                        ln2Mean: alloc(B * T), ln2Rstd: alloc(B * T), a: alloc(B * T * F), u: alloc(dropout > 0 ? B * T * F : 0),
                        ffMask: alloc(dropout > 0 ? B * T * F : 0), ff2Mask: alloc(dropout > 0 ? B * T * C : 0),
                        z2: alloc(B * T * C), out: alloc(B * T * C))
        }
        pos = alloc(maxK * C); posMask = alloc(dropout > 0 ? maxK * C : 0)
        x0 = alloc(B * T * C); embMask = alloc(dropout > 0 ? B * T * C : 0); xf = alloc(B * T * C)
        finalMask = alloc(dropout > 0 ? B * T * C : 0); logits = alloc(B * T * V); logprob = alloc(B * T)
        dx = alloc(B * T * C); dh = alloc(B * T * C); dt2 = alloc(B * T * C); dq = alloc(B * T * A)
        dkv = alloc(B * maxK * 2 * A); dr = alloc(maxK * A); dvec = alloc(B * T * A); dcat = alloc(B * maxK * C)
        dsrc = alloc(c.preLnorm ? B * maxK * C : 0)
        da = alloc(B * T * F)
        sp = alloc(T * maxK); sb = alloc(T * maxK); sq = alloc(T * D); sdq = alloc(T * D)
        self.blocks = blocks
    }

    deinit { for b in blocks { b.deallocate() } }

    /// Fills mask[n] with 0 (probability p) or 1/(1-p) and multiplies x by it.
    func dropoutForward(_ x: UnsafeMutablePointer<Float>, mask: UnsafeMutablePointer<Float>, count n: Int, p: Float) {
        let keep = 1 / (1 - p)
        for i in 0..<n {
            let m: Float = rng.uniform() < p ? 0 : keep
            mask[i] = m
            x[i] *= m
        }
    }

    /// Runs one segment [B, t] (batch-major inputs and targets); returns the mean NLL in nats.
    /// `training` turns dropout on. Memories advance; activations are kept for `backward()`.
    @discardableResult
    public func forward(inputs: [UInt8], targets: [UInt8], training: Bool) -> Float {
        let c = model.config, w = model.weights
        let B = batch, t = inputs.count / batch, N = B * t
        precondition(t >= 1 && t <= segment && inputs.count == N && targets.count == N, "forward: bad segment shape")
        self.inputs = inputs; self.targets = targets; self.t = t
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner, V = c.nToken
        let scale = 1 / Float(D).squareRoot(), eps = c.layerNormEps
        let p = training ? dropout : 0, pa = training ? dropatt : 0

        // word_emb * sqrt(d_model), then drop
        let embScale = Float(C).squareRoot()
        for n in 0..<N {
            let e = w.emb + Int(inputs[n]) * C, y = x0 + n * C
            for i in 0..<C { y[i] = e[i] * embScale }
        }
        if p > 0 { dropoutForward(x0, mask: embMask, count: N * C, p: p) }
        let maxK = (0..<c.nLayer).map { memory.lengths[$0] + t }.max()!
        PositionalEncoding.table(pos, distances: maxK, C: C, clampLen: c.clampLen)
        if p > 0 { dropoutForward(pos, mask: posMask, count: maxK * C, p: p) }  // the reference drops pos_emb too

        var x: UnsafeMutablePointer<Float> = x0
        for l in 0..<c.nLayer {
            let lw = w.layers[l]
            var s = acts[l]
            let mlen = memory.lengths[l], klen = mlen + t
            s.mlen = mlen
            acts[l] = s
            // cat = [memory; x], per stream
            memory.states[l].withUnsafeBufferPointer { m in
                for b in 0..<B {
                    (s.cat + b * klen * C).update(from: m.baseAddress! + b * memoryLimits[l] * C, count: mlen * C)
                    (s.cat + (b * klen + mlen) * C).update(from: x + b * t * C, count: t * C)
                }
            }
            memory.update(layer: l, from: s.cat, klen: klen)
            let src: UnsafeMutablePointer<Float>
            if c.preLnorm {
                LayerNorm.forward(s.catn, mean: s.ln1Mean, rstd: s.ln1Rstd, s.cat, lw.ln1w, lw.ln1b, N: B * klen, C: C, eps: eps)
                src = s.catn
            } else {
                src = s.cat
            }
            // q from the segment rows, k and v from all klen rows: qkv_net = [Wq; Wk; Wv]
            for b in 0..<B {
                Linear.forward(s.q + b * t * A, src + (b * klen + mlen) * C, lw.qkv, nil, N: t, I: C, O: A)
            }
            Linear.forward(s.kv, src, lw.qkv + A * C, nil, N: B * klen, I: C, O: 2 * A)
            Linear.forward(s.r, pos, lw.r, nil, N: klen, I: C, O: A)
            if pa > 0 {
                let n = B * H * t * klen, keep = 1 / (1 - pa)
                for i in 0..<n { s.attMask[i] = rng.uniform() < pa ? 0 : keep }
            }
            for b in 0..<B {
                for h in 0..<H {
                    let pr = s.probs + (b * H + h) * t * klen
                    RelativeAttention.forward(s.vec + b * t * A + h * D, ldo: A, probs: pr, bd: sb, qb: sq,
                                              q: s.q + b * t * A + h * D, ldq: A,
                                              k: s.kv + b * klen * 2 * A + h * D, v: s.kv + b * klen * 2 * A + A + h * D, ldkv: 2 * A,
                                              r: s.r + h * D, ldr: A, rw: w.rwBias + h * D, rr: w.rrBias + h * D,
                                              t: t, mlen: mlen, D: D, window: c.sameLength ? memoryLimits[l] : 0, scale: scale,
                                              dropMask: pa > 0 ? s.attMask + (b * H + h) * t * klen : nil)
                }
            }
            Linear.forward(s.attnOut, s.vec, lw.o, nil, N: N, I: A, O: C)
            if p > 0 { dropoutForward(s.attnOut, mask: s.attnMask, count: N * C, p: p) }
            if c.preLnorm {
                for i in 0..<(N * C) { s.h1[i] = x[i] + s.attnOut[i] }
                LayerNorm.forward(s.hn, mean: s.ln2Mean, rstd: s.ln2Rstd, s.h1, lw.ln2w, lw.ln2b, N: N, C: C, eps: eps)
            } else {
                for i in 0..<(N * C) { s.z1[i] = x[i] + s.attnOut[i] }
                LayerNorm.forward(s.h1, mean: s.ln1Mean, rstd: s.ln1Rstd, s.z1, lw.ln1w, lw.ln1b, N: N, C: C, eps: eps)
            }
            // CoreNet: Linear, ReLU, Dropout, Linear, Dropout
            Linear.forward(s.a, c.preLnorm ? s.hn : s.h1, lw.ff1w, lw.ff1b, N: N, I: C, O: F)
            ReLU.forward(s.a, count: N * F)
            var u = s.a
            if p > 0 {
                s.u.update(from: s.a, count: N * F)
                dropoutForward(s.u, mask: s.ffMask, count: N * F, p: p)
                u = s.u
            }
            Linear.forward(s.z2, u, lw.ff2w, lw.ff2b, N: N, I: F, O: C)
            if p > 0 { dropoutForward(s.z2, mask: s.ff2Mask, count: N * C, p: p) }
            if c.preLnorm {
                for i in 0..<(N * C) { s.out[i] = s.h1[i] + s.z2[i] }
            } else {
                for i in 0..<(N * C) { s.z2[i] += s.h1[i] }
                LayerNorm.forward(s.out, mean: s.ln2Mean, rstd: s.ln2Rstd, s.z2, lw.ln2w, lw.ln2b, N: N, C: C, eps: eps)
            }
            x = s.out
        }
        xf.update(from: x, count: N * C)
        if p > 0 { dropoutForward(xf, mask: finalMask, count: N * C, p: p) }
        Linear.forward(logits, xf, w.emb, w.outBias, N: N, I: C, O: V)
        targets.withUnsafeBufferPointer { tg in
            Output.logSoftmax(logprob, logits: logits, targets: tg.baseAddress!, N: N, V: V, keepProbs: true)
        }
        var loss: Double = 0
        for n in 0..<N { loss -= Double(logprob[n]) }
        return Float(loss / Double(N))
    }

    /// Log-probabilities of the targets of the last forward, batch-major [B, t].
    public var lastLogProbs: [Float] { Array(UnsafeBufferPointer(start: logprob, count: batch * t)) }

    /// d(mean NLL of the last forward)/d(parameters), accumulated into `grads` (the caller zeroes them).
    public func backward() {
        let c = model.config, w = model.weights, g = Weights(grads, layers: c.nLayer)
        let B = batch, t = self.t, N = B * t
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, F = c.dInner, V = c.nToken
        let scale = 1 / Float(D).squareRoot()
        let p = dropout > 0, pa = dropatt > 0

        // logits = xf emb^T + bias; loss = mean NLL
        targets.withUnsafeBufferPointer { tg in
            Output.crossEntropyBackward(logits, targets: tg.baseAddress!, N: N, V: V, scale: 1 / Float(N))
        }
        dx.update(repeating: 0, count: N * C)
        Linear.backward(dinp: dx, dweight: g.emb, dbias: g.outBias, logits, xf, w.emb, N: N, I: C, O: V)
        if p { for i in 0..<(N * C) { dx[i] *= finalMask[i] } }

        for l in stride(from: c.nLayer - 1, through: 0, by: -1) {
            let lw = w.layers[l], gw = g.layers[l], s = acts[l]
            let mlen = s.mlen, klen = mlen + t
            // dx holds d(out). dh := d(h1).
            if c.preLnorm {
                // out = h1 + drop(ff2(drop(relu(ff1(LN2(h1))))))
                dh.update(from: dx, count: N * C)
                dt2.update(from: dx, count: N * C)
                if p { for i in 0..<(N * C) { dt2[i] *= s.ff2Mask[i] } }
            } else {
                // out = LN2(z2), z2 = h1 + drop(ff2(...))
                dt2.update(repeating: 0, count: N * C)
                LayerNorm.backward(dinp: dt2, dweight: gw.ln2w, dbias: gw.ln2b, dx, s.z2, lw.ln2w, mean: s.ln2Mean, rstd: s.ln2Rstd, N: N, C: C)
                dh.update(from: dt2, count: N * C)
                if p { for i in 0..<(N * C) { dt2[i] *= s.ff2Mask[i] } }
            }
            da.update(repeating: 0, count: N * F)
            Linear.backward(dinp: da, dweight: gw.ff2w, dbias: gw.ff2b, dt2, p ? s.u : s.a, lw.ff2w, N: N, I: F, O: C)
            if p { for i in 0..<(N * F) { da[i] *= s.ffMask[i] } }
            ReLU.backward(da, out: s.a, count: N * F)
            if c.preLnorm {
                dt2.update(repeating: 0, count: N * C)
                Linear.backward(dinp: dt2, dweight: gw.ff1w, dbias: gw.ff1b, da, s.hn, lw.ff1w, N: N, I: C, O: F)
                LayerNorm.backward(dinp: dh, dweight: gw.ln2w, dbias: gw.ln2b, dt2, s.h1, lw.ln2w, mean: s.ln2Mean, rstd: s.ln2Rstd, N: N, C: C)
                // h1 = x + drop(o_net(vec)): dx gets dh, the attention output gets dh
                dx.update(from: dh, count: N * C)
                dt2.update(from: dh, count: N * C)
            } else {
                Linear.backward(dinp: dh, dweight: gw.ff1w, dbias: gw.ff1b, da, s.h1, lw.ff1w, N: N, I: C, O: F)
                // h1 = LN1(z1), z1 = x + drop(o_net(vec))
                dt2.update(repeating: 0, count: N * C)
                LayerNorm.backward(dinp: dt2, dweight: gw.ln1w, dbias: gw.ln1b, dh, s.z1, lw.ln1w, mean: s.ln1Mean, rstd: s.ln1Rstd, N: N, C: C)
                dx.update(from: dt2, count: N * C)
            }
            if p { for i in 0..<(N * C) { dt2[i] *= s.attnMask[i] } }
            dvec.update(repeating: 0, count: N * A)
            Linear.backward(dinp: dvec, dweight: gw.o, dbias: nil, dt2, s.vec, lw.o, N: N, I: A, O: C)

            // Attention heads.
            dq.update(repeating: 0, count: N * A)
            dkv.update(repeating: 0, count: B * klen * 2 * A)
            dr.update(repeating: 0, count: klen * A)
            for b in 0..<B {
                for h in 0..<H {
                    RelativeAttention.backward(dq: dq + b * t * A + h * D, ldq: A,
                                               dk: dkv + b * klen * 2 * A + h * D, dv: dkv + b * klen * 2 * A + A + h * D,
                                               dr: dr + h * D, ldr: A, drw: g.rwBias + h * D, drr: g.rrBias + h * D,
                                               dp: sp, dbd: sb, qb: sq, dqb: sdq, dvec + b * t * A + h * D, ldo: A,
                                               probs: s.probs + (b * H + h) * t * klen,
                                               q: s.q + b * t * A + h * D, k: s.kv + b * klen * 2 * A + h * D,
                                               v: s.kv + b * klen * 2 * A + A + h * D, ldkv: 2 * A,
                                               r: s.r + h * D, rw: w.rwBias + h * D, rr: w.rrBias + h * D,
                                               t: t, mlen: mlen, D: D, window: c.sameLength ? memoryLimits[l] : 0, scale: scale,
                                               dropMask: pa ? s.attMask + (b * H + h) * t * klen : nil)
                }
            }
            // r = pos W_r^T
            Linear.backward(dinp: nil, dweight: gw.r, dbias: nil, dr, pos, lw.r, N: klen, I: C, O: A)
            // q = src[segment] W_q^T, kv = src W_kv^T; memory rows get no gradient (stop-gradient) but their
            // normalisation's weights do in pre-LN.
            let src = c.preLnorm ? s.catn : s.cat
            Linear.backward(dinp: nil, dweight: gw.qkv + A * C, dbias: nil, dkv, src, lw.qkv + A * C, N: B * klen, I: C, O: 2 * A)
            if c.preLnorm {
                dcat.update(repeating: 0, count: B * klen * C)
                BLAS.gemm(dcat, ldc: C, dkv, lda: 2 * A, lw.qkv + A * C, ldb: C, m: B * klen, n: C, k: 2 * A)
                for b in 0..<B {
                    Linear.backward(dinp: dcat + (b * klen + mlen) * C, dweight: gw.qkv, dbias: nil, dq + b * t * A,
                                    src + (b * klen + mlen) * C, lw.qkv, N: t, I: C, O: A)
                }
                // LN1 over all klen rows; its input gradient on memory rows is dropped.
                dsrc.update(repeating: 0, count: B * klen * C)
                LayerNorm.backward(dinp: dsrc, dweight: gw.ln1w, dbias: gw.ln1b, dcat, s.cat, lw.ln1w, mean: s.ln1Mean, rstd: s.ln1Rstd, N: B * klen, C: C)
                for b in 0..<B {
                    let d = dx + b * t * C, e = dsrc + (b * klen + mlen) * C
                    for i in 0..<(t * C) { d[i] += e[i] }
                }
            } else {
                for b in 0..<B {
                    let dxb = dx + b * t * C
                    BLAS.gemm(dxb, ldc: C, dkv + (b * klen + mlen) * 2 * A, lda: 2 * A, lw.qkv + A * C, ldb: C, m: t, n: C, k: 2 * A, beta: 1)
                    Linear.backward(dinp: dxb, dweight: gw.qkv, dbias: nil, dq + b * t * A, src + (b * klen + mlen) * C, lw.qkv, N: t, I: C, O: A)
                }
            }
        }
        // x0 = drop(emb[input] * sqrt(C))
        if p { for i in 0..<(N * C) { dx[i] *= embMask[i] } }
        let embScale = Float(C).squareRoot()
        for n in 0..<N {
            let ge = g.emb + Int(inputs[n]) * C, d = dx + n * C
            for i in 0..<C { ge[i] += d[i] * embScale }
        }
    }
}
