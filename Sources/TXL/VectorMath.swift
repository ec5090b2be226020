// Vectorised element-wise kernels for the forward pass: exp, softmax, bias+ReLU, residual add.
// SIMD8 maps to two SSE registers on the x86-64 baseline, so these run 4-8 lanes wide without target flags.
import Foundation

public enum VectorMath {
    /// e^x lane-wise, Cephes' expf: x = n ln2 + r, |r| <= ln2/2, a degree-6 polynomial for e^r, 2^n by exponent bits.
    /// Within 2 ulp of expf for x in [-87, 88]; inputs below -87 give ~1e-38, not 0 (softmax arguments only).
    @inline(__always)
    public static func exp(_ v: SIMD8<Float>) -> SIMD8<Float> {
        var x = v.replacing(with: 88, where: v .> 88)
        x.replace(with: -87, where: x .< -87)
        // Round to nearest by the 1.5 x 2^23 trick: SSE2 has no vector floor.
        let magic: SIMD8<Float> = .init(repeating: 12_582_912)
        let shifted = x * 1.442_695_040_888_963_4 + magic
        let n = shifted - magic
        x = x - n * 0.693_359_375 - n * -2.121_944_400_546_905_8e-4
        var y: SIMD8<Float> = .init(repeating: 1.987_569_150_0e-4)
        y = y * x + 1.398_199_950_7e-3
        y = y * x + 8.333_451_907_3e-3
        y = y * x + 4.166_579_589_4e-2
        y = y * x + 1.666_666_545_9e-1
        y = y * x + 5.000_000_120_1e-1
        y = y * (x * x) + x + 1
        // n's integer value sits in the low mantissa bits of `shifted` (magic's bit pattern is 0x4B40_0000).
        let k = (unsafeBitCast(shifted, to: SIMD8<Int32>.self) &- 0x4B40_0000 &+ 127) &<< 23
        return y * unsafeBitCast(k, to: SIMD8<Float>.self)
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(p).loadUnaligned(as: SIMD8<Float>.self)
    }

    @inline(__always) static func store(_ v: SIMD8<Float>, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: SIMD8<Float>.self)
    }

    /// x[0..<n] = softmax(x[0..<n]) in place, n >= 1.
    public static func softmax(_ x: UnsafeMutablePointer<Float>, count n: Int) {
        var j = 0
        var vmax = SIMD8<Float>(repeating: -.infinity)
        while j + 8 <= n { let v = load(x + j); vmax.replace(with: v, where: v .> vmax); j += 8 }
        var mx = vmax.max()
        while j < n { if x[j] > mx { mx = x[j] }; j += 1 }
        j = 0
        var vsum = SIMD8<Float>(repeating: 0)
        let m8 = SIMD8<Float>(repeating: mx)
        while j + 8 <= n { let e = exp(load(x + j) - m8); store(e, x + j); vsum += e; j += 8 }
        var sum = vsum.sum()
        if j < n {
            // The tail through the same exp, so every probability comes from one formula.
            var tail = SIMD8<Float>(repeating: -.infinity)
            for i in 0..<(n - j) { tail[i] = x[j + i] - mx }
            let e = exp(tail)
            for i in 0..<(n - j) { x[j + i] = e[i]; sum += e[i] }
        }
        let inv = SIMD8<Float>(repeating: 1 / sum)
        j = 0
        while j + 8 <= n { store(load(x + j) * inv, x + j); j += 8 }
        while j < n { x[j] *= inv[0]; j += 1 }
    }

    /// y[N, O] = max(y + bias, 0): the first linear layer's bias and the ReLU in one pass.
    public static func addBiasReLU(_ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>, N: Int, O: Int) {
        let zero = SIMD8<Float>(repeating: 0)
        for n in 0..<N {
            let row = y + n * O
            var o = 0
            while o + 8 <= O {
                var v = load(row + o) + load(bias + o)
                v.replace(with: zero, where: v .< zero)
                store(v, row + o); o += 8
            }
            while o < O { let v = row[o] + bias[o]; row[o] = v < 0 ? 0 : v; o += 1 }
        }
    }

    /// y[N, O] += bias (+ residual[N, O] when given).
    public static func addBias(
        _ y: UnsafeMutablePointer<Float>, _ bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, N: Int, O: Int
    ) {
        for n in 0..<N {
            let row = y + n * O, res = residual.map { $0 + n * O }
            var o = 0
            while o + 8 <= O {
                var v = load(row + o)
                if let bias { v += load(bias + o) }
                if let res { v += load(res + o) }
                store(v, row + o); o += 8
            }
            while o < O {
                var v = row[o]
                if let bias { v += bias[o] }
                if let res { v += res[o] }
                row[o] = v; o += 1
            }
        }
    }
}
