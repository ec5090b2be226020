// Small-batch sgemm and relative attention for inference, in AVX2/FMA. The design is Goto's and BLIS's: a 6x16
// micro-kernel holding C in 12 ymm registers, over B packed in panels of 16 columns. Why not OpenBLAS here: at batch 1
// a product has 128 rows, and OpenBLAS packs the weights again on every call and zeroes C before it accumulates,
// a quarter of a step (docs/performance.md). Here weights are packed once per model, keys once per head and step,
// and attention's products skip the masked triangle.
// The file compiles for the x86-64 baseline: the AVX2 functions carry target attributes, and Swift calls them only
// after mk_available() has said yes (elsewhere, and on other processors, the runtime keeps to OpenBLAS).
#include "kernels.h"

#include <string.h>

void mk_pause(void) {
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

size_t mk_packed_floats(int n, int k) { return (size_t)((n + 15) / 16) * 16 * (size_t)(k > 0 ? k : 1); }

#if defined(__x86_64__)
#include <immintrin.h>
#define MK_AVX2 __attribute__((target("avx2,fma")))

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

int mk_available(void) {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

// Lanes j < n of a 16-wide row, as two masks for _mm256_maskload_ps.
MK_AVX2 static inline void lane_masks(int n, __m256i *m0, __m256i *m1) {
    const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    *m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), idx);
    *m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), idx);
}

// The micro-kernel: C [mr, nr] = A [mr, K] B [K, 16] (+ C when acc), mr <= 6, nr <= 16. A's rows are lda apart and
// B's rows ldb apart. B's 16 floats per row are all read (packed panels are zero-padded) unless maskB, which reads only
// nr of them (B straight from a matrix whose row may end there). Rows past mr repeat the last row and are not stored.
// relu: NULL, or the tile's 16 biases: C = max(C + bias, 0) as stored (a NaN stays NaN, as in VectorMath.addBiasReLU).
MK_AVX2 static void kernel6x16(int K, const float *A, ptrdiff_t lda, const float *B, ptrdiff_t ldb, float *C,
                               ptrdiff_t ldc, int mr, int nr, int acc, int maskB, const float *relu) {
    const float *a0 = A, *a1 = A + imin(1, mr - 1) * lda, *a2 = A + imin(2, mr - 1) * lda,
                *a3 = A + imin(3, mr - 1) * lda, *a4 = A + imin(4, mr - 1) * lda, *a5 = A + imin(5, mr - 1) * lda;
    __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00,
           c40 = c00, c41 = c00, c50 = c00, c51 = c00;
    __m256i m0, m1;
    lane_masks(nr, &m0, &m1);
#define MK_STEP(b0, b1)                                                                                               \
    {                                                                                                                 \
        __m256 a;                                                                                                     \
        a = _mm256_broadcast_ss(a0 + k); c00 = _mm256_fmadd_ps(a, b0, c00); c01 = _mm256_fmadd_ps(a, b1, c01);        \
        a = _mm256_broadcast_ss(a1 + k); c10 = _mm256_fmadd_ps(a, b0, c10); c11 = _mm256_fmadd_ps(a, b1, c11);        \
        a = _mm256_broadcast_ss(a2 + k); c20 = _mm256_fmadd_ps(a, b0, c20); c21 = _mm256_fmadd_ps(a, b1, c21);        \
        a = _mm256_broadcast_ss(a3 + k); c30 = _mm256_fmadd_ps(a, b0, c30); c31 = _mm256_fmadd_ps(a, b1, c31);        \
        a = _mm256_broadcast_ss(a4 + k); c40 = _mm256_fmadd_ps(a, b0, c40); c41 = _mm256_fmadd_ps(a, b1, c41);        \
        a = _mm256_broadcast_ss(a5 + k); c50 = _mm256_fmadd_ps(a, b0, c50); c51 = _mm256_fmadd_ps(a, b1, c51);        \
    }
    if (maskB && nr < 16) {
        for (int k = 0; k < K; k++, B += ldb) {
            __m256 b0 = _mm256_maskload_ps(B, m0), b1 = _mm256_maskload_ps(B + 8, m1);
            MK_STEP(b0, b1)
        }
    } else {
        for (int k = 0; k < K; k++, B += ldb) {
            __m256 b0 = _mm256_loadu_ps(B), b1 = _mm256_loadu_ps(B + 8);
            MK_STEP(b0, b1)
        }
    }
#undef MK_STEP
    if (mr == 6 && nr == 16) {
        const __m256 zero = _mm256_setzero_ps(), b0 = relu ? _mm256_loadu_ps(relu) : zero,
                     b1 = relu ? _mm256_loadu_ps(relu + 8) : zero;
#define MK_ROW(r, x0, x1)                                                                                             \
    {                                                                                                                 \
        float *c = C + (r) * ldc;                                                                                     \
        if (acc) { x0 = _mm256_add_ps(x0, _mm256_loadu_ps(c)); x1 = _mm256_add_ps(x1, _mm256_loadu_ps(c + 8)); }      \
        if (relu) {                                                                                                   \
            x0 = _mm256_max_ps(zero, _mm256_add_ps(x0, b0)); x1 = _mm256_max_ps(zero, _mm256_add_ps(x1, b1));         \
        }                                                                                                             \
        _mm256_storeu_ps(c, x0); _mm256_storeu_ps(c + 8, x1);                                                         \
    }
        MK_ROW(0, c00, c01) MK_ROW(1, c10, c11) MK_ROW(2, c20, c21)
        MK_ROW(3, c30, c31) MK_ROW(4, c40, c41) MK_ROW(5, c50, c51)
#undef MK_ROW
        return;
    }
    float tile[6][16];
    _mm256_storeu_ps(tile[0], c00); _mm256_storeu_ps(tile[0] + 8, c01);
    _mm256_storeu_ps(tile[1], c10); _mm256_storeu_ps(tile[1] + 8, c11);
    _mm256_storeu_ps(tile[2], c20); _mm256_storeu_ps(tile[2] + 8, c21);
    _mm256_storeu_ps(tile[3], c30); _mm256_storeu_ps(tile[3] + 8, c31);
    _mm256_storeu_ps(tile[4], c40); _mm256_storeu_ps(tile[4] + 8, c41);
    _mm256_storeu_ps(tile[5], c50); _mm256_storeu_ps(tile[5] + 8, c51);
    for (int r = 0; r < mr; r++) {
        float *c = C + r * ldc;
        if (acc) for (int j = 0; j < nr; j++) c[j] += tile[r][j];
        else for (int j = 0; j < nr; j++) c[j] = tile[r][j];
        if (relu) for (int j = 0; j < nr; j++) { float v = c[j] + relu[j]; c[j] = v < 0 ? 0 : v; }
    }
}

void mk_pack_rows(float *P, const float *B, ptrdiff_t ldb, int k, int n) {
    for (int p = 0; p * 16 < n; p++) {
        float *dst = P + (size_t)p * k * 16;
        int nr = imin(16, n - 16 * p);
        for (int kk = 0; kk < k; kk++)
            for (int j = 0; j < 16; j++) dst[kk * 16 + j] = j < nr ? B[kk * ldb + 16 * p + j] : 0;
    }
}

// Rows of A per block that stays in L2 while a panel of B sweeps it (A's block: MC x KC floats, 144 KiB).
enum { KC = 256, MC = 144 };

MK_AVX2 static void gemm_avx2(float *C, ptrdiff_t ldc, const float *A, ptrdiff_t lda, const float *P, int m, int n,
                              int k, int acc, const float *relu) {
    int panels = (n + 15) / 16;
    for (int k0 = 0; k0 < k; k0 += KC) {
        int kk = imin(KC, k - k0), a = acc || k0 > 0, last = k0 + KC >= k;
        for (int i0 = 0; i0 < m; i0 += MC) {
            int i1 = imin(m, i0 + MC);
            for (int p = 0; p < panels; p++) {
                const float *B = P + (size_t)p * k * 16 + (size_t)k0 * 16, *b = relu && last ? relu + 16 * p : 0;
                int nr = imin(16, n - 16 * p);
                for (int i = i0; i < i1; i += 6)
                    kernel6x16(kk, A + i * lda + k0, lda, B, 16, C + i * ldc + 16 * p, ldc, imin(6, i1 - i), nr, a, 0,
                               b);
            }
        }
    }
}

void mk_gemm(float *C, ptrdiff_t ldc, const float *A, ptrdiff_t lda, const float *P, int m, int n, int k,
             int accumulate, const float *relu) {
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        for (int i = 0; i < m; i++) {
            float *c = C + i * ldc;
            if (!accumulate) memset(c, 0, sizeof(float) * (size_t)n);
            if (relu) for (int j = 0; j < n; j++) { float v = c[j] + relu[j]; c[j] = v < 0 ? 0 : v; }
        }
        return;
    }
    gemm_avx2(C, ldc, A, lda, P, m, n, k, accumulate, relu);
}

// e^x lane-wise: Cephes' expf, as VectorMath.exp (x = n ln2 + r, a degree-6 polynomial for e^r, 2^n by exponent
// bits); inputs below -87 give ~1e-38, not 0 (softmax arguments only).
MK_AVX2 static inline __m256 exp256(__m256 x) {
    // The bound first: min and max return their second operand when either is NaN, so a NaN stays a NaN.
    x = _mm256_min_ps(_mm256_set1_ps(88.0f), x);
    x = _mm256_max_ps(_mm256_set1_ps(-87.0f), x);
    __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

MK_AVX2 static inline float hmax256(__m256 v) {
    __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    m = _mm_max_ps(m, _mm_movehl_ps(m, m));
    m = _mm_max_ss(m, _mm_shuffle_ps(m, m, 1));
    return _mm_cvtss_f32(m);
}

MK_AVX2 static inline float hsum256(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_shuffle_ps(s, s, 1));
    return _mm_cvtss_f32(s);
}

// s[0..<n] = exp(s - max) in place, n >= 1, the tail through the same exp as the rest; returns their sum.
MK_AVX2 static float exp_row(float *s, int n) {
    __m256 vmax = _mm256_set1_ps(-__builtin_inff());
    int j = 0;
    for (; j + 8 <= n; j += 8) vmax = _mm256_max_ps(vmax, _mm256_loadu_ps(s + j));
    float mx = hmax256(vmax);
    for (int i = j; i < n; i++) if (s[i] > mx) mx = s[i];
    __m256 m8 = _mm256_set1_ps(mx), vsum = _mm256_setzero_ps();
    for (j = 0; j + 8 <= n; j += 8) {
        __m256 e = exp256(_mm256_sub_ps(_mm256_loadu_ps(s + j), m8));
        _mm256_storeu_ps(s + j, e);
        vsum = _mm256_add_ps(vsum, e);
    }
    float sum = hsum256(vsum);
    if (j < n) {
        float tail[8];
        for (int i = 0; i < 8; i++) tail[i] = j + i < n ? s[j + i] - mx : -87.0f;
        _mm256_storeu_ps(tail, exp256(_mm256_loadu_ps(tail)));
        for (int i = 0; j + i < n; i++) { s[j + i] = tail[i]; sum += tail[i]; }
    }
    return sum;
}

// x[0..<n] *= a.
MK_AVX2 static void scale_row(float *x, int n, float a) {
    __m256 a8 = _mm256_set1_ps(a);
    int j = 0;
    for (; j + 8 <= n; j += 8) _mm256_storeu_ps(x + j, _mm256_mul_ps(_mm256_loadu_ps(x + j), a8));
    for (; j < n; j++) x[j] *= a;
}

// Keys key0..key0+15 (those below klen) of one head, k [klen, D] rows ldkv apart, into one packed panel [D][16].
MK_AVX2 static void pack_keys(float *dst, const float *k, ptrdiff_t ldkv, int key0, int klen, int D) {
    int nr = imin(16, klen - key0);
    if (nr == 16 && D % 8 == 0) {
        // 8 x 8 blocks transposed in registers.
        for (int h = 0; h < 16; h += 8) {
            for (int d = 0; d < D; d += 8) {
                const float *src = k + (key0 + h) * ldkv + d;
                __m256 r0 = _mm256_loadu_ps(src), r1 = _mm256_loadu_ps(src + ldkv),
                       r2 = _mm256_loadu_ps(src + 2 * ldkv), r3 = _mm256_loadu_ps(src + 3 * ldkv),
                       r4 = _mm256_loadu_ps(src + 4 * ldkv), r5 = _mm256_loadu_ps(src + 5 * ldkv),
                       r6 = _mm256_loadu_ps(src + 6 * ldkv), r7 = _mm256_loadu_ps(src + 7 * ldkv);
                __m256 t0 = _mm256_unpacklo_ps(r0, r1), t1 = _mm256_unpackhi_ps(r0, r1),
                       t2 = _mm256_unpacklo_ps(r2, r3), t3 = _mm256_unpackhi_ps(r2, r3),
                       t4 = _mm256_unpacklo_ps(r4, r5), t5 = _mm256_unpackhi_ps(r4, r5),
                       t6 = _mm256_unpacklo_ps(r6, r7), t7 = _mm256_unpackhi_ps(r6, r7);
                __m256 s0 = _mm256_shuffle_ps(t0, t2, 0x44), s1 = _mm256_shuffle_ps(t0, t2, 0xEE),
                       s2 = _mm256_shuffle_ps(t1, t3, 0x44), s3 = _mm256_shuffle_ps(t1, t3, 0xEE),
                       s4 = _mm256_shuffle_ps(t4, t6, 0x44), s5 = _mm256_shuffle_ps(t4, t6, 0xEE),
                       s6 = _mm256_shuffle_ps(t5, t7, 0x44), s7 = _mm256_shuffle_ps(t5, t7, 0xEE);
                float *o = dst + d * 16 + h;
                _mm256_storeu_ps(o + 0 * 16, _mm256_permute2f128_ps(s0, s4, 0x20));
                _mm256_storeu_ps(o + 1 * 16, _mm256_permute2f128_ps(s1, s5, 0x20));
                _mm256_storeu_ps(o + 2 * 16, _mm256_permute2f128_ps(s2, s6, 0x20));
                _mm256_storeu_ps(o + 3 * 16, _mm256_permute2f128_ps(s3, s7, 0x20));
                _mm256_storeu_ps(o + 4 * 16, _mm256_permute2f128_ps(s0, s4, 0x31));
                _mm256_storeu_ps(o + 5 * 16, _mm256_permute2f128_ps(s1, s5, 0x31));
                _mm256_storeu_ps(o + 6 * 16, _mm256_permute2f128_ps(s2, s6, 0x31));
                _mm256_storeu_ps(o + 7 * 16, _mm256_permute2f128_ps(s3, s7, 0x31));
            }
        }
        return;
    }
    for (int j = 0; j < 16; j++)
        for (int d = 0; d < D; d++) dst[d * 16 + j] = j < nr ? k[(key0 + j) * ldkv + d] : 0;
}

MK_AVX2 static void pack_transposed_avx2(float *P, const float *W, ptrdiff_t ldw, int n, int k) {
    for (int p = 0; p * 16 < n; p++) pack_keys(P + (size_t)p * k * 16, W, ldw, 16 * p, n, k);
}

void mk_pack_transposed(float *P, const float *W, ptrdiff_t ldw, int n, int k) {
    pack_transposed_avx2(P, W, ldw, n, k);
}

// Query i of the segment sees keys lo(i)...mlen + i.
static inline int first_key(int i, int mlen, int window) { return window > 0 ? imax(0, mlen + i - window + 1) : 0; }

// Values v [klen, D] (rows ldkv apart) from key `from` on into panels of 16 columns: P [ceil(D/16)][klen][16], rows
// before `from` left as they are.
MK_AVX2 static void pack_values(float *P, const float *v, ptrdiff_t ldkv, int from, int klen, int D) {
    for (int c = 0; c < D; c += 16) {
        float *dst = P + (size_t)c * klen;
        int nr = imin(16, D - c);
        if (nr == 16) {
            for (int j = from; j < klen; j++) {
                _mm256_storeu_ps(dst + j * 16, _mm256_loadu_ps(v + j * ldkv + c));
                _mm256_storeu_ps(dst + j * 16 + 8, _mm256_loadu_ps(v + j * ldkv + c + 8));
            }
        } else {
            for (int j = from; j < klen; j++)
                for (int i = 0; i < 16; i++) dst[j * 16 + i] = i < nr ? v[j * ldkv + c + i] : 0;
        }
    }
}

// Queries per block: two of the micro-kernel's 6-row tiles share each panel of positions, keys and values.
enum { QB = 12 };

// A block's scores: QB rows of 32 floats of margin (the shifted position term may land up to 20 keys before 0), then
// keys 0..<klen.
static inline ptrdiff_t score_stride(int klen) { return klen + 32; }

size_t mk_attention_scratch(int t, int klen, int D) {
    (void)t;
    return mk_packed_floats(klen, D) + mk_packed_floats(D, klen) + QB * (size_t)score_stride(klen);
}

// Block by block of QB queries, so that a block's scores stay in cache from their products to P v; in each block, 6-row
// tile by tile as the micro-kernel goes:
// - BD = (q + v) Rrev^T straight into the scores: Rrev column c is key c - (t - 1 - i + off) of query i, so tile rows
//   stored one float more than a score row apart each land on their own keys (the relative shift as a stride);
// - AC = (q + u) k^T added to it over the keys lo...hi that the tile's queries see;
// - the softmax of each query's keys, zeros for the tile's others; then P v, each row divided by its sum afterwards.
MK_AVX2 static void rel_attention_avx2(float *vec, ptrdiff_t ldo, float *probs, float *scratch, const float *qw,
                                       const float *qr, const float *k, const float *v, ptrdiff_t ldkv,
                                       const float *rPacked, int cap, int t, int mlen, int D, int window) {
    const int klen = mlen + t, off = cap - klen, rPanels = (cap + 15) / 16, kPanels = (klen + 15) / 16;
    const ptrdiff_t lds = score_stride(klen);
    float *kp = scratch, *vp = kp + mk_packed_floats(klen, D), *sc = vp + mk_packed_floats(D, klen) + 32;
    const int lo0 = first_key(0, mlen, window);
    for (int p = lo0 / 16; p < kPanels; p++) pack_keys(kp + (size_t)p * D * 16, k, ldkv, 16 * p, klen, D);
    pack_values(vp, v, ldkv, lo0, klen, D);
    for (int i0 = 0; i0 < t; i0 += QB) {
        const int qb = imin(QB, t - i0), tiles = (qb + 5) / 6;
        // Tile s: queries i0 + 6s ..< +mr[s], keys lo[s]...hi[s], Rrev columns from need[s] on.
        int mr[QB / 6], lo[QB / 6], hi[QB / 6], need[QB / 6];
        for (int s = 0; s < tiles; s++) {
            int i1 = i0 + 6 * s;
            mr[s] = imin(6, t - i1); lo[s] = first_key(i1, mlen, window); hi[s] = mlen + i1 + mr[s] - 1;
            need[s] = 1 << 30;
            for (int i = i1; i < i1 + mr[s]; i++) need[s] = imin(need[s], first_key(i, mlen, window) + t - 1 - i + off);
        }
        for (int p = need[tiles - 1] / 16; p < rPanels; p++)
            for (int s = 0; s < tiles; s++) {
                int i1 = i0 + 6 * s;
                if (p < need[s] / 16) continue;
                kernel6x16(D, qr + i1 * D, D, rPacked + (size_t)p * D * 16, 16,
                           sc + (6 * s * lds + 16 * p - (t - 1 - i1 + off)), lds + 1, mr[s], imin(16, cap - 16 * p), 0,
                           0, 0);
            }
        for (int p = lo[0] / 16; p <= hi[tiles - 1] / 16; p++)
            for (int s = 0; s < tiles; s++) {
                if (p < lo[s] / 16 || p > hi[s] / 16) continue;
                kernel6x16(D, qw + (i0 + 6 * s) * D, D, kp + (size_t)p * D * 16, 16, sc + 6 * s * lds + 16 * p, lds,
                           mr[s], imin(16, klen - 16 * p), 1, 0, 0);
            }
        float inv[QB];
        for (int r = 0; r < qb; r++) {
            int i = i0 + r, a = first_key(i, mlen, window), b = mlen + i, s = r / 6;
            float *row = sc + r * lds;
            inv[r] = 1 / exp_row(row + a, b - a + 1);
            if (a > lo[s]) memset(row + lo[s], 0, sizeof(float) * (size_t)(a - lo[s]));
            if (b < hi[s]) memset(row + b + 1, 0, sizeof(float) * (size_t)(hi[s] - b));
        }
        for (int c = 0; c < D; c += 16)
            for (int s = 0; s < tiles; s++)
                kernel6x16(hi[s] - lo[s] + 1, sc + 6 * s * lds + lo[s], lds, vp + (size_t)c * klen + lo[s] * 16, 16,
                           vec + (i0 + 6 * s) * ldo + c, ldo, mr[s], imin(16, D - c), 0, 0, 0);
        for (int r = 0; r < qb; r++) {
            scale_row(vec + (i0 + r) * ldo, D, inv[r]);
            if (!probs) continue;
            int i = i0 + r, a = first_key(i, mlen, window), b = mlen + i;
            float *dst = probs + (size_t)i * klen;
            const float *src = sc + r * lds;
            memset(dst, 0, sizeof(float) * (size_t)klen);
            for (int j = a; j <= b; j++) dst[j] = src[j] * inv[r];
        }
    }
}

void mk_rel_attention(float *vec, ptrdiff_t ldo, float *probs, float *scratch, const float *qw, const float *qr,
                      const float *k, const float *v, ptrdiff_t ldkv, const float *rPacked, int cap, int t, int mlen,
                      int D, int window) {
    rel_attention_avx2(vec, ldo, probs, scratch, qw, qr, k, v, ldkv, rPacked, cap, t, mlen, D, window);
}

#else

// Elsewhere the kernels never run (mk_available() is 0); these only let the package link.
int mk_available(void) { return 0; }
void mk_pack_transposed(float *P, const float *W, ptrdiff_t ldw, int n, int k) {
    (void)P; (void)W; (void)ldw; (void)n; (void)k;
}
void mk_pack_rows(float *P, const float *B, ptrdiff_t ldb, int k, int n) {
    (void)P; (void)B; (void)ldb; (void)k; (void)n;
}
void mk_gemm(float *C, ptrdiff_t ldc, const float *A, ptrdiff_t lda, const float *P, int m, int n, int k,
             int accumulate, const float *relu) {
    (void)C; (void)ldc; (void)A; (void)lda; (void)P; (void)m; (void)n; (void)k; (void)accumulate; (void)relu;
}
size_t mk_attention_scratch(int t, int klen, int D) { (void)t; (void)klen; (void)D; return 1; }
void mk_rel_attention(float *vec, ptrdiff_t ldo, float *probs, float *scratch, const float *qw, const float *qr,
                      const float *k, const float *v, ptrdiff_t ldkv, const float *rPacked, int cap, int t, int mlen,
                      int D, int window) {
    (void)vec; (void)ldo; (void)probs; (void)scratch; (void)qw; (void)qr; (void)k; (void)v; (void)ldkv;
    (void)rPacked; (void)cap; (void)t; (void)mlen; (void)D; (void)window;
}

#endif
