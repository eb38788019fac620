/*
 * vmath_impl.h -- the bodies of vmath.h's functions, included once per kernel set (no
 * include guard): with ENG_KSET defined (_generic, _avx2, _avx512) the names carry it.
 * MADDF / MADD_D: a fused multiply-add where the target has FMA (GCC defines __FMA__ inside
 * `#pragma GCC target("...fma")`), else a multiply and an add (-ffp-contract=off keeps
 * them two roundings, as written).
 */
#ifdef ENG_KSET
#define VMATH_NAME(name) ENG_CAT(name, ENG_KSET)
#else
#define VMATH_NAME(name) name
#endif
#ifndef ENG_CAT
#define ENG_CAT_(a, b) a##b
#define ENG_CAT(a, b) ENG_CAT_(a, b)
#endif
#ifdef __FMA__
#define MADDF(a, b, c) __builtin_fmaf(a, b, c)
#define MADD_D(a, b, c) __builtin_fma(a, b, c)
#else
#define MADDF(a, b, c) ((a) * (b) + (c))
#define MADD_D(a, b, c) ((a) * (b) + (c))
#endif

/* ------------------------------------------------------------------ float32 -- */

/* e^r - 1 for r in [-ln2/2, ln2/2]: Taylor to r^7/7!, as r + r^2 * (...) so that the
 * leading term is exact. */
static inline float VMATH_NAME(eng_expm1_redf)(float r)
{
    float p = 1.0f / 5040.0f;
    p = MADDF(p, r, 1.0f / 720.0f);
    p = MADDF(p, r, 1.0f / 120.0f);
    p = MADDF(p, r, 1.0f / 24.0f);
    p = MADDF(p, r, 1.0f / 6.0f);
    p = MADDF(p, r, 0.5f);
    return MADDF(p * r, r, r);
}

static inline float VMATH_NAME(eng_vexpf)(float x)
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
    float fn = MADDF(xc, log2e, round_magic) - round_magic;
    float r = MADDF(-fn, ln2_lo, MADDF(-fn, ln2_hi, xc));
    float p = VMATH_NAME(eng_expm1_redf)(r) + 1.0f;
    int32_t n = (int32_t)fn;
    int32_t n1 = n >> 1;
    int32_t n2 = n - n1;
    float s1 = eng_bits_to_float((n1 + 127) << 23);
    float s2 = eng_bits_to_float((n2 + 127) << 23);
    float y = p * s1 * s2;
    return is_nan ? x : y;
}

static inline float VMATH_NAME(eng_vtanhf)(float x)
{
    const float log2e = 1.44269504088896341f;
    const float ln2_hi = 0.693359375f;
    const float ln2_lo = -2.12194440e-4f;
    const float round_magic = 12582912.0f;
    float a = 2.0f * fabsf(x);
    a = a > 20.0f ? 20.0f : a;                 /* tanh(10) rounds to 1 in float */
    int is_nan = a != a;
    a = is_nan ? 0.0f : a;
    float fn = MADDF(a, log2e, round_magic) - round_magic;   /* n in [0, 29] */
    float r = MADDF(-fn, ln2_lo, MADDF(-fn, ln2_hi, a));
    float s = eng_bits_to_float(((int32_t)fn + 127) << 23);
    float m = MADDF(s, VMATH_NAME(eng_expm1_redf)(r), s - 1.0f);          /* e^a - 1 */
    float t = copysignf(m / (m + 2.0f), x);
    return is_nan ? x : t;
}

/* The logistic sigmoid, one definition for every kernel that needs it (the unary op
 * and the fused linear layer must give the same bits):
 *   s(x) = 1 / (1 + e^-x), written with e = e^-|x| in (0, 1] so nothing overflows:
 *   x >= 0: 1 / (1 + e);   x < 0: e / (1 + e). */
static inline float VMATH_NAME(eng_sigmoidf)(float x)
{
    float e = VMATH_NAME(eng_vexpf)(-fabsf(x));
    float inv = 1.0f / (1.0f + e);
    return x >= 0 ? inv : e * inv;
}

/* ------------------------------------------------------------------ float64 -- */


/* e^r - 1 for r in [-ln2/2, ln2/2]: Taylor to r^13/13!. */
static inline double VMATH_NAME(eng_expm1_red)(double r)
{
    double p = 1.0 / 6227020800.0;
    p = MADD_D(p, r, 1.0 / 479001600.0);
    p = MADD_D(p, r, 1.0 / 39916800.0);
    p = MADD_D(p, r, 1.0 / 3628800.0);
    p = MADD_D(p, r, 1.0 / 362880.0);
    p = MADD_D(p, r, 1.0 / 40320.0);
    p = MADD_D(p, r, 1.0 / 5040.0);
    p = MADD_D(p, r, 1.0 / 720.0);
    p = MADD_D(p, r, 1.0 / 120.0);
    p = MADD_D(p, r, 1.0 / 24.0);
    p = MADD_D(p, r, 1.0 / 6.0);
    p = MADD_D(p, r, 0.5);
    return MADD_D(p * r, r, r);
}

/* The integer n = round(x / ln 2) is read from the bits of x / ln 2 + 1.5 * 2^52 (its low
 * bits hold n) rather than converted: double -> int64 has no vector instruction before
 * AVX-512DQ, an int64 add and shift have one everywhere. */
static inline double VMATH_NAME(eng_vexp)(double x)
{
    const int64_t magic_bits = eng_double_bits(ENG_ROUND_MAGIC);
    double xc = x < -746.0 ? -746.0 : x;
    xc = xc > 710.0 ? 710.0 : xc;
    int is_nan = xc != xc;
    xc = is_nan ? 0.0 : xc;                     /* keep the integer arithmetic defined */
    double t = MADD_D(xc, ENG_LOG2E, ENG_ROUND_MAGIC);
    double fn = t - ENG_ROUND_MAGIC;            /* n in [-1076, 1024] */
    double r = MADD_D(-fn, ENG_LN2_LO, MADD_D(-fn, ENG_LN2_HI, xc));
    double p = VMATH_NAME(eng_expm1_red)(r) + 1.0;
    int64_t n = eng_double_bits(t) - magic_bits;
    int64_t n1 = eng_double_bits(fn * 0.5 + ENG_ROUND_MAGIC) - magic_bits;
    int64_t n2 = n - n1;                        /* n1, n2 in [-538, 512] */
    double s1 = eng_bits_to_double((n1 + 1023) << 52);
    double s2 = eng_bits_to_double((n2 + 1023) << 52);
    double y = p * s1 * s2;
    return is_nan ? x : y;
}

static inline double VMATH_NAME(eng_vtanh)(double x)
{
    const int64_t magic_bits = eng_double_bits(ENG_ROUND_MAGIC);
    double a = 2.0 * fabs(x);
    a = a > 40.0 ? 40.0 : a;                    /* tanh(20) rounds to 1 in double */
    int is_nan = a != a;
    a = is_nan ? 0.0 : a;
    double t = MADD_D(a, ENG_LOG2E, ENG_ROUND_MAGIC);
    double fn = t - ENG_ROUND_MAGIC;            /* n in [0, 58] */
    double r = MADD_D(-fn, ENG_LN2_LO, MADD_D(-fn, ENG_LN2_HI, a));
    double s = eng_bits_to_double((eng_double_bits(t) - magic_bits + 1023) << 52);
    double m = MADD_D(s, VMATH_NAME(eng_expm1_red)(r), s - 1.0);   /* e^a - 1 */
    double y = copysign(m / (m + 2.0), x);
    return is_nan ? x : y;
}

static inline double VMATH_NAME(eng_sigmoid)(double x)
{
    double e = VMATH_NAME(eng_vexp)(-fabs(x));
    double inv = 1.0 / (1.0 + e);
    return x >= 0 ? inv : e * inv;
}

#undef VMATH_NAME
#undef MADDF
#undef MADD_D
