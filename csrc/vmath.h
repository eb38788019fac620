/*
 * vmath.h -- an exp for float32 that the compiler can vectorise.
 *
 * libm's expf is a scalar call, so a loop over expf runs one element at a time;
 * numpy ships SIMD versions.  eng_vexpf is branch-free C that GCC turns into
 * vector code (SSE2 baseline, AVX2 where the caller is compiled for it):
 *
 *   exp(x) = 2^n * exp(r),  n = round(x / ln 2),  r = x - n ln 2  in [-ln2/2, ln2/2]
 *   exp(r) = 1 + r + r^2/2! + ... + r^7/7!   (remainder < r^8/8! = 5e-9 relative)
 *   2^n    = 2^(n/2) * 2^(n - n/2), each factor built from its exponent bits, so
 *            results near FLT_MAX and in the subnormal range come out right.
 *
 * Error: within 2 ulp of the true value over the whole float range (checked by
 * the C tests against libm's double exp).  x > 88.73 gives inf, x < -104 gives 0,
 * NaN gives NaN.  float64 keeps libm's exp.
 */
#ifndef ENGINE_VMATH_H
#define ENGINE_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

static inline float eng_bits_to_float(int32_t bits)
{
    float f;
    memcpy(&f, &bits, sizeof f);   /* a bit cast the vectoriser understands */
    return f;
}

static inline float eng_vexpf(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f;          /* ln 2 split so n * ln2_hi is exact */
    const float ln2_lo = -2.12194440e-4f;
    const float round_magic = 12582912.0f;     /* 1.5 * 2^23: adding it rounds to an integer */
    /* Clamp with comparisons (not fminf/fmaxf) so a NaN passes through unchanged. */
    float xc = x < -104.0f ? -104.0f : x;
    xc = xc > 89.0f ? 89.0f : xc;
    int is_nan = xc != xc;
    xc = is_nan ? 0.0f : xc;                   /* keep the integer conversion defined */
    float fn = (xc * log2e + round_magic) - round_magic;
    float r = (xc - fn * ln2_hi) - fn * ln2_lo;
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    int32_t n = (int32_t)fn;
    int32_t n1 = n >> 1;
    int32_t n2 = n - n1;
    float s1 = eng_bits_to_float((n1 + 127) << 23);
    float s2 = eng_bits_to_float((n2 + 127) << 23);
    float y = p * s1 * s2;
    return is_nan ? x : y;
}

/* The logistic sigmoid, one definition for every kernel that needs it (the unary op
 * and the fused linear layer must give the same bits):
 *   s(x) = 1 / (1 + e^-x), written with e = e^-|x| in (0, 1] so nothing overflows:
 *   x >= 0: 1 / (1 + e);   x < 0: e / (1 + e). */
static inline float eng_sigmoidf(float x)
{
    float e = eng_vexpf(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    return x >= 0 ? inv : e * inv;
}

static inline double eng_sigmoid(double x)
{
    double e = exp(-fabs(x));
    double inv = 1.0 / (1.0 + e);
    return x >= 0 ? inv : e * inv;
}

#endif
