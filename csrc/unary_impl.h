/* unary_impl.h -- body of unary.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"


/* x ** a as PyTorch computes a tensor to a scalar power: a few exponents have their own
 * formula, chosen once per call (the loop stays branch-free), the rest use C's pow. */
#ifndef ENG_POW_KINDS
#define ENG_POW_KINDS
enum { POW_ANY, POW_SQRT, POW_RSQRT, POW_RECIP, POW_SQUARE, POW_CUBE, POW_RECIP_SQUARE };
#endif

static int FN(pow_kind)(T a)
{
    if (a == (T)0.5) return POW_SQRT;           /* (-inf)**0.5 = NaN, (-0)**0.5 = -0 (C's pow: +inf, +0) */
    if (a == (T)-0.5) return POW_RSQRT;         /* (-inf)**-0.5 = NaN, (-0)**-0.5 = -inf */
    if (a == -1) return POW_RECIP;
    if (a == 2) return POW_SQUARE;
    if (a == 3) return POW_CUBE;
    if (a == -2) return POW_RECIP_SQUARE;
    return POW_ANY;
}

static inline T FN(pow_of)(int kind, T v, T a)
{
    switch (kind) {
    case POW_SQRT:         return LM(sqrt)(v);
    case POW_RSQRT:        return 1 / LM(sqrt)(v);
    case POW_RECIP:        return 1 / v;
    case POW_SQUARE:       return v * v;
    case POW_CUBE:         return v * v * v;
    case POW_RECIP_SQUARE: return 1 / (v * v);
    default:               return LM(pow)(v, a);
    }
}

/* y[i] = x[i] ** a; the kind is fixed for the whole call. */
static void FN(pow_loop)(int64_t n, const T *x, T *y, T a)
{
    const int kind = FN(pow_kind)(a);
    ENG_PAR_FOR(n > ENG_PAR_MIN_ELEMS, i, n, y[i] = FN(pow_of)(kind, x[i], a););
}

/* One loop per op, so each one vectorises on its own.  exp, sigmoid and tanh are vmath.h's
 * (eng_vexpf / eng_vexp ...): vector code, where libm's are a call per element. */
#define UNARY_LOOP(expr)                                                   \
    ENG_PAR_FOR(n > ENG_PAR_MIN_ELEMS, i, n, T v = x[i]; y[i] = (expr););  \
    break;

KERNEL void FN(eng_unary)(int op, int64_t n, const T *x, T *y, T alpha)
{
    switch (op) {
    case ENG_NEG:        UNARY_LOOP(-v)
    case ENG_EXP:        UNARY_LOOP(VMATH(eng_vexp)(v))
    case ENG_LOG:        UNARY_LOOP(LM(log)(v))
    case ENG_SIGMOID:    UNARY_LOOP(VMATH(eng_sigmoid)(v))
    case ENG_TANH:       UNARY_LOOP(VMATH(eng_vtanh)(v))
    case ENG_RELU:       UNARY_LOOP(v < 0 ? (T)0 : v)    /* NaN -> NaN, -0 -> -0 (as PyTorch) */
    case ENG_LEAKY_RELU: UNARY_LOOP(v > 0 ? v : alpha * v)
    case ENG_ELU:        UNARY_LOOP(v > 0 ? v : alpha * LM(expm1)(v))
    case ENG_POW:        FN(pow_loop)(n, x, y, alpha); break;
    case ENG_ABS:        UNARY_LOOP(LM(fabs)(v))
    case ENG_SIGN:       UNARY_LOOP((T)((v > 0) - (v < 0)))   /* +0 at +-0 and NaN (as PyTorch) */
    default:             break;
    }
}
#undef UNARY_LOOP

#include "tmpl_end.h"
