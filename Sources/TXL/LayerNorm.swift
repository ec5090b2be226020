// Layer normalisation over the last dimension (reference: torch.nn.LayerNorm; llm.c layernorm_forward/backward).

public enum LayerNorm {
    /// out[N, C] = (inp - mean) * rstd * weight + bias. `mean`/`rstd` [N] are saved for backward when given.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>?, rstd: UnsafeMutablePointer<Float>?,
        _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>,
        N: Int, C: Int, eps: Float
    ) {
        for n in 0..<N {
            let x = inp + n * C, y = out + n * C
            // The sums eight lanes wide: a single running sum is a chain of dependent adds.
            var s8 = SIMD8<Float>(repeating: 0), i = 0
            while i + 8 <= C { s8 += VectorMath.load(x + i); i += 8 }
            var s = s8.sum()
            while i < C { s += x[i]; i += 1 }
            let m = s / Float(C), m8 = SIMD8<Float>(repeating: m)
            var v8 = SIMD8<Float>(repeating: 0)
            i = 0
            while i + 8 <= C { let d = VectorMath.load(x + i) - m8; v8 += d * d; i += 8 }
            var v = v8.sum()
            while i < C { let d = x[i] - m; v += d * d; i += 1 }
            let r = 1 / (v / Float(C) + eps).squareRoot()
            for i in 0..<C { y[i] = (x[i] - m) * r * weight[i] + bias[i] }
            mean?[n] = m
            rstd?[n] = r
        }
    }

    /// Backward of `forward`: accumulates into dinp, dweight, dbias.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>,
        _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, N: Int, C: Int
    ) {
        for n in 0..<N {
            let x = inp + n * C, dy = dout + n * C, dx = dinp + n * C
            let m = mean[n], r = rstd[n]
            // y = xhat * w + b, xhat = (x - m) * r
            var dnormMean: Float = 0, dnormDotXhat: Float = 0
            for i in 0..<C {
                let xhat = (x[i] - m) * r
                let dnorm = dy[i] * weight[i]
                dnormMean += dnorm
                dnormDotXhat += dnorm * xhat
                dbias[i] += dy[i]
                dweight[i] += xhat * dy[i]
            }
            dnormMean /= Float(C)
            dnormDotXhat /= Float(C)
            for i in 0..<C {
                let xhat = (x[i] - m) * r
                dx[i] += (dy[i] * weight[i] - dnormMean - xhat * dnormDotXhat) * r
            }
        }
    }
}
