/*
 * gemm.c -- the fast matmul: packed panels, register-blocked micro-kernel,
 * cache blocking (the BLIS/GotoBLAS loop nest), optional OpenMP.
 *
 *   for jc in N step NC:              B block  KC x NC  -> packed Bp (L3)
 *     for pc in K step KC:
 *       pack op(B)[pc:pc+KC, jc:jc+NC] into NR-wide column panels
 *       for ic in M step MC:          A block  MC x KC  -> packed Ap (L2)
 *         pack op(A)[ic:ic+MC, pc:pc+KC] into MR-tall row panels
 *         for jr in NC step NR:       one B panel (KC x NR) stays in L1
 *           for ir in MC step MR:
 *             C[ir:ir+MR, jr:jr+NR] (+)= Ap_panel(ir) @ Bp_panel(jr)
 *
 * Transposes are absorbed by the packing routines (they read op(A), op(B)
 * through row/column strides), so no transpose is ever materialised.
 * Partial panels at the edges are packed with zeros; partial C tiles are
 * computed into a small local tile and the valid part copied out.
 *
 * Micro-kernels: float32 6x16 and float64 6x8 (12 AVX2 accumulators, FMA),
 * selected at run time with __builtin_cpu_supports; elsewhere a portable C
 * kernel with the same tile shape (and the same packing) is used.  Compile
 * with -DENG_NO_SIMD, or run with ENGINE_ISA=generic, to force it.
 */
#include <stdlib.h>
#include <string.h>
#include "internal.h"

#if ENG_X86
#include <immintrin.h>
#endif

/* Tile and block sizes.  MR x NR is the register tile; KC x NR floats of B
 * (16 KiB) stay in L1, MC x KC of A (about 144 KiB) in L2, KC x NC of B in L3. */
#define GEMM_MR_f32 6
#define GEMM_NR_f32 16
#define GEMM_KC_f32 256
#define GEMM_MC_f32 144
#define GEMM_NC_f32 3072

#define GEMM_MR_f64 6
#define GEMM_NR_f64 8
#define GEMM_KC_f64 256
#define GEMM_MC_f64 72
#define GEMM_NC_f64 1536

#define MAXB(a, b) ((a) > (b) ? (a) : (b))
#define ABUF_BYTES MAXB(GEMM_MC_f32 * GEMM_KC_f32 * 4, GEMM_MC_f64 * GEMM_KC_f64 * 8)
#define BBUF_BYTES MAXB(GEMM_KC_f32 * GEMM_NC_f32 * 4, GEMM_KC_f64 * GEMM_NC_f64 * 8)

/* Below this many multiply-adds a matmul stays on one thread. */
#define GEMM_PAR_MIN_MACS ((int64_t)1 << 20)

/* ------------------------------------------------------- packing buffers --
 * One A buffer and one B buffer per thread, allocated on first use and then
 * reused by every call (no malloc per call). */
static _Thread_local void *tls_abuf;
static _Thread_local void *tls_bbuf;

static void *get_buf(void **slot, size_t bytes)
{
    if (!*slot)
        *slot = aligned_alloc(64, bytes);   /* bytes is a multiple of 64 */
    return *slot;
}

/* ------------------------------------------------------------- dispatch -- */
int eng_gemm_uses_avx2(void)
{
    return ENG_X86 && eng_isa() >= ENG_ISA_AVX2;
}

/* ------------------------------------------------- AVX2+FMA micro-kernels --
 * C[0:6, 0:NR] = sum_p a[p*6 + i] * b[p*NR + j]  (+ beta*C when beta != 0) */
#if ENG_X86
__attribute__((target(ENG_TARGET_AVX2)))
static void ukern_avx2_f32(int64_t kc, const float *restrict a, const float *restrict b,
                           float *restrict c, int64_t ldc, float beta)
{
    __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps();
    __m256 c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
    __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps();
    __m256 c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
    __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps();
    __m256 c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
    for (int64_t p = 0; p < kc; p++) {
        const __m256 b0 = _mm256_load_ps(b), b1 = _mm256_load_ps(b + 8);
        __m256 ai;
        ai = _mm256_broadcast_ss(a + 0);
        c00 = _mm256_fmadd_ps(ai, b0, c00); c01 = _mm256_fmadd_ps(ai, b1, c01);
        ai = _mm256_broadcast_ss(a + 1);
        c10 = _mm256_fmadd_ps(ai, b0, c10); c11 = _mm256_fmadd_ps(ai, b1, c11);
        ai = _mm256_broadcast_ss(a + 2);
        c20 = _mm256_fmadd_ps(ai, b0, c20); c21 = _mm256_fmadd_ps(ai, b1, c21);
        ai = _mm256_broadcast_ss(a + 3);
        c30 = _mm256_fmadd_ps(ai, b0, c30); c31 = _mm256_fmadd_ps(ai, b1, c31);
        ai = _mm256_broadcast_ss(a + 4);
        c40 = _mm256_fmadd_ps(ai, b0, c40); c41 = _mm256_fmadd_ps(ai, b1, c41);
        ai = _mm256_broadcast_ss(a + 5);
        c50 = _mm256_fmadd_ps(ai, b0, c50); c51 = _mm256_fmadd_ps(ai, b1, c51);
        a += 6;
        b += 16;
    }
    __m256 acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (beta == 0) {
        for (int i = 0; i < 6; i++) {
            _mm256_storeu_ps(c + i * ldc, acc[2 * i]);
            _mm256_storeu_ps(c + i * ldc + 8, acc[2 * i + 1]);
        }
    } else {
        const __m256 bv = _mm256_set1_ps(beta);
        for (int i = 0; i < 6; i++) {
            float *ci = c + i * ldc;
            _mm256_storeu_ps(ci, _mm256_fmadd_ps(bv, _mm256_loadu_ps(ci), acc[2 * i]));
            _mm256_storeu_ps(ci + 8, _mm256_fmadd_ps(bv, _mm256_loadu_ps(ci + 8), acc[2 * i + 1]));
        }
    }
}

__attribute__((target(ENG_TARGET_AVX2)))
static void ukern_avx2_f64(int64_t kc, const double *restrict a, const double *restrict b,
                           double *restrict c, int64_t ldc, double beta)
{
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd();
    __m256d c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    for (int64_t p = 0; p < kc; p++) {
        const __m256d b0 = _mm256_load_pd(b), b1 = _mm256_load_pd(b + 4);
        __m256d ai;
        ai = _mm256_broadcast_sd(a + 0);
        c00 = _mm256_fmadd_pd(ai, b0, c00); c01 = _mm256_fmadd_pd(ai, b1, c01);
        ai = _mm256_broadcast_sd(a + 1);
        c10 = _mm256_fmadd_pd(ai, b0, c10); c11 = _mm256_fmadd_pd(ai, b1, c11);
        ai = _mm256_broadcast_sd(a + 2);
        c20 = _mm256_fmadd_pd(ai, b0, c20); c21 = _mm256_fmadd_pd(ai, b1, c21);
        ai = _mm256_broadcast_sd(a + 3);
        c30 = _mm256_fmadd_pd(ai, b0, c30); c31 = _mm256_fmadd_pd(ai, b1, c31);
        ai = _mm256_broadcast_sd(a + 4);
        c40 = _mm256_fmadd_pd(ai, b0, c40); c41 = _mm256_fmadd_pd(ai, b1, c41);
        ai = _mm256_broadcast_sd(a + 5);
        c50 = _mm256_fmadd_pd(ai, b0, c50); c51 = _mm256_fmadd_pd(ai, b1, c51);
        a += 6;
        b += 8;
    }
    __m256d acc[12] = {c00, c01, c10, c11, c20, c21, c30, c31, c40, c41, c50, c51};
    if (beta == 0) {
        for (int i = 0; i < 6; i++) {
            _mm256_storeu_pd(c + i * ldc, acc[2 * i]);
            _mm256_storeu_pd(c + i * ldc + 4, acc[2 * i + 1]);
        }
    } else {
        const __m256d bv = _mm256_set1_pd(beta);
        for (int i = 0; i < 6; i++) {
            double *ci = c + i * ldc;
            _mm256_storeu_pd(ci, _mm256_fmadd_pd(bv, _mm256_loadu_pd(ci), acc[2 * i]));
            _mm256_storeu_pd(ci + 4, _mm256_fmadd_pd(bv, _mm256_loadu_pd(ci + 4), acc[2 * i + 1]));
        }
    }
}
#endif /* ENG_X86 */

#define ENG_DTYPE 32
#include "gemm_impl.h"
#define ENG_DTYPE 64
#include "gemm_impl.h"
