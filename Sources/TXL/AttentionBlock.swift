// The attention block of a Transformer-XL layer, forward and backward side by side (reference:
// RelPartialLearnableMultiHeadAttn.forward, attn_type 0; Dai et al. 2019 §3.3; llm.c attention_forward/_backward).
//   q = src_seg Wq,  [k | v] = src Wkv over [memory; segment],  r = pos Wr,  a = o_net(RelativeAttention(q, k, v, r))
//   post-LN: h = LN1(x + drop(a)), src = [memory; x]          pre-LN: h = x + drop(a), src = LN1([memory; x])
// Inference and training call the same pieces (query, keyValue, RelativeAttention, output). They differ in what
// their `Memory` holds: projected [k | v] rows at inference, input rows in training (see Memory.swift).
import Foundation

public enum AttentionBlock {
    /// q [N, A] = src [N, C] Wq^T.
    public static func query(
        _ q: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ w: LayerWeights,
        N: Int, C: Int, A: Int
    ) {
        Linear.forward(q, src, w.qkv, nil, N: N, I: C, O: A, packed: w.packed?.q)
    }

    /// [k | v] [N, 2A] = src [N, C] Wkv^T.
    public static func keyValue(
        _ kv: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ w: LayerWeights,
        N: Int, C: Int, A: Int
    ) {
        Linear.forward(kv, src, w.qkv + A * C, nil, N: N, I: C, O: 2 * A, packed: w.packed?.kv)
    }

    /// z [N, C] = drop(vec Wo^T); post-LN: z += x, h = LN1(z); pre-LN: h = x + z. h may be x.
    /// mean, rstd (post-LN) and zMask are saved for backward when given; `drop` applies dropout with its mask.
    public static func output(
        _ h: UnsafeMutablePointer<Float>, z: UnsafeMutablePointer<Float>,
        mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
        zMask: UnsafeMutablePointer<Float>?, _ x: UnsafePointer<Float>, _ vec: UnsafePointer<Float>,
        _ w: LayerWeights, N: Int, C: Int, A: Int, preLnorm: Bool, eps: Float, drop: Dropout?
    ) {
        Linear.forward(z, vec, w.o, nil, N: N, I: A, O: C, packed: w.packed?.o)
        if let drop, let zMask { drop(z, zMask, N * C) }
        if preLnorm {
            if h != UnsafeMutablePointer(mutating: x) { h.update(from: x, count: N * C) }
            VectorMath.addBias(h, nil, residual: z, N: N, O: C)
        } else {
            VectorMath.addBias(z, nil, residual: x, N: N, O: C)
            LayerNorm.forward(h, mean: mean, rstd: rstd, z, w.ln1w, w.ln1b, N: N, C: C, eps: eps)
        }
    }

    /// Activations of one layer's block saved for backward, sized for t = segment and klen = M + segment.
    public struct Saved {
        public let cat, catn: UnsafeMutablePointer<Float>  // [B, klen, C] [memory; x], LN1 of it (pre-LN)
        public let ln1Mean, ln1Rstd: UnsafeMutablePointer<Float>  // [B*klen] (pre-LN) or [B*t] (post-LN)
        public let q, kv: UnsafeMutablePointer<Float>  // [B, t, A], [B, klen, 2A]
        public let r: UnsafeMutablePointer<Float>  // [klen, A] position projections by distance
        public let probs, attMask: UnsafeMutablePointer<Float>  // [B, H, t, klen]
        public let vec: UnsafeMutablePointer<Float>  // [B, t, A]
        public let z, zMask: UnsafeMutablePointer<Float>  // [B, t, C] x + drop(o_net) (post-LN); the mask
        public let h: UnsafeMutablePointer<Float>  // [B, t, C] the block's output
        public var mlen = 0

        public init(
            alloc: (Int) -> UnsafeMutablePointer<Float>, B: Int, T: Int, M: Int, c: Config,
            dropout: Bool, dropatt: Bool
        ) {
            let K = M + T, C = c.dModel, A = c.dAttn, H = c.nHead
            cat = alloc(B * K * C); catn = alloc(c.preLnorm ? B * K * C : 0)
            ln1Mean = alloc(B * K); ln1Rstd = alloc(B * K)
            q = alloc(B * T * A); kv = alloc(B * K * 2 * A); r = alloc(K * A)
            probs = alloc(B * H * T * K); attMask = alloc(dropatt ? B * H * T * K : 0)
            vec = alloc(B * T * A); z = alloc(B * T * C); zMask = alloc(dropout ? B * T * C : 0); h = alloc(B * T * C)
        }
    }

    /// Scratch for one (stream, head) of RelativeAttention: [t, klen] x2 and [t, D] x2.
    public struct HeadScratch {
        public let a, b, c, d: UnsafeMutablePointer<Float>
        public init(
            a: UnsafeMutablePointer<Float>, b: UnsafeMutablePointer<Float>, c: UnsafeMutablePointer<Float>,
            d: UnsafeMutablePointer<Float>
        ) { self.a = a; self.b = b; self.c = c; self.d = d }
    }

    /// Training forward of B streams: s.cat holds [memory; x] (klen = s.mlen + t rows a stream) on entry.
    /// pos [klen, C] is the (dropped) position embedding by distance; attention dropout masks come from `dropatt`.
    public static func forward(
        _ s: Saved, _ x: UnsafePointer<Float>, _ w: LayerWeights, rwBias: UnsafePointer<Float>,
        rrBias: UnsafePointer<Float>, pos: UnsafePointer<Float>, scratch: HeadScratch,
        B: Int, t: Int, window: Int, c: Config, drop: Dropout?, dropatt: Dropout?
    ) {
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, N = B * t
        let mlen = s.mlen, klen = mlen + t, scale = 1 / Float(D).squareRoot()
        let src: UnsafeMutablePointer<Float>
        if c.preLnorm {
            LayerNorm.forward(
                s.catn, mean: s.ln1Mean, rstd: s.ln1Rstd, s.cat, w.ln1w, w.ln1b, N: B * klen, C: C,
                eps: c.layerNormEps)
            src = s.catn
        } else {
            src = s.cat
        }
        for b in 0..<B { query(s.q + b * t * A, src + (b * klen + mlen) * C, w, N: t, C: C, A: A) }
        keyValue(s.kv, src, w, N: B * klen, C: C, A: A)
        Linear.forward(s.r, pos, w.r, nil, N: klen, I: C, O: A)
        if let dropatt { dropatt.masks(s.attMask, B * H * t * klen) }
        for b in 0..<B {
            for h in 0..<H {
                let kv = s.kv + b * klen * 2 * A + h * D
                RelativeAttention.forward(
                    s.vec + b * t * A + h * D, ldo: A, probs: s.probs + (b * H + h) * t * klen,
                    bd: scratch.b, qb: scratch.c, q: s.q + b * t * A + h * D, ldq: A,
                    k: kv, v: kv + A, ldkv: 2 * A, r: s.r + h * D, ldr: A,
                    rw: rwBias + h * D, rr: rrBias + h * D, t: t, mlen: mlen, D: D,
                    window: window, scale: scale,
                    dropMask: dropatt == nil ? nil : s.attMask + (b * H + h) * t * klen)
            }
        }
        output(
            s.h, z: s.z, mean: c.preLnorm ? nil : s.ln1Mean, rstd: c.preLnorm ? nil : s.ln1Rstd,
            zMask: drop == nil ? nil : s.zMask, x, s.vec, w, N: N, C: C, A: A, preLnorm: c.preLnorm,
            eps: c.layerNormEps, drop: drop)
    }

    /// Backward of `forward`: dh [B, t, C] (overwritten) is d(h); dx [B, t, C] is set to d(x). Accumulates into g.
    /// Memory rows get no gradient (the reference's stop-gradient); in pre-LN their normalisation's weights do.
    public static func backward(
        dx: UnsafeMutablePointer<Float>, _ dh: UnsafeMutablePointer<Float>, _ s: Saved,
        _ w: LayerWeights, _ g: LayerWeights, rwBias: UnsafePointer<Float>,
        rrBias: UnsafePointer<Float>, drw: UnsafeMutablePointer<Float>,
        drr: UnsafeMutablePointer<Float>, pos: UnsafePointer<Float>, work: BackwardScratch,
        scratch: HeadScratch, B: Int, t: Int, window: Int, c: Config,
        dropout: Bool, dropatt: Bool
    ) {
        let C = c.dModel, H = c.nHead, D = c.dHead, A = c.dAttn, N = B * t
        let mlen = s.mlen, klen = mlen + t, scale = 1 / Float(D).squareRoot()
        let dz = work.dz, dq = work.dq, dkv = work.dkv, dr = work.dr, dvec = work.dvec
        if c.preLnorm {
            // h = x + drop(a): both get dh
            dx.update(from: dh, count: N * C)
            dz.update(from: dh, count: N * C)
        } else {
            // h = LN1(z), z = x + drop(a)
            dz.update(repeating: 0, count: N * C)
            LayerNorm.backward(
                dinp: dz, dweight: g.ln1w, dbias: g.ln1b, dh, s.z, w.ln1w, mean: s.ln1Mean,
                rstd: s.ln1Rstd, N: N, C: C)
            dx.update(from: dz, count: N * C)
        }
        if dropout { for i in 0..<(N * C) { dz[i] *= s.zMask[i] } }
        dvec.update(repeating: 0, count: N * A)
        Linear.backward(dinp: dvec, dweight: g.o, dbias: nil, dz, s.vec, w.o, N: N, I: A, O: C)

        dq.update(repeating: 0, count: N * A)
        dkv.update(repeating: 0, count: B * klen * 2 * A)
        dr.update(repeating: 0, count: klen * A)
        for b in 0..<B {
            for h in 0..<H {
                let kv = s.kv + b * klen * 2 * A + h * D, dk = dkv + b * klen * 2 * A + h * D
                RelativeAttention.backward(
                    dq: dq + b * t * A + h * D, ldq: A, dk: dk, dv: dk + A,
                    dr: dr + h * D, ldr: A, drw: drw + h * D, drr: drr + h * D,
                    dp: scratch.a, dbd: scratch.b, qb: scratch.c, dqb: scratch.d,
                    dvec + b * t * A + h * D, ldo: A, probs: s.probs + (b * H + h) * t * klen,
                    q: s.q + b * t * A + h * D, k: kv, v: kv + A, ldkv: 2 * A,
                    r: s.r + h * D, rw: rwBias + h * D, rr: rrBias + h * D,
                    t: t, mlen: mlen, D: D, window: window, scale: scale,
                    dropMask: dropatt ? s.attMask + (b * H + h) * t * klen : nil)
            }
        }
        // r = pos Wr^T
        Linear.backward(dinp: nil, dweight: g.r, dbias: nil, dr, pos, w.r, N: klen, I: C, O: A)
        // q = src[segment] Wq^T, kv = src Wkv^T
        let src = c.preLnorm ? s.catn : s.cat
        Linear.backward(
            dinp: nil, dweight: g.qkv + A * C, dbias: nil, dkv, src, w.qkv + A * C, N: B * klen, I: C, O: 2 * A)
        if c.preLnorm {
            let dsrc = work.dsrc, dcat = work.dcat
            dsrc.update(repeating: 0, count: B * klen * C)
            BLAS.gemm(dsrc, ldc: C, dkv, lda: 2 * A, w.qkv + A * C, ldb: C, m: B * klen, n: C, k: 2 * A)
            for b in 0..<B {
                Linear.backward(
                    dinp: dsrc + (b * klen + mlen) * C, dweight: g.qkv, dbias: nil, dq + b * t * A,
                    src + (b * klen + mlen) * C, w.qkv, N: t, I: C, O: A)
            }
            // LN1 over all klen rows; the gradient reaching memory rows is dropped.
            dcat.update(repeating: 0, count: B * klen * C)
            LayerNorm.backward(
                dinp: dcat, dweight: g.ln1w, dbias: g.ln1b, dsrc, s.cat, w.ln1w, mean: s.ln1Mean,
                rstd: s.ln1Rstd, N: B * klen, C: C)
            for b in 0..<B {
                let d = dx + b * t * C, e = dcat + (b * klen + mlen) * C
                for i in 0..<(t * C) { d[i] += e[i] }
            }
        } else {
            for b in 0..<B {
                let dxb = dx + b * t * C
                BLAS.gemm(
                    dxb, ldc: C, dkv + (b * klen + mlen) * 2 * A, lda: 2 * A, w.qkv + A * C, ldb: C,
                    m: t, n: C, k: 2 * A, beta: 1)
                Linear.backward(
                    dinp: dxb, dweight: g.qkv, dbias: nil, dq + b * t * A, src + (b * klen + mlen) * C,
                    w.qkv, N: t, I: C, O: A)
            }
        }
    }

    /// Gradient scratch shared by every layer's backward, sized for the longest klen.
    public struct BackwardScratch {
        public let dz, dq, dkv, dr, dvec, dsrc, dcat: UnsafeMutablePointer<Float>

        public init(alloc: (Int) -> UnsafeMutablePointer<Float>, B: Int, T: Int, maxK: Int, c: Config) {
            let C = c.dModel, A = c.dAttn
            dz = alloc(B * T * C); dq = alloc(B * T * A); dkv = alloc(B * maxK * 2 * A); dr = alloc(maxK * A)
            dvec = alloc(B * T * A); dsrc = alloc(c.preLnorm ? B * maxK * C : 0);
            dcat = alloc(c.preLnorm ? B * maxK * C : 0)
        }
    }
}

/// Dropout as the trainer draws it: `apply(x, mask, n)` fills mask with 0 (probability p) or 1/(1-p) and scales x;
/// `masks(mask, n)` only draws the mask. Inference passes none.
public struct Dropout {
    public let apply: (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
    public let masks: (UnsafeMutablePointer<Float>, Int) -> Void

    public init(
        apply: @escaping (UnsafeMutablePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
        masks: @escaping (UnsafeMutablePointer<Float>, Int) -> Void
    ) {
        self.apply = apply; self.masks = masks
    }

    public func callAsFunction(_ x: UnsafeMutablePointer<Float>, _ mask: UnsafeMutablePointer<Float>, _ n: Int) {
        apply(x, mask, n)
    }
}
