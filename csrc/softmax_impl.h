/* softmax_impl.h -- body of softmax.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

/* max of a row; NaN if the row holds a NaN */
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

/* log sum_j exp(x[j] - mx) of a row, with mx its max (returned in *mx_out).  The max is
 * kept apart: log_softmax is (x - mx) - lse and the loss (mx - x[t]) + lse, so nothing is
 * lost when |mx| is huge (mx + lse would round lse away: 0 instead of log 2 at 1e16).
 * A row of all -inf, or with a NaN or +inf, gives NaN (as PyTorch). */
static T FN(row_log_sum)(const T *x, int64_t n, T *mx_out)
{
    T mx = FN(row_max)(x, n);
    T s = 0;
    for (int64_t j = 0; j < n; j++)
        s += LM(exp)(x[j] - mx);
    *mx_out = mx;
    return LM(log)(s);
}

void FN(eng_softmax)(int64_t rows, int64_t cols, const T *x, T *y, int use_log)
{
    if (cols <= 0)
        return;
    ENG_OMP(parallel for schedule(static) if(rows * cols > ENG_PAR_MIN_ELEMS))
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = x + r * cols;
        T *yr = y + r * cols;
        if (use_log) {
            T mx;
            const T lse = FN(row_log_sum)(xr, cols, &mx);
            for (int64_t j = 0; j < cols; j++)
                yr[j] = (xr[j] - mx) - lse;
        } else {
            const T mx = FN(row_max)(xr, cols);
            T s = 0;
            for (int64_t j = 0; j < cols; j++) {
                T e = LM(exp)(xr[j] - mx);
                yr[j] = e;
                s += e;
            }
            T inv = 1 / s;
            for (int64_t j = 0; j < cols; j++)
                yr[j] *= inv;
        }
    }
}

void FN(eng_softmax_backward)(int64_t rows, int64_t cols, const T *y, const T *gy, T *gx,
                              int use_log)
{
    ENG_OMP(parallel for schedule(static) if(rows * cols > ENG_PAR_MIN_ELEMS))
    for (int64_t r = 0; r < rows; r++) {
        const T *yr = y + r * cols, *gr = gy + r * cols;
        T *out = gx + r * cols;
        T s = 0;
        if (use_log) {
            for (int64_t j = 0; j < cols; j++) s += gr[j];
            for (int64_t j = 0; j < cols; j++) out[j] = gr[j] - LM(exp)(yr[j]) * s;
        } else {
            for (int64_t j = 0; j < cols; j++) s += gr[j] * yr[j];
            for (int64_t j = 0; j < cols; j++) out[j] = yr[j] * (gr[j] - s);
        }
    }
}

void FN(eng_cross_entropy)(int64_t rows, int64_t cols, const T *logits, const int64_t *target,
                           T *loss)
{
    ENG_OMP(parallel for schedule(static) if(rows * cols > ENG_PAR_MIN_ELEMS))
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = logits + r * cols;
        T mx;
        const T lse = FN(row_log_sum)(xr, cols, &mx);
        loss[r] = (mx - xr[target[r]]) + lse;
    }
}

void FN(eng_cross_entropy_backward)(int64_t rows, int64_t cols, const T *logits,
                                    const int64_t *target, const T *gloss, T *glogits)
{
    ENG_OMP(parallel for schedule(static) if(rows * cols > ENG_PAR_MIN_ELEMS))
    for (int64_t r = 0; r < rows; r++) {
        const T *xr = logits + r * cols;
        T *gr = glogits + r * cols;
        T mx = FN(row_max)(xr, cols), s = 0;
        for (int64_t j = 0; j < cols; j++) {
            T e = LM(exp)(xr[j] - mx);
            gr[j] = e;
            s += e;
        }
        const T scale = gloss[r] / s;
        for (int64_t j = 0; j < cols; j++)
            gr[j] *= scale;
        gr[target[r]] -= gloss[r];
    }
}

void FN(eng_diff_loss)(int kind, int64_t n, const T *a, const T *b, T divisor, T *diff, T *loss)
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

void FN(eng_diff_loss_backward)(int kind, int64_t n, const T *diff, const T *g, T divisor, T *ga)
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
