/* softmax_impl.h -- body of softmax.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

/* The row loops keep ROW_LANES independent partial results (a max, a sum), combined
 * pairwise at the end: the compiler turns them into vector registers in every kernel
 * set (a running `s += e` is one long dependency chain and never vectorises without
 * reassociating, which C forbids), the order of the additions is fixed, and a long row's
 * sum is more accurate than one running total. */
#ifndef ROW_LANES
#define ROW_LANES 16
#endif

/* max of a row; NaN if the row holds a NaN.  Scalar: GCC turns a lane-wise `v > m ? v : m`
 * into integer moves without -ffinite-math-only (tried), and the row's exps cost far more. */
static T FN(row_max)(const T *x, int64_t n)
{
    T mx = x[0];
    for (int64_t j = 1; j < n; j++) {
        T v = x[j];
        if (v > mx || v != v)
            mx = v;
        if (mx != mx)
            break;
    }
    return mx;
}

/* (a0 + a1 + ... ) of the lanes, pairwise */
static inline T FN(lanes_total)(T *acc)
{
    for (int w = ROW_LANES / 2; w >= 1; w /= 2)
        for (int l = 0; l < w; l++)
            acc[l] += acc[l + w];
    return acc[0];
}

/* sum_j x[j] */
static T FN(row_sum)(const T *restrict x, int64_t n)
{
    T acc[ROW_LANES] = {0}, tail = 0;
    int64_t j = 0;
    for (; j + ROW_LANES <= n; j += ROW_LANES)
        for (int l = 0; l < ROW_LANES; l++)
            acc[l] += x[j + l];
    for (; j < n; j++)
        tail += x[j];
    return FN(lanes_total)(acc) + tail;
}

/* sum_j a[j] * b[j] */
static T FN(row_dot)(const T *restrict a, const T *restrict b, int64_t n)
{
    T acc[ROW_LANES] = {0}, tail = 0;
    int64_t j = 0;
    for (; j + ROW_LANES <= n; j += ROW_LANES)
        for (int l = 0; l < ROW_LANES; l++)
            acc[l] += a[j + l] * b[j + l];
    for (; j < n; j++)
        tail += a[j] * b[j];
    return FN(lanes_total)(acc) + tail;
}

/* sum_j exp(x[j] - mx), the exp vmath.h's */
static T FN(row_exp_sum)(const T *restrict x, int64_t n, T mx)
{
    T acc[ROW_LANES] = {0}, tail = 0;
    int64_t j = 0;
    for (; j + ROW_LANES <= n; j += ROW_LANES)
        for (int l = 0; l < ROW_LANES; l++)
            acc[l] += VMATH(eng_vexp)(x[j + l] - mx);
    for (; j < n; j++)
        tail += VMATH(eng_vexp)(x[j] - mx);
    return FN(lanes_total)(acc) + tail;
}

/* y[j] = exp(x[j] - mx); returns sum_j y[j] */
static T FN(row_exp_store)(const T *x, int64_t n, T mx, T *y)   /* y may be x */
{
    for (int64_t j = 0; j < n; j++)
        y[j] = VMATH(eng_vexp)(x[j] - mx);
    return FN(row_sum)(y, n);
}

/* log sum_j exp(x[j] - mx) of a row, with mx its max (returned in *mx_out).  The max is
 * kept apart: log_softmax is (x - mx) - lse and the loss (mx - x[t]) + lse, so nothing is
 * lost when |mx| is huge (mx + lse would round lse away: 0 instead of log 2 at 1e16).
 * A row of all -inf, or with a NaN or +inf, gives NaN (as PyTorch). */
static T FN(row_log_sum)(const T *x, int64_t n, T *mx_out)
{
    T mx = FN(row_max)(x, n);
    *mx_out = mx;
    return LM(log)(FN(row_exp_sum)(x, n, mx));
}

KERNEL void FN(eng_softmax)(int64_t rows, int64_t cols, const T *x, T *y, int use_log)
{
    if (cols <= 0)
        return;
    ENG_PAR_FOR(rows * cols > ENG_PAR_MIN_ELEMS, r, rows, {
        const T *xr = x + r * cols;
        T *yr = y + r * cols;
        if (use_log) {
            T mx;
            const T lse = FN(row_log_sum)(xr, cols, &mx);
            for (int64_t j = 0; j < cols; j++)
                yr[j] = (xr[j] - mx) - lse;
        } else {
            const T mx = FN(row_max)(xr, cols);
            const T inv = 1 / FN(row_exp_store)(xr, cols, mx, yr);
            for (int64_t j = 0; j < cols; j++)
                yr[j] *= inv;
        }
        });
}

KERNEL void FN(eng_softmax_backward)(int64_t rows, int64_t cols, const T *y, const T *gy, T *gx,
                              int use_log)
{
    ENG_PAR_FOR(rows * cols > ENG_PAR_MIN_ELEMS, r, rows, {
        const T *yr = y + r * cols, *gr = gy + r * cols;
        T *out = gx + r * cols;
        if (use_log) {
            const T s = FN(row_sum)(gr, cols);
            for (int64_t j = 0; j < cols; j++) out[j] = gr[j] - VMATH(eng_vexp)(yr[j]) * s;
        } else {
            const T s = FN(row_dot)(gr, yr, cols);
            for (int64_t j = 0; j < cols; j++) out[j] = yr[j] * (gr[j] - s);
        }
        });
}

KERNEL void FN(eng_cross_entropy)(int64_t rows, int64_t cols, const T *logits, const int64_t *target,
                           T *loss)
{
    ENG_PAR_FOR(rows * cols > ENG_PAR_MIN_ELEMS, r, rows, {
        const T *xr = logits + r * cols;
        T mx;
        const T lse = FN(row_log_sum)(xr, cols, &mx);
        loss[r] = (mx - xr[target[r]]) + lse;
        });
}

KERNEL void FN(eng_cross_entropy_backward)(int64_t rows, int64_t cols, const T *logits,
                                    const int64_t *target, const T *gloss, T *glogits)
{
    ENG_PAR_FOR(rows * cols > ENG_PAR_MIN_ELEMS, r, rows, {
        const T *xr = logits + r * cols;
        T *gr = glogits + r * cols;
        const T mx = FN(row_max)(xr, cols);
        const T scale = gloss[r] / FN(row_exp_store)(xr, cols, mx, gr);
        for (int64_t j = 0; j < cols; j++)
            gr[j] *= scale;
        gr[target[r]] -= gloss[r];
        });
}

KERNEL void FN(eng_diff_loss)(int kind, int64_t n, const T *a, const T *b, T divisor, T *diff, T *loss)
{
    for (int64_t i = 0; i < n; i++)
        diff[i] = a[i] - b[i];
    /* Blocks of 8 partial sums keep long float32 sums accurate (as eng_sum does). */
    T acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
    int64_t i = 0;
    if (kind == ENG_LOSS_SQUARED) {
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++)
                acc[j] += diff[i + j] * diff[i + j];
        for (; i < n; i++)
            acc[0] += diff[i] * diff[i];
    } else {
        for (; i + 8 <= n; i += 8)
            for (int j = 0; j < 8; j++)
                acc[j] += LM(fabs)(diff[i + j]);
        for (; i < n; i++)
            acc[0] += LM(fabs)(diff[i]);
    }
    *loss = (((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]))) / divisor;
}

KERNEL void FN(eng_diff_loss_backward)(int kind, int64_t n, const T *diff, const T *g, T divisor, T *ga)
{
    const T s = g[0] / divisor;
    if (kind == ENG_LOSS_SQUARED) {
        for (int64_t i = 0; i < n; i++)
            ga[i] = s * (diff[i] * 2);
    } else {
        for (int64_t i = 0; i < n; i++) {
            T d = diff[i];
            ga[i] = s * (T)((d > 0) - (d < 0));
        }
    }
}

#include "tmpl_end.h"
