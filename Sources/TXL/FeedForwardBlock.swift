// The position-wise feed-forward block of a Transformer-XL layer, forward and backward side by side
// (reference: PositionwiseFF, CoreNet = Linear, ReLU, Dropout, Linear, Dropout; llm.c's paired kernels).
//   post-LN: out = LN2(x + drop(ff2(drop(relu(ff1(x))))))     pre-LN: out = x + drop(ff2(drop(relu(ff1(LN2(x))))))
import Foundation

public enum FeedForwardBlock {
    /// Activations saved for backward (training), or scratch (inference: only a and z are needed).
    public struct Saved {
        public let xn, mean, rstd: UnsafeMutablePointer<Float>?  // [N, C] LN2(x) (pre-LN), [N], [N] (training)
        public let a: UnsafeMutablePointer<Float>  // [N, F] relu(ff1(.)), before dropout
        public let u, uMask: UnsafeMutablePointer<Float>?  // [N, F] drop(a), its mask (training with dropout)
        public let z, zMask: UnsafeMutablePointer<Float>?  // [N, C] post-LN: x + drop(ff2(.)) (LN2's input); mask
        public let out: UnsafeMutablePointer<Float>  // [N, C] the block's output

        public init(
            xn: UnsafeMutablePointer<Float>?, mean: UnsafeMutablePointer<Float>?,
            rstd: UnsafeMutablePointer<Float>?, a: UnsafeMutablePointer<Float>, u: UnsafeMutablePointer<Float>?,
            uMask: UnsafeMutablePointer<Float>?, z: UnsafeMutablePointer<Float>?,
            zMask: UnsafeMutablePointer<Float>?, out: UnsafeMutablePointer<Float>
        ) {
            self.xn = xn; self.mean = mean; self.rstd = rstd; self.a = a; self.u = u; self.uMask = uMask
            self.z = z; self.zMask = zMask; self.out = out
        }

        /// Training buffers for N rows.
        public init(alloc: (Int) -> UnsafeMutablePointer<Float>, N: Int, c: Config, dropout: Bool) {
            let C = c.dModel, F = c.dInner
            self.init(
                xn: c.preLnorm ? alloc(N * C) : nil, mean: alloc(N), rstd: alloc(N), a: alloc(N * F),
                u: dropout ? alloc(N * F) : nil, uMask: dropout ? alloc(N * F) : nil, z: alloc(N * C),
                zMask: dropout ? alloc(N * C) : nil, out: alloc(N * C))
        }
    }

    /// s.out [N, C] from x [N, C]; s.out may be x (inference), then s.z is scratch. Pre-LN needs s.xn.
    public static func forward(
        _ s: Saved, _ x: UnsafePointer<Float>, _ w: LayerWeights, N: Int, C: Int, F: Int,
        preLnorm: Bool, eps: Float, drop: Dropout?
    ) {
        var src = x
        if preLnorm, let xn = s.xn {
            LayerNorm.forward(xn, mean: s.mean, rstd: s.rstd, x, w.ln2w, w.ln2b, N: N, C: C, eps: eps)
            src = UnsafePointer(xn)
        }
        Linear.forward(s.a, src, w.ff1w, nil, N: N, I: C, O: F, packed: w.packed?.ff1)
        VectorMath.addBiasReLU(s.a, w.ff1b, N: N, O: F)
        var u = UnsafePointer(s.a)
        if let drop, let du = s.u, let mask = s.uMask {
            du.update(from: s.a, count: N * F)
            drop(du, mask, N * F)
            u = UnsafePointer(du)
        }
        // z = ff2(u) + b2, dropped, then the residual.
        let z = preLnorm ? s.out : s.z!
        if preLnorm && s.out == UnsafeMutablePointer(mutating: x) {
            // In place (inference): out = x + ff2(u) + b2 in one pass over a scratch row block.
            let t = s.z!
            Linear.forward(t, u, w.ff2w, nil, N: N, I: F, O: C, packed: w.packed?.ff2)
            VectorMath.addBias(s.out, w.ff2b, residual: t, N: N, O: C)
            return
        }
        Linear.forward(z, u, w.ff2w, nil, N: N, I: F, O: C, packed: w.packed?.ff2)
        if let drop, let mask = s.zMask {
            VectorMath.addBias(z, w.ff2b, residual: nil, N: N, O: C)
            drop(z, mask, N * C)
            VectorMath.addBias(z, nil, residual: x, N: N, O: C)
        } else {
            VectorMath.addBias(z, w.ff2b, residual: x, N: N, O: C)
        }
        if !preLnorm { LayerNorm.forward(s.out, mean: s.mean, rstd: s.rstd, z, w.ln2w, w.ln2b, N: N, C: C, eps: eps) }
    }

    /// Backward of `forward`: dout [N, C] is d(out), read only; dx [N, C] is set to d(x); da [N, F], dt [N, C] are
    /// scratch. Accumulates into g.
    public static func backward(
        dx: UnsafeMutablePointer<Float>, _ dout: UnsafePointer<Float>, _ s: Saved,
        _ x: UnsafePointer<Float>, _ w: LayerWeights, _ g: LayerWeights,
        da: UnsafeMutablePointer<Float>, dt: UnsafeMutablePointer<Float>,
        N: Int, C: Int, F: Int, preLnorm: Bool
    ) {
        if preLnorm {
            // out = x + drop(ff2(...)): x gets dout, ff2's output gets dout
            dx.update(from: dout, count: N * C)
            dt.update(from: dout, count: N * C)
        } else {
            // out = LN2(z), z = x + drop(ff2(...))
            dt.update(repeating: 0, count: N * C)
            LayerNorm.backward(
                dinp: dt, dweight: g.ln2w, dbias: g.ln2b, dout, s.z!, w.ln2w, mean: s.mean!,
                rstd: s.rstd!, N: N, C: C)
            dx.update(from: dt, count: N * C)
        }
        if let mask = s.zMask { for i in 0..<(N * C) { dt[i] *= mask[i] } }
        da.update(repeating: 0, count: N * F)
        Linear.backward(dinp: da, dweight: g.ff2w, dbias: g.ff2b, dt, s.u ?? s.a, w.ff2w, N: N, I: F, O: C)
        if let mask = s.uMask { for i in 0..<(N * F) { da[i] *= mask[i] } }
        ReLU.backward(da, out: s.a, count: N * F)
        if preLnorm, let xn = s.xn {
            dt.update(repeating: 0, count: N * C)
            Linear.backward(dinp: dt, dweight: g.ff1w, dbias: g.ff1b, da, xn, w.ff1w, N: N, I: C, O: F)
            LayerNorm.backward(
                dinp: dx, dweight: g.ln2w, dbias: g.ln2b, dt, x, w.ln2w, mean: s.mean!, rstd: s.rstd!,
                N: N, C: C)
        } else {
            Linear.backward(dinp: dx, dweight: g.ff1w, dbias: g.ff1b, da, x, w.ff1w, N: N, I: C, O: F)
        }
    }
}
