/*
 * internal.h -- helpers shared by the kernel files; not part of the public API.
 */
#ifndef ENGINE_INTERNAL_H
#define ENGINE_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include "engine.h"

#ifdef _OPENMP
#include <omp.h>
#endif

/* Element counts above which elementwise loops go parallel (when built with
 * OpenMP).  Below it the fork/join costs more than it saves. */
#define ENG_PAR_MIN_ELEMS ((int64_t)1 << 15)

/* Pragma helper: ENG_OMP(parallel for) expands to nothing without
 * OpenMP, so every file compiles cleanly either way. */
#ifdef _OPENMP
#define ENG_PRAGMA(x) _Pragma(#x)
#define ENG_OMP(x) ENG_PRAGMA(omp x)
#else
#define ENG_OMP(x)
#endif

/* ENG_PAR_FOR(cond, i, count, body...): for (int64_t i = 0; i < count; i++) { body }, on an
 * OpenMP team when cond holds and as a plain loop otherwise.  The loop is written out twice
 * because `#pragma omp parallel for if(cond)` still enters libgomp when cond is false (GCC
 * outlines the body and starts a one-thread team): about 0.5 us a call, a tenth of a small
 * MLP's train step.  The body is a macro argument: no preprocessor lines inside it. */
#ifdef _OPENMP
#define ENG_PAR_FOR(cond, i, count, ...)                                     \
    do {                                                                     \
        const int64_t eng_count_ = (count);                                  \
        if (cond) {                                                          \
            ENG_PRAGMA(omp parallel for schedule(static))                    \
            for (int64_t i = 0; i < eng_count_; i++) { __VA_ARGS__ }         \
        } else {                                                             \
            for (int64_t i = 0; i < eng_count_; i++) { __VA_ARGS__ }         \
        }                                                                    \
    } while (0)
#else
#define ENG_PAR_FOR(cond, i, count, ...)                                     \
    do {                                                                     \
        const int64_t eng_count_ = (count);                                  \
        (void)(cond);                                                        \
        for (int64_t i = 0; i < eng_count_; i++) { __VA_ARGS__ }             \
    } while (0)
#endif

/* ------------------------------------------------------------ N-d iterator --
 * Up to ENG_ITER_MAX_OPS strided inputs walked together with a contiguous
 * output of the same shape.  eng_iter_init drops size-1 dims and merges
 * neighbouring dims that are contiguous with each other in every operand, so
 * that, e.g., two contiguous arrays become one flat loop.
 */
#define ENG_ITER_MAX_OPS 3

typedef struct {
    int nd;                     /* collapsed ndim, >= 1 */
    int nops;
    int64_t size;               /* total elements; 0 means no work */
    int64_t shape[ENG_MAX_NDIM];
    int64_t stride[ENG_ITER_MAX_OPS][ENG_MAX_NDIM];
} eng_iter;

void eng_iter_init(eng_iter *it, int ndim, const int64_t *shape, int nops,
                   const int64_t *const *strides);

/* A segment: n elements; operand k starts at element offset off[k] and moves
 * by it->stride[k][it->nd-1]; the output starts at out_off, contiguous. */
typedef void (*eng_seg_fn)(void *ctx, int64_t n, const int64_t *off, int64_t out_off);

/* Calls fn over the whole iteration space, in parallel when it is large. */
void eng_iter_run(const eng_iter *it, eng_seg_fn fn, void *ctx);

/* The same on one thread, in row-major order (for kernels whose segments may write the
 * same place: scatter-add). */
void eng_iter_run_serial(const eng_iter *it, eng_seg_fn fn, void *ctx);

/* Collapse one strided operand (used by the reductions): drops size-1 dims
 * and merges mergeable neighbours; returns the new ndim (0 for a single
 * element).  *size receives the element count. */
int eng_collapse1(int ndim, const int64_t *shape, const int64_t *st,
                  int64_t *oshape, int64_t *ost, int64_t *size);

/* ------------------------------------------------------------ kernel sets --
 * ENG_X86: x86 with GCC or clang, where kernels for AVX2 and AVX-512 are
 * compiled beside the portable ones (target attributes: the build itself stays
 * portable) and chosen at run time by eng_isa() (engine.h).  -DENG_NO_SIMD
 * builds the portable kernels alone. */
#if !defined(ENG_NO_SIMD) && (defined(__x86_64__) || defined(__i386__)) && \
    (defined(__GNUC__) || defined(__clang__))
#define ENG_X86 1
#else
#define ENG_X86 0
#endif

/* The target strings of the two x86 kernel sets. */
#define ENG_TARGET_AVX2 "avx2,fma"
#define ENG_TARGET_AVX512 "avx512f,avx512bw,avx512dq,avx512vl,avx2,fma"

/* 1 when the GEMM runs an AVX2 micro-kernel or better (eng_isa() >= ENG_ISA_AVX2). */
int eng_gemm_uses_avx2(void);

/* Column sums used by linear backward: out[j] = sum_i x[i*ld + j]. */
void eng_colsum_f32(int64_t rows, int64_t cols, const float *x, int64_t ld, float *out);
void eng_colsum_f64(int64_t rows, int64_t cols, const double *x, int64_t ld, double *out);

#endif /* ENGINE_INTERNAL_H */
