/*
 * vmath.h -- exp, tanh and the sigmoid as branch-free C that the compiler vectorises.
 *
 * libm's exp and tanh are scalar calls, so a loop over them runs one element at a time;
 * numpy ships SIMD versions.  These are plain C that GCC turns into vector code for the
 * kernel set the caller is compiled for (tmpl_isa.h: SSE2, AVX2+FMA, AVX-512): every
 * step is a multiply-add, a compare-and-select or an integer add/shift on the bits.
 *
 * exp(x) = 2^n * e^r,  n = round(x / ln 2),  r = x - n ln 2  in [-ln2/2, ln2/2]
 *   (ln 2 split in two so that n * ln2_hi is exact),
 *   e^r    = 1 + (r + r^2/2! + ... + r^k/k!), k = 7 for float (remainder < 5e-9
 *            relative), k = 13 for double (remainder < 5e-18),
 *   2^n    = 2^n1 * 2^n2 with n1 ~ n/2, each factor built from its exponent bits, so that
 *            results near the largest finite number and in the subnormal range come out
 *            right (one rounding, at the last multiply).
 * expm1 on [0, 20] (float) / [0, 40] (double), for tanh: 2^n * (e^r - 1) + (2^n - 1).
 * tanh(x) = sign(x) * m / (m + 2), m = expm1(2|x|): no cancellation near 0 (tanh(x) = x
 *   for tiny x, -0 stays -0), and 2|x| clamped where tanh rounds to 1 (+-inf -> +-1).
 *
 * The functions live in vmath_impl.h, compiled once per kernel set (tmpl_isa.h includes it
 * inside each set's target region, as eng_vexpf_avx512 ...; this header gives the plain
 * names at the build's baseline, for the tests).  Multiply-adds are written MADDF/MADD_D: one
 * fused instruction where the set has FMA, a multiply and an add elsewhere; nothing else
 * is contracted (the build uses -ffp-contract=off, so arithmetic kernels round as the
 * source says, like numpy).
 *
 * Errors (C tests, against a wider-precision libm, every kernel set): exp within 2 ulp
 * (float) / 1.1 ulp (double) over the whole range, subnormal results included; tanh
 * within 3 ulp.  exp: x > 88.73 / 709.78 gives inf, x < -104 / -746 gives 0; NaN
 * gives NaN everywhere.
 */
#ifndef ENGINE_VMATH_H
#define ENGINE_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Bit casts the vectoriser understands. */
static inline float eng_bits_to_float(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

static inline double eng_bits_to_double(int64_t bits)
{
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static inline int64_t eng_double_bits(double d)
{
    int64_t bits;
    memcpy(&bits, &d, sizeof bits);
    return bits;
}

#define ENG_LOG2E 1.4426950408889634
#define ENG_LN2_HI 6.93147180369123816490e-01  /* 32 significant bits: n * hi exact for |n| < 2^20 */
#define ENG_LN2_LO 1.90821492927058770002e-10
#define ENG_ROUND_MAGIC 6755399441055744.0     /* 1.5 * 2^52: adding it rounds to an integer */

/* The plain names, at the baseline (tests; kernels use their set's copy). */
#include "vmath_impl.h"

#endif /* ENGINE_VMATH_H */
