/* linear_impl.h -- body of linear.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

/* One row of y: += b, then the activation in place (exp-based ones from vmath.h). */
static inline void FN(bias_act_row)(T *restrict row, const T *b, int64_t N, int act)
{
    if (b)
        for (int64_t n = 0; n < N; n++) row[n] += b[n];
    switch (act) {
    case ENG_ACT_RELU:
        for (int64_t n = 0; n < N; n++) row[n] = row[n] < 0 ? (T)0 : row[n];
        break;
    case ENG_ACT_SIGMOID:
        for (int64_t n = 0; n < N; n++) row[n] = VMATH(eng_sigmoid)(row[n]);
        break;
    case ENG_ACT_TANH:
        for (int64_t n = 0; n < N; n++) row[n] = VMATH(eng_vtanh)(row[n]);
        break;
    default:
        break;
    }
}

KERNEL void FN(eng_linear_forward)(int64_t M, int64_t K, int64_t N, const T *x, const T *w,
                            const T *b, int act, T *y)
{
    if (M <= 0 || N <= 0)
        return;
    /* y = x @ w^T : op(B) = w^T with w stored (N, K)  ->  tb = 1 */
    PUB(eng_matmul)(1, M, N, K, x, K, 0, 0, w, K, 0, 1, y, N, 0, 0);
    /* fused bias + activation, one pass over y */
    ENG_PAR_FOR(M * N > ENG_PAR_MIN_ELEMS, m, M, FN(bias_act_row)(y + m * N, b, N, act););
}

KERNEL void FN(eng_linear_backward)(int64_t M, int64_t K, int64_t N, const T *x, const T *w,
                             const T *y, const T *gy, int act, T *gpre, T *gx, T *gw, T *gb)
{
    /* gpre = gy * act'(y), act' read from the output y. One loop per activation, with
     * both operands loaded before the select, so each loop vectorises (a switch or a
     * conditional load inside the loop would keep it scalar and branchy). */
    const int64_t MN = M * N;
#define GPRE_LOOP(expr)                                                    \
    ENG_PAR_FOR(MN > ENG_PAR_MIN_ELEMS, i, MN,                             \
                T g = gy[i]; T v = y[i]; gpre[i] = (expr););               \
    break;
    switch (act) {
    case ENG_ACT_RELU:    GPRE_LOOP(v <= 0 ? (T)0 : g)    /* NaN passes g, as PyTorch */
    case ENG_ACT_SIGMOID: GPRE_LOOP(g * (v * (1 - v)))
    case ENG_ACT_TANH:    GPRE_LOOP(g * (1 - v * v))
    default:              GPRE_LOOP(((void)v, g))
    }
#undef GPRE_LOOP
    /* gx (M,K) = gpre (M,N) @ w (N,K) */
    if (gx)
        PUB(eng_matmul)(1, M, K, N, gpre, N, 0, 0, w, K, 0, 0, gx, K, 0, 0);
    /* gw (N,K) = gpre^T @ x : op(A) = gpre^T, gpre stored (M,N) -> ta = 1 */
    PUB(eng_matmul)(1, N, K, M, gpre, N, 0, 1, x, K, 0, 0, gw, K, 0, 0);
    /* gb (N) = column sums of gpre */
    if (gb)
        PUB(eng_colsum)(M, N, gpre, N, gb);
}

#include "tmpl_end.h"
