/* copy_impl.h -- body of copy.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

typedef struct { const T *x; int64_t sx; T *out; } FN(copyctx);

static void FN(copy_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(copyctx) *ctx = vctx;
    const T *restrict x = ctx->x + off[0];
    T *restrict o = ctx->out + ooff;
    const int64_t s = ctx->sx;
    if (s == 1) {
        memcpy(o, x, (size_t)n * sizeof(T));
    } else if (s == 0) {
        for (int64_t i = 0; i < n; i++) o[i] = x[0];
    } else {
        for (int64_t i = 0; i < n; i++) o[i] = x[i * s];
    }
}

void FN(eng_copy)(int ndim, const int64_t *shape, const T *x, const int64_t *sx, T *out)
{
    eng_iter it;
    const int64_t *st[1] = {sx};
    eng_iter_init(&it, ndim, shape, 1, st);
    FN(copyctx) ctx = {x, it.stride[0][it.nd - 1], out};
    eng_iter_run(&it, FN(copy_seg), &ctx);
}

void FN(eng_fill)(int64_t n, T *out, T value)
{
    ENG_PAR_FOR(n > 4 * ENG_PAR_MIN_ELEMS, i, n, out[i] = value;);
}

#include "tmpl_end.h"
