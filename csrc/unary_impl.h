/* unary_impl.h -- body of unary.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

/* exp that vectorises for float32 (vmath.h); libm's for float64. */
#if T_IS_F32
#define VEXP(v) eng_vexpf(v)
#else
#define VEXP(v) exp(v)
#endif

/* x > 0 ? a : b, with a and b already evaluated (so the loop vectorises). */
#define select_pos(xv, a, b) FN(select_pos_)((xv), (a), (b))
static inline T FN(select_pos_)(T xv, T a, T b)
{
    return xv > 0 ? a : b;
}

static inline T FN(sigmoid)(T x)
{
    return LM(eng_sigmoid)(x);              /* vmath.h: eng_sigmoidf / eng_sigmoid */
}

/* One loop per op, so each one vectorises on its own. */
#define UNARY_LOOP(expr)                                                   \
    ENG_OMP(parallel for schedule(static) if(n > ENG_PAR_MIN_ELEMS))       \
    for (int64_t i = 0; i < n; i++) {                                      \
        T v = x[i];                                                        \
        y[i] = (expr);                                                     \
    }                                                                      \
    break;

void FN(eng_unary)(int op, int64_t n, const T *x, T *y, T alpha)
{
    switch (op) {
    case ENG_NEG:        UNARY_LOOP(-v)
    case ENG_EXP:        UNARY_LOOP(VEXP(v))
    case ENG_LOG:        UNARY_LOOP(LM(log)(v))
    case ENG_SIGMOID:    UNARY_LOOP(FN(sigmoid)(v))
    case ENG_TANH:       UNARY_LOOP(LM(tanh)(v))
    case ENG_RELU:       UNARY_LOOP(v <= 0 ? (T)0 : v)   /* NaN -> NaN */
    case ENG_LEAKY_RELU: UNARY_LOOP(v > 0 ? v : alpha * v)
    case ENG_ELU:        UNARY_LOOP(v > 0 ? v : alpha * LM(expm1)(v))
    case ENG_POW:        UNARY_LOOP(LM(pow)(v, alpha))
    case ENG_ABS:        UNARY_LOOP(LM(fabs)(v))
    default:             break;
    }
}
#undef UNARY_LOOP

#define BACKWARD_LOOP(expr)                                                \
    ENG_OMP(parallel for schedule(static) if(n > ENG_PAR_MIN_ELEMS))       \
    for (int64_t i = 0; i < n; i++) {                                      \
        gx[i] = (expr);                                                    \
    }                                                                      \
    break;

void FN(eng_unary_backward)(int op, int64_t n, const T *x, const T *y, const T *gy,
                            T *gx, T alpha)
{
    switch (op) {
    case ENG_NEG:        BACKWARD_LOOP(-gy[i])
    case ENG_EXP:        BACKWARD_LOOP(gy[i] * y[i])
    case ENG_LOG:        BACKWARD_LOOP(gy[i] / x[i])
    case ENG_SIGMOID:    BACKWARD_LOOP(gy[i] * (y[i] * (1 - y[i])))
    case ENG_TANH:       BACKWARD_LOOP(gy[i] * (1 - y[i] * y[i]))
    /* Both sides are loaded before the select: a load inside one arm of ?: is a
     * conditional load, which keeps the loop from vectorising. */
    case ENG_RELU:       BACKWARD_LOOP(select_pos(x[i], gy[i], (T)0))
    case ENG_LEAKY_RELU: BACKWARD_LOOP(select_pos(x[i], gy[i], alpha * gy[i]))
    case ENG_ELU:        BACKWARD_LOOP(select_pos(x[i], gy[i], gy[i] * (y[i] + alpha)))
    case ENG_POW:
        if (alpha == 0) {                   /* d/dx x**0 = 0 (as PyTorch) */
            BACKWARD_LOOP((T)0)
        }
        BACKWARD_LOOP(gy[i] * alpha * LM(pow)(x[i], alpha - 1))
    case ENG_ABS:        BACKWARD_LOOP(gy[i] * (T)((x[i] > 0) - (x[i] < 0)))
    default:             break;
    }
}
#undef BACKWARD_LOOP
#undef VEXP
#undef select_pos

#include "tmpl_end.h"
