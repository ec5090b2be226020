// Linear layers, PyTorch style: y = x W^T + b with W [out, in] (llm.c matmul_forward/backward).

public enum Linear {
    /// out[N, O] = inp[N, I] W[O, I]^T (+ bias[O]); by the kernels from W packed (`Kernels.pack`) when given.
    public static func forward(
        _ out: UnsafeMutablePointer<Float>, _ inp: UnsafePointer<Float>,
        _ weight: UnsafePointer<Float>, _ bias: UnsafePointer<Float>?, N: Int, I: Int, O: Int,
        packed: UnsafePointer<Float>? = nil
    ) {
        if let packed {
            Kernels.gemm(out, ldo: O, inp, lda: I, packed: packed, columns: 0..<O, m: N, k: I)
        } else {
            BLAS.gemm(out, ldc: O, inp, lda: I, weight, ldb: I, transB: true, m: N, n: O, k: I)
        }
        if let bias {
            for n in 0..<N {
                let y = out + n * O
                for o in 0..<O { y[o] += bias[o] }
            }
        }
    }

    /// Backward of `forward`: dinp += dout W, dweight += dout^T inp, dbias += sum over rows of dout.
    public static func backward(
        dinp: UnsafeMutablePointer<Float>?, dweight: UnsafeMutablePointer<Float>, dbias: UnsafeMutablePointer<Float>?,
        _ dout: UnsafePointer<Float>, _ inp: UnsafePointer<Float>, _ weight: UnsafePointer<Float>,
        N: Int, I: Int, O: Int
    ) {
        if let dinp {
            BLAS.gemm(dinp, ldc: I, dout, lda: O, weight, ldb: I, m: N, n: I, k: O, beta: 1)
        }
        BLAS.gemm(dweight, ldc: I, dout, lda: O, transA: true, inp, ldb: I, m: O, n: I, k: N, beta: 1)
        if let dbias {
            for n in 0..<N {
                let dy = dout + n * O
                for o in 0..<O { dbias[o] += dy[o] }
            }
        }
    }
}

public enum ReLU {
    public static func forward(_ x: UnsafeMutablePointer<Float>, count: Int) {
        for i in 0..<count where x[i] < 0 { x[i] = 0 }
    }

    /// d(relu(z))/dz with z recovered from the saved output: passes where out > 0. In place on dout.
    public static func backward(_ dout: UnsafeMutablePointer<Float>, out: UnsafePointer<Float>, count: Int) {
        for i in 0..<count where out[i] <= 0 { dout[i] = 0 }
    }
}
