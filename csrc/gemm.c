/*
 * gemm.c -- the fast matmul: packed panels, register-blocked micro-kernels,
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
 * Partial panels at the edges are packed with zeros, so a micro-kernel can
 * always compute whole tiles; it stores only the valid mr x nr part.
 *
 * Kernel sets (eng_isa(), read once per call):
 *   avx512   float32 14x32, float64 14x16  (28 of the 32 zmm registers accumulate)
 *   avx2     float32 6x16,  float64 6x8    (12 of the 16 ymm registers accumulate)
 *   generic  portable C with the AVX2 tile shape
 * The two x86 sets also pack with vector code: a copying pack for operands
 * whose packed rows are contiguous in memory, and a transposing pack (in
 * register transposes) for the others, e.g. a row-major A.
 * MR and NR come from the kernel set; KC, MC and NC from the cache sizes read
 * at run time (eng_gemm_blocks below), so the packing follows both.
 * A call's plan (kernel, packers, MR/NR/KC/MC/NC) is made once per call in
 * gemm_impl.h (plan_for).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "internal.h"

#if ENG_X86
#include <immintrin.h>
#endif
#if !defined(_WIN32)
#include <pthread.h>
#endif

#if defined(__GNUC__) || defined(__clang__)
#define ENG_ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ENG_ALWAYS_INLINE inline
#endif

/* Register tiles.  The generic kernel uses the AVX2 shape: 6 rows of one
 * 32-byte vector pair, which a compiler can keep in 16 registers. */
#define GEMM_GEN_MR_f32 6
#define GEMM_GEN_NR_f32 16
#define GEMM_GEN_MR_f64 6
#define GEMM_GEN_NR_f64 8
#define GEMM_AVX2_MR_f32 6
#define GEMM_AVX2_NR_f32 16
#define GEMM_AVX2_MR_f64 6
#define GEMM_AVX2_NR_f64 8
#define GEMM_AVX512_MR_f32 14
#define GEMM_AVX512_NR_f32 32
#define GEMM_AVX512_MR_f64 14
#define GEMM_AVX512_NR_f64 16

/* Below this many multiply-adds a matmul stays on one thread. */
#define GEMM_PAR_MIN_MACS ((int64_t)1 << 20)

/* ------------------------------------------------------------ block sizes --
 * Cache sizes are read once, never per call (sysconf may run cpuid, which a
 * VM traps: microseconds).  Unknown or implausible values fall back to 32 KiB L1d,
 * 1 MiB L2 and 32 MiB L3, which fit most x86 cores of the last decade. */
static int64_t g_cache[3];       /* L1d, L2, L3 in bytes; 0 until read */

static int64_t read_cache(int level, int64_t fallback, int64_t lo, int64_t hi)
{
    long v = 0;
#if defined(_SC_LEVEL1_DCACHE_SIZE) && defined(_SC_LEVEL2_CACHE_SIZE) && defined(_SC_LEVEL3_CACHE_SIZE)
    v = sysconf(level == 1 ? _SC_LEVEL1_DCACHE_SIZE
                           : level == 2 ? _SC_LEVEL2_CACHE_SIZE : _SC_LEVEL3_CACHE_SIZE);
#else
    (void)level;
#endif
    return v >= lo && v <= hi ? (int64_t)v : fallback;
}

static void cache_sizes(int64_t *l1, int64_t *l2, int64_t *l3)
{
    if (!__atomic_load_n(&g_cache[2], __ATOMIC_ACQUIRE)) {
        /* Several threads may get here at once; they all store the same values. */
        __atomic_store_n(&g_cache[0], read_cache(1, 32 << 10, 8 << 10, 4 << 20), __ATOMIC_RELAXED);
        __atomic_store_n(&g_cache[1], read_cache(2, 1 << 20, 64 << 10, 64 << 20), __ATOMIC_RELAXED);
        __atomic_store_n(&g_cache[2], read_cache(3, 32 << 20, 1 << 20, (int64_t)4 << 30),
                         __ATOMIC_RELEASE);
    }
    *l1 = __atomic_load_n(&g_cache[0], __ATOMIC_RELAXED);
    *l2 = __atomic_load_n(&g_cache[1], __ATOMIC_RELAXED);
    *l3 = __atomic_load_n(&g_cache[2], __ATOMIC_ACQUIRE);
}

/* KC, MC, NC for elements of `s` bytes and an mr x nr register tile:
 *   KC: one packed B panel (KC x nr) takes half of L1d; the other half holds
 *       the A panel streaming through and the C tile.  (On a 48 KiB L1d that
 *       is 192 for the AVX-512 tiles; 256 and 384 measured the same within
 *       the noise, so the rule stays the simple one.)
 *   MC: the packed A block (MC x KC) takes half of L2, a multiple of mr.
 *   NC: the packed B block (KC x NC) takes a quarter of L3 (shared with the
 *       other cores), at most 4 MiB (a VM may report a whole socket's L3, and
 *       past a few thousand columns a wider block saves nothing), a multiple of nr. */
static void eng_gemm_blocks(int64_t s, int mr, int nr, int64_t *kc, int64_t *mc, int64_t *nc)
{
    int64_t l1, l2, l3;
    cache_sizes(&l1, &l2, &l3);
    int64_t k = l1 / 2 / (nr * s) / 8 * 8;
    k = k < 64 ? 64 : k > 1024 ? 1024 : k;
    int64_t m = l2 / 2 / (k * s) / mr * mr;
    m = m < mr ? mr : m;
    int64_t bb = l3 / 4 < ((int64_t)4 << 20) ? l3 / 4 : ((int64_t)4 << 20);
    int64_t n = bb / (k * s) / nr * nr;
    n = n < nr ? nr : n;
    *kc = k;
    *mc = m;
    *nc = n;
}

/* The block size for cutting n into blocks of at most `max` (a multiple of
 * `align`), in a number of blocks that is a multiple of `parts`, all of the
 * same size up to rounding to `align`: 1024 in blocks of at most 672 gives
 * 2 x 512, not 672 + 352.  A thin last block would run the kernel with a
 * short k loop or a short column range, or leave a thread with less work. */
static int64_t even_block(int64_t n, int64_t max, int64_t parts, int64_t align)
{
    int64_t nb = (n + max - 1) / max;
    nb = (nb + parts - 1) / parts * parts;
    int64_t b = (n + nb - 1) / nb;
    b = (b + align - 1) / align * align;
    return b > max ? max : b;
}

/* ------------------------------------------------------- packing buffers --
 * One A buffer and one B buffer per thread, grown to the largest block used
 * so far and then reused by every call (no malloc per call).  A thread that
 * exits frees its buffers (pthread key destructor); the OpenMP workers live
 * as long as the process. */
typedef struct {
    void *p;
    size_t bytes;
} eng_buf;

static _Thread_local eng_buf tls_abuf, tls_bbuf;

#if !defined(_WIN32)
static pthread_key_t g_buf_key;
static pthread_once_t g_buf_once = PTHREAD_ONCE_INIT;
static int g_buf_key_ok;

static void free_thread_bufs(void *unused)
{
    (void)unused;
    free(tls_abuf.p);
    free(tls_bbuf.p);
    tls_abuf = (eng_buf){NULL, 0};
    tls_bbuf = (eng_buf){NULL, 0};
}

static void make_buf_key(void)
{
    g_buf_key_ok = pthread_key_create(&g_buf_key, free_thread_bufs) == 0;
}
#endif

static void *get_buf(eng_buf *b, size_t bytes)
{
    bytes = (bytes + 63) / 64 * 64;             /* aligned_alloc wants a multiple of 64 */
    if (b->bytes < bytes) {
        free(b->p);
        b->p = aligned_alloc(64, bytes);
        b->bytes = b->p ? bytes : 0;
#if !defined(_WIN32)
        pthread_once(&g_buf_once, make_buf_key);
        if (b->p && g_buf_key_ok)
            pthread_setspecific(g_buf_key, b);  /* any non-NULL value arms the destructor */
#endif
    }
    return b->p;
}

/* ------------------------------------------------------------- dispatch -- */
int eng_gemm_uses_avx2(void)
{
    return ENG_X86 && eng_isa() >= ENG_ISA_AVX2;
}

#if ENG_X86
/* ------------------------------------------------- AVX2+FMA micro-kernels --
 * float32 6x16 / float64 6x8: 6 rows x 2 ymm = 12 accumulators, 2 registers
 * for the B row and 1 for the broadcast A element: 15 of the 16 ymm registers.
 * Per k step 12 FMAs against 2 loads + 6 broadcasts, enough independent FMAs
 * (12) to cover the FMA latency on two pipes.
 * C[0:mr, 0:nr] = sum_p a[p*6 + i] * b[p*NR + j]  (+ beta*C when beta != 0);
 * a partial tile goes through a local tile so that nothing outside
 * C[0:mr, 0:nr] is read or written. */
__attribute__((target(ENG_TARGET_AVX2)))
static void ukern_avx2_f32(int64_t kc, const float *restrict a, const float *restrict b,
                           float *restrict c, int64_t ldc, float beta, int mr, int nr)
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
    if (mr == 6 && nr == 16) {
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
        return;
    }
    float tile[6 * 16];
    for (int i = 0; i < 12; i++)
        _mm256_storeu_ps(tile + 8 * i, acc[i]);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = beta == 0 ? tile[i * 16 + j] : tile[i * 16 + j] + beta * c[i * ldc + j];
}

__attribute__((target(ENG_TARGET_AVX2)))
static void ukern_avx2_f64(int64_t kc, const double *restrict a, const double *restrict b,
                           double *restrict c, int64_t ldc, double beta, int mr, int nr)
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
    if (mr == 6 && nr == 8) {
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
        return;
    }
    double tile[6 * 8];
    for (int i = 0; i < 12; i++)
        _mm256_storeu_pd(tile + 4 * i, acc[i]);
    for (int i = 0; i < mr; i++)
        for (int j = 0; j < nr; j++)
            c[i * ldc + j] = beta == 0 ? tile[i * 8 + j] : tile[i * 8 + j] + beta * c[i * ldc + j];
}

/* --------------------------------------------------- AVX-512 micro-kernels --
 * float32 14x32 / float64 14x16: each of the 14 rows holds two zmm
 * accumulators (28 registers); the B row takes 2 more and the broadcast A
 * element 1: 31 of the 32 zmm registers.  Per k step: 28 FMAs against 2 vector
 * loads and 14 broadcasts, so the two FMA pipes stay the bottleneck (loads
 * have slack) and 28 independent chains hide the FMA latency many times over.
 * Taller tiles re-use each loaded B vector more; 14 is the most rows that fit
 * with two vectors per row.  (12x32 measured the same or slower; wider tiles
 * such as 8x48 re-use B less and waste more on edge columns.)
 *
 * The body is written once for ROWS computed rows (a constant after inlining,
 * so the loops unroll and the accumulators live in registers).  The full
 * kernel computes 14; a partial row panel at the bottom edge runs the
 * instance for mr rounded up to even, so at most one row of work is wasted
 * there (the panel is zero-padded to 14 rows, the stride of `a` stays 14).
 * Columns beyond nr are cut off with AVX-512 write masks, and with
 * beta != 0 C is read through the same masks, so nothing outside
 * C[0:mr, 0:nr] is touched.  The C rows are prefetched before the k loop,
 * which is long enough to hide that latency. */
__attribute__((target(ENG_TARGET_AVX512)))
static ENG_ALWAYS_INLINE void ukern512_rows_f32(const int ROWS, int64_t kc, const float *restrict a,
                                                const float *restrict b, float *restrict c,
                                                int64_t ldc, float beta, int mr, int nr)
{
    enum { MR = GEMM_AVX512_MR_f32 };
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++)
        c0[i] = c1[i] = _mm512_setzero_ps();
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 31), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; p++) {
        const __m512 b0 = _mm512_load_ps(b), b1 = _mm512_load_ps(b + 16);
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++) {
            const __m512 ai = _mm512_set1_ps(a[i]);
            c0[i] = _mm512_fmadd_ps(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_ps(ai, b1, c1[i]);
        }
        a += MR;
        b += 32;
    }
    const __m512 bv = _mm512_set1_ps(beta);
    if (mr == MR && nr == 32) {
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++) {
            float *ci = c + i * ldc;
            if (beta != 0) {
                c0[i] = _mm512_fmadd_ps(bv, _mm512_loadu_ps(ci), c0[i]);
                c1[i] = _mm512_fmadd_ps(bv, _mm512_loadu_ps(ci + 16), c1[i]);
            }
            _mm512_storeu_ps(ci, c0[i]);
            _mm512_storeu_ps(ci + 16, c1[i]);
        }
        return;
    }
    const __mmask16 m0 = nr >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nr) - 1);
    const __mmask16 m1 = nr >= 32 ? (__mmask16)0xFFFF : nr <= 16 ? (__mmask16)0
                                                                 : (__mmask16)((1u << (nr - 16)) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
        if (i >= mr)
            break;
        float *ci = c + i * ldc;
        if (beta != 0) {
            c0[i] = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m0, ci), c0[i]);
            c1[i] = _mm512_fmadd_ps(bv, _mm512_maskz_loadu_ps(m1, ci + 16), c1[i]);
        }
        _mm512_mask_storeu_ps(ci, m0, c0[i]);
        _mm512_mask_storeu_ps(ci + 16, m1, c1[i]);
    }
}

__attribute__((target(ENG_TARGET_AVX512)))
static ENG_ALWAYS_INLINE void ukern512_rows_f64(const int ROWS, int64_t kc, const double *restrict a,
                                                const double *restrict b, double *restrict c,
                                                int64_t ldc, double beta, int mr, int nr)
{
    enum { MR = GEMM_AVX512_MR_f64 };
    __m512d c0[MR], c1[MR];
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++)
        c0[i] = c1[i] = _mm512_setzero_pd();
    for (int i = 0; i < mr; i++) {
        _mm_prefetch((const char *)(c + i * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(c + i * ldc + 15), _MM_HINT_T0);
    }
#pragma GCC unroll 4
    for (int64_t p = 0; p < kc; p++) {
        const __m512d b0 = _mm512_load_pd(b), b1 = _mm512_load_pd(b + 8);
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++) {
            const __m512d ai = _mm512_set1_pd(a[i]);
            c0[i] = _mm512_fmadd_pd(ai, b0, c0[i]);
            c1[i] = _mm512_fmadd_pd(ai, b1, c1[i]);
        }
        a += MR;
        b += 16;
    }
    const __m512d bv = _mm512_set1_pd(beta);
    if (mr == MR && nr == 16) {
#pragma GCC unroll 16
        for (int i = 0; i < ROWS; i++) {
            double *ci = c + i * ldc;
            if (beta != 0) {
                c0[i] = _mm512_fmadd_pd(bv, _mm512_loadu_pd(ci), c0[i]);
                c1[i] = _mm512_fmadd_pd(bv, _mm512_loadu_pd(ci + 8), c1[i]);
            }
            _mm512_storeu_pd(ci, c0[i]);
            _mm512_storeu_pd(ci + 8, c1[i]);
        }
        return;
    }
    const __mmask8 m0 = nr >= 8 ? (__mmask8)0xFF : (__mmask8)((1u << nr) - 1);
    const __mmask8 m1 = nr >= 16 ? (__mmask8)0xFF : nr <= 8 ? (__mmask8)0
                                                            : (__mmask8)((1u << (nr - 8)) - 1);
#pragma GCC unroll 16
    for (int i = 0; i < ROWS; i++) {
        if (i >= mr)
            break;
        double *ci = c + i * ldc;
        if (beta != 0) {
            c0[i] = _mm512_fmadd_pd(bv, _mm512_maskz_loadu_pd(m0, ci), c0[i]);
            c1[i] = _mm512_fmadd_pd(bv, _mm512_maskz_loadu_pd(m1, ci + 8), c1[i]);
        }
        _mm512_mask_storeu_pd(ci, m0, c0[i]);
        _mm512_mask_storeu_pd(ci + 8, m1, c1[i]);
    }
}

/* The micro-kernels proper: the full 14-row instance, or the one for mr
 * rounded up to even at the bottom edge. */
#define UKERN512_BODY(DT)                                                                      \
    switch ((mr + 1) / 2) {                                                                    \
    case 1: ukern512_rows_##DT(2, kc, a, b, c, ldc, beta, mr, nr); break;                      \
    case 2: ukern512_rows_##DT(4, kc, a, b, c, ldc, beta, mr, nr); break;                      \
    case 3: ukern512_rows_##DT(6, kc, a, b, c, ldc, beta, mr, nr); break;                      \
    case 4: ukern512_rows_##DT(8, kc, a, b, c, ldc, beta, mr, nr); break;                      \
    case 5: ukern512_rows_##DT(10, kc, a, b, c, ldc, beta, mr, nr); break;                     \
    case 6: ukern512_rows_##DT(12, kc, a, b, c, ldc, beta, mr, nr); break;                     \
    default: ukern512_rows_##DT(14, kc, a, b, c, ldc, beta, mr, nr); break;                    \
    }

#if GEMM_AVX512_MR_f32 != 14 || GEMM_AVX512_MR_f64 != 14
#error "UKERN512_BODY's row instances assume MR = 14"
#endif

__attribute__((target(ENG_TARGET_AVX512)))
static void ukern_avx512_f32(int64_t kc, const float *restrict a, const float *restrict b,
                             float *restrict c, int64_t ldc, float beta, int mr, int nr)
{
    UKERN512_BODY(f32)
}

__attribute__((target(ENG_TARGET_AVX512)))
static void ukern_avx512_f64(int64_t kc, const double *restrict a, const double *restrict b,
                             double *restrict c, int64_t ldc, double beta, int mr, int nr)
{
    UKERN512_BODY(f64)
}
#undef UKERN512_BODY

/* ------------------------------------------------ AVX-512 transposing pack --
 * d[p*W + i] = i < R ? src[i*ld + p] : 0   for p < kc, i < W
 * i.e. R rows of a row-major block, each contiguous along p, written as the
 * W-wide interleaved panel the micro-kernels read.  This is the packing of a
 * row-major op(A) (W = MR) and of a transposed op(B) (W = NR); element by
 * element it costs about one load and one store per value, as much as a
 * quarter of the multiply at n = 256, so it goes through registers: 16 (or 8)
 * row pieces are loaded, transposed in registers and stored as W-wide rows.
 * Row pieces past R read as zeros (the padding); the last p block and the
 * last W lanes use load and store masks, so nothing outside is touched. */

/* In-register transpose of a 16x16 float block (r[i] = row i on entry,
 * column i on exit): 2x2 blocks of floats, then of float pairs, then of
 * 128-bit lanes in two steps. */
__attribute__((target(ENG_TARGET_AVX512)))
static inline void transpose16_f32(__m512 r[16])
{
    __m512 t[16];
    for (int i = 0; i < 8; i++) {
        t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int i = 0; i < 4; i++) {
        const __m512d t0 = _mm512_castps_pd(t[4 * i]), t1 = _mm512_castps_pd(t[4 * i + 1]);
        const __m512d t2 = _mm512_castps_pd(t[4 * i + 2]), t3 = _mm512_castps_pd(t[4 * i + 3]);
        r[4 * i] = _mm512_castpd_ps(_mm512_unpacklo_pd(t0, t2));
        r[4 * i + 1] = _mm512_castpd_ps(_mm512_unpackhi_pd(t0, t2));
        r[4 * i + 2] = _mm512_castpd_ps(_mm512_unpacklo_pd(t1, t3));
        r[4 * i + 3] = _mm512_castpd_ps(_mm512_unpackhi_pd(t1, t3));
    }
    /* r[4*i + c], 128-bit lane L now holds rows 4i..4i+3 of column 4L + c */
    for (int c = 0; c < 4; c++) {
        const __m512 a = _mm512_shuffle_f32x4(r[c], r[4 + c], 0x88);     /* lanes 0, 2 */
        const __m512 b = _mm512_shuffle_f32x4(r[c], r[4 + c], 0xDD);     /* lanes 1, 3 */
        const __m512 e = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0x88);
        const __m512 f = _mm512_shuffle_f32x4(r[8 + c], r[12 + c], 0xDD);
        t[c] = _mm512_shuffle_f32x4(a, e, 0x88);
        t[8 + c] = _mm512_shuffle_f32x4(a, e, 0xDD);
        t[4 + c] = _mm512_shuffle_f32x4(b, f, 0x88);
        t[12 + c] = _mm512_shuffle_f32x4(b, f, 0xDD);
    }
    for (int i = 0; i < 16; i++)
        r[i] = t[i];
}

/* The same for an 8x8 double block. */
__attribute__((target(ENG_TARGET_AVX512)))
static inline void transpose8_f64(__m512d r[8])
{
    __m512d t[8], u[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm512_unpacklo_pd(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm512_unpackhi_pd(r[2 * i], r[2 * i + 1]);
    }
    /* t[2i] lane L: rows 2i, 2i+1 of column 2L; t[2i+1]: of column 2L+1 */
    for (int h = 0; h < 2; h++) {
        u[4 * h] = _mm512_shuffle_f64x2(t[4 * h], t[4 * h + 2], 0x88);         /* columns 0, 4 */
        u[4 * h + 1] = _mm512_shuffle_f64x2(t[4 * h], t[4 * h + 2], 0xDD);     /* columns 2, 6 */
        u[4 * h + 2] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0x88); /* columns 1, 5 */
        u[4 * h + 3] = _mm512_shuffle_f64x2(t[4 * h + 1], t[4 * h + 3], 0xDD); /* columns 3, 7 */
    }
    r[0] = _mm512_shuffle_f64x2(u[0], u[4], 0x88);
    r[4] = _mm512_shuffle_f64x2(u[0], u[4], 0xDD);
    r[2] = _mm512_shuffle_f64x2(u[1], u[5], 0x88);
    r[6] = _mm512_shuffle_f64x2(u[1], u[5], 0xDD);
    r[1] = _mm512_shuffle_f64x2(u[2], u[6], 0x88);
    r[5] = _mm512_shuffle_f64x2(u[2], u[6], 0xDD);
    r[3] = _mm512_shuffle_f64x2(u[3], u[7], 0x88);
    r[7] = _mm512_shuffle_f64x2(u[3], u[7], 0xDD);
}

__attribute__((target(ENG_TARGET_AVX512)))
static void tpack_avx512_f32(int64_t kc, const float *src, int64_t ld, int R, int W, float *d)
{
    for (int64_t p0 = 0; p0 < kc; p0 += 16) {
        const int np = kc - p0 < 16 ? (int)(kc - p0) : 16;
        const __mmask16 lm = (__mmask16)(np == 16 ? 0xFFFFu : (1u << np) - 1);
        for (int g = 0; g < W; g += 16) {
            __m512 r[16];
            for (int i = 0; i < 16; i++)
                r[i] = g + i < R ? _mm512_maskz_loadu_ps(lm, src + (g + i) * ld + p0)
                                 : _mm512_setzero_ps();
            transpose16_f32(r);
            const int lanes = W - g < 16 ? W - g : 16;
            const __mmask16 sm = (__mmask16)(lanes == 16 ? 0xFFFFu : (1u << lanes) - 1);
            for (int q = 0; q < np; q++)
                _mm512_mask_storeu_ps(d + (p0 + q) * W + g, sm, r[q]);
        }
    }
}

__attribute__((target(ENG_TARGET_AVX512)))
static void tpack_avx512_f64(int64_t kc, const double *src, int64_t ld, int R, int W, double *d)
{
    for (int64_t p0 = 0; p0 < kc; p0 += 8) {
        const int np = kc - p0 < 8 ? (int)(kc - p0) : 8;
        const __mmask8 lm = (__mmask8)((1u << np) - 1);
        for (int g = 0; g < W; g += 8) {
            __m512d r[8];
            for (int i = 0; i < 8; i++)
                r[i] = g + i < R ? _mm512_maskz_loadu_pd(lm, src + (g + i) * ld + p0)
                                 : _mm512_setzero_pd();
            transpose8_f64(r);
            const int lanes = W - g < 8 ? W - g : 8;
            const __mmask8 sm = (__mmask8)((1u << lanes) - 1);
            for (int q = 0; q < np; q++)
                _mm512_mask_storeu_pd(d + (p0 + q) * W + g, sm, r[q]);
        }
    }
}

/* ---------------------------------------------------- copying pack --------
 * d[p*W + j] = j < R ? src[p*ld + j] : 0   for p < kc, j < W
 * The packing of a row-major op(B) (W = NR) and of a transposed op(A)
 * (W = MR): each packed row is a contiguous piece of the source.  Written
 * with vector loads and stores (the plain loop becomes a memmove call per
 * row), and masks for the last lanes, so padding is written as zeros and
 * nothing past R is read. */
__attribute__((target(ENG_TARGET_AVX512)))
static void cpack_avx512_f32(int64_t kc, const float *src, int64_t ld, int R, int W, float *d)
{
    for (int g = 0; g < W; g += 16) {
        const int ln = R - g < 0 ? 0 : R - g > 16 ? 16 : R - g, sn = W - g > 16 ? 16 : W - g;
        const __mmask16 lm = (__mmask16)((1u << ln) - 1), sm = (__mmask16)((1u << sn) - 1);
        for (int64_t p = 0; p < kc; p++)
            _mm512_mask_storeu_ps(d + p * W + g, sm, _mm512_maskz_loadu_ps(lm, src + p * ld + g));
    }
}

__attribute__((target(ENG_TARGET_AVX512)))
static void cpack_avx512_f64(int64_t kc, const double *src, int64_t ld, int R, int W, double *d)
{
    for (int g = 0; g < W; g += 8) {
        const int ln = R - g < 0 ? 0 : R - g > 8 ? 8 : R - g, sn = W - g > 8 ? 8 : W - g;
        const __mmask8 lm = (__mmask8)((1u << ln) - 1), sm = (__mmask8)((1u << sn) - 1);
        for (int64_t p = 0; p < kc; p++)
            _mm512_mask_storeu_pd(d + p * W + g, sm, _mm512_maskz_loadu_pd(lm, src + p * ld + g));
    }
}

/* AVX2 versions of both packs.  AVX2 masks are vectors whose lanes are all
 * ones (-1) where the lane is used: lanes_f32(n) has the first n lanes set. */
__attribute__((target(ENG_TARGET_AVX2)))
static inline __m256i lanes_f32(int n)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

__attribute__((target(ENG_TARGET_AVX2)))
static inline __m256i lanes_f64(int n)
{
    return _mm256_cmpgt_epi64(_mm256_set1_epi64x(n), _mm256_setr_epi64x(0, 1, 2, 3));
}

__attribute__((target(ENG_TARGET_AVX2)))
static void cpack_avx2_f32(int64_t kc, const float *src, int64_t ld, int R, int W, float *d)
{
    for (int g = 0; g < W; g += 8) {
        const __m256i lm = lanes_f32(R - g), sm = lanes_f32(W - g);
        for (int64_t p = 0; p < kc; p++)
            _mm256_maskstore_ps(d + p * W + g, sm, _mm256_maskload_ps(src + p * ld + g, lm));
    }
}

__attribute__((target(ENG_TARGET_AVX2)))
static void cpack_avx2_f64(int64_t kc, const double *src, int64_t ld, int R, int W, double *d)
{
    for (int g = 0; g < W; g += 4) {
        const __m256i lm = lanes_f64(R - g), sm = lanes_f64(W - g);
        for (int64_t p = 0; p < kc; p++)
            _mm256_maskstore_pd(d + p * W + g, sm, _mm256_maskload_pd(src + p * ld + g, lm));
    }
}

/* In-register transposes for AVX2: 8x8 floats, 4x4 doubles (r[i] = row i on
 * entry, column i on exit). */
__attribute__((target(ENG_TARGET_AVX2)))
static inline void transpose8_f32(__m256 r[8])
{
    __m256 t[8], s[8];
    for (int i = 0; i < 4; i++) {
        t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
        t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
    }
    for (int h = 0; h < 2; h++) {
        s[4 * h] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0x44);
        s[4 * h + 1] = _mm256_shuffle_ps(t[4 * h], t[4 * h + 2], 0xEE);
        s[4 * h + 2] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0x44);
        s[4 * h + 3] = _mm256_shuffle_ps(t[4 * h + 1], t[4 * h + 3], 0xEE);
    }
    for (int c = 0; c < 4; c++) {
        r[c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x20);
        r[4 + c] = _mm256_permute2f128_ps(s[c], s[4 + c], 0x31);
    }
}

__attribute__((target(ENG_TARGET_AVX2)))
static inline void transpose4_f64(__m256d r[4])
{
    const __m256d t0 = _mm256_unpacklo_pd(r[0], r[1]), t1 = _mm256_unpackhi_pd(r[0], r[1]);
    const __m256d t2 = _mm256_unpacklo_pd(r[2], r[3]), t3 = _mm256_unpackhi_pd(r[2], r[3]);
    r[0] = _mm256_permute2f128_pd(t0, t2, 0x20);
    r[1] = _mm256_permute2f128_pd(t1, t3, 0x20);
    r[2] = _mm256_permute2f128_pd(t0, t2, 0x31);
    r[3] = _mm256_permute2f128_pd(t1, t3, 0x31);
}

__attribute__((target(ENG_TARGET_AVX2)))
static void tpack_avx2_f32(int64_t kc, const float *src, int64_t ld, int R, int W, float *d)
{
    for (int64_t p0 = 0; p0 < kc; p0 += 8) {
        const int np = kc - p0 < 8 ? (int)(kc - p0) : 8;
        const __m256i lm = lanes_f32(np);
        for (int g = 0; g < W; g += 8) {
            __m256 r[8];
            for (int i = 0; i < 8; i++)
                r[i] = g + i < R ? _mm256_maskload_ps(src + (g + i) * ld + p0, lm) : _mm256_setzero_ps();
            transpose8_f32(r);
            const __m256i sm = lanes_f32(W - g);
            for (int q = 0; q < np; q++)
                _mm256_maskstore_ps(d + (p0 + q) * W + g, sm, r[q]);
        }
    }
}

__attribute__((target(ENG_TARGET_AVX2)))
static void tpack_avx2_f64(int64_t kc, const double *src, int64_t ld, int R, int W, double *d)
{
    for (int64_t p0 = 0; p0 < kc; p0 += 4) {
        const int np = kc - p0 < 4 ? (int)(kc - p0) : 4;
        const __m256i lm = lanes_f64(np);
        for (int g = 0; g < W; g += 4) {
            __m256d r[4];
            for (int i = 0; i < 4; i++)
                r[i] = g + i < R ? _mm256_maskload_pd(src + (g + i) * ld + p0, lm) : _mm256_setzero_pd();
            transpose4_f64(r);
            const __m256i sm = lanes_f64(W - g);
            for (int q = 0; q < np; q++)
                _mm256_maskstore_pd(d + (p0 + q) * W + g, sm, r[q]);
        }
    }
}
#endif /* ENG_X86 */

#define ENG_DTYPE 32
#include "gemm_impl.h"
#define ENG_DTYPE 64
#include "gemm_impl.h"
