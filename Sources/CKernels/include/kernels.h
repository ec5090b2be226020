// Hand-written AVX2/FMA kernels for inference at small batch (the explorer's case), where OpenBLAS spends a third of
// its time packing and zeroing. See kernels.c. Imported by one Swift file, Kernels.swift.
#ifndef MEMSCOPE_KERNELS_H
#define MEMSCOPE_KERNELS_H
#include <stddef.h>

/// 1 when this processor runs the kernels (x86-64 with AVX2 and FMA); 0 elsewhere, where callers use OpenBLAS.
/// Every function below but mk_pause and mk_packed_floats may run AVX2 instructions: call them only after a 1 here.
int mk_available(void);

/// A spin-wait hint to the processor (x86 pause, arm64 yield), for WorkerPool's helpers between phases.
void mk_pause(void);

/// Packs B = W^T, W [n, k] row-major (a linear layer's weight, out = x W^T), into panels of 16 columns:
/// P [ceil(n/16)][k][16], the last panel zero-padded. P holds mk_packed_floats(n, k) floats.
void mk_pack_transposed(float *P, const float *W, ptrdiff_t ldw, int n, int k);
size_t mk_packed_floats(int n, int k);

/// Packs B [k, n] row-major (rows ldb apart; a projection used as out = x B) into the same panels as above.
void mk_pack_rows(float *P, const float *B, ptrdiff_t ldb, int k, int n);

/// C [m, n] = A [m, k] P (+ C when accumulate), P packed by mk_pack_transposed. Rows lda and ldc apart.
/// relu: NULL, or n biases: C = max(C + relu, 0) afterwards, as each tile is stored (a NaN stays NaN).
void mk_gemm(float *C, ptrdiff_t ldc, const float *A, ptrdiff_t lda, const float *P, int m, int n, int k,
             int accumulate, const float *relu);

/// One head of Transformer-XL relative attention at inference (RelativeAttention.inferenceForward's contract):
/// t queries, the last t of klen = mlen + t keys; query i sees keys lo_i...mlen+i (lo_i from `window`).
///   vec [t, D] (row stride ldo) = P V, P = softmax((q + u) k^T + shifted (q + v) Rrev^T), scale folded into u, v.
/// qw = (q + u) scale and qr = (q + v) scale, [t, D] each; k and v rows ldkv apart.
/// rPacked: this head's Rrev^T packed by mk_pack_transposed over `cap` reversed distances (column c is distance
/// cap - 1 - c); this segment uses columns cap - klen ... cap - 1.
/// probs: NULL, or [t, klen] to hold P (masked entries 0); vec is bit for bit the same either way.
/// scratch: mk_attention_scratch(t, klen, D) floats.
void mk_rel_attention(float *vec, ptrdiff_t ldo, float *probs, float *scratch, const float *qw, const float *qr,
                      const float *k, const float *v, ptrdiff_t ldkv, const float *rPacked, int cap, int t, int mlen,
                      int D, int window);
size_t mk_attention_scratch(int t, int klen, int D);

#endif
