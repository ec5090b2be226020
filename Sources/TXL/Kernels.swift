// The seam to CKernels (kernels.c): AVX2/FMA products with weights packed once, and one head of relative attention
// that skips the masked triangle. Inference uses them when the processor has AVX2 and FMA; OpenBLAS otherwise.
import CKernels
import Foundation

public enum Kernels {
    /// Whether this processor can run the kernels (x86-64 with AVX2 and FMA).
    public static let available: Bool = mk_available() != 0

    /// Whether an `Inference` uses the kernels unless told otherwise (else OpenBLAS alone): `available`, unless the
    /// environment says MEMSCOPE_KERNELS=openblas. `bench` runs both side by side; tests check one against the other.
    public static let enabled: Bool =
        available && ProcessInfo.processInfo.environment["MEMSCOPE_KERNELS"] != "openblas"

    /// A spin-wait hint (WorkerPool).
    @inline(__always) static func pause() { mk_pause() }

    /// Floats that W [n, k] takes packed.
    public static func packedFloats(rows n: Int, columns k: Int) -> Int { mk_packed_floats(Int32(n), Int32(k)) }

    /// Packs W [n, k] (rows ldw apart), a linear layer's weight used as out = x W^T, for `gemm`.
    public static func pack(
        _ p: UnsafeMutablePointer<Float>, _ w: UnsafePointer<Float>, ldw: Int, rows n: Int, columns k: Int
    ) {
        mk_pack_transposed(p, w, ldw, Int32(n), Int32(k))
    }

    /// Packs B [k, n] (rows ldb apart), a projection used as out = x B, for `gemm` (as W = B^T).
    public static func packRows(
        _ p: UnsafeMutablePointer<Float>, _ b: UnsafePointer<Float>, ldb: Int, rows k: Int, columns n: Int
    ) {
        mk_pack_rows(p, b, ldb, Int32(k), Int32(n))
    }

    /// out [m, cols] (+)= a [m, k] W[cols, k]^T, W packed by `pack` (n rows); cols starts at a multiple of 16.
    /// With `reluBias` (n biases), out = max(out + bias, 0) as it is stored (VectorMath.addBiasReLU, fused).
    @inline(__always)
    public static func gemm(
        _ out: UnsafeMutablePointer<Float>, ldo: Int, _ a: UnsafePointer<Float>, lda: Int,
        packed: UnsafePointer<Float>, columns cols: Range<Int>, m: Int, k: Int, accumulate: Bool = false,
        reluBias: UnsafePointer<Float>? = nil
    ) {
        precondition(cols.lowerBound % 16 == 0, "Kernels.gemm: columns start at a multiple of 16")
        if cols.isEmpty { return }
        mk_gemm(
            out + cols.lowerBound, ldo, a, lda, packed + cols.lowerBound * k, Int32(m), Int32(cols.count), Int32(k),
            accumulate ? 1 : 0, reluBias.map { $0 + cols.lowerBound })
    }

    /// Floats of scratch `relativeAttention` needs for klen keys.
    public static func attentionScratch(t: Int, keys klen: Int, D: Int) -> Int {
        mk_attention_scratch(Int32(t), Int32(klen), Int32(D))
    }

    /// One head of relative attention (see mk_rel_attention in kernels.h). probs [t, klen], when given, holds the
    /// probabilities afterwards; the output is bit for bit the same either way.
    @inline(__always)
    public static func relativeAttention(
        _ vec: UnsafeMutablePointer<Float>, ldo: Int, probs: UnsafeMutablePointer<Float>?,
        scratch: UnsafeMutablePointer<Float>, qw: UnsafePointer<Float>, qr: UnsafePointer<Float>,
        k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldkv: Int, rPacked: UnsafePointer<Float>,
        distances cap: Int, t: Int, mlen: Int, D: Int, window: Int
    ) {
        mk_rel_attention(
            vec, ldo, probs, scratch, qw, qr, k, v, ldkv, rPacked, Int32(cap), Int32(t), Int32(mlen), Int32(D),
            Int32(window))
    }
}
