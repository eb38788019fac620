/* index_impl.h -- body of index.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

typedef struct {
    const T *x;                 /* gather: the source; scatter: the values added (src) */
    T *out;                     /* scatter: the accumulated array */
    const int64_t *idx;
    int64_t sx, si, so;         /* strides along the innermost iteration dim */
    int64_t sax;                /* the indexed array's stride along the indexed axis */
} FN(idxctx);

/* One row of the iteration: out[i] = x[i*sx + idx[i*si]*sax].  When the index does not move
 * along the row (si == 0: whole rows picked, as in an embedding lookup) the row is one
 * strided copy from a single place. */
static void FN(gather_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(idxctx) *ctx = vctx;
    const T *restrict x = ctx->x + off[0];
    const int64_t *restrict idx = ctx->idx + off[1];
    T *restrict o = ctx->out + ooff;
    const int64_t sx = ctx->sx, si = ctx->si, sax = ctx->sax;
    if (si == 0) {
        const T *restrict row = x + idx[0] * sax;
        for (int64_t i = 0; i < n; i++)
            o[i] = row[i * sx];
    } else {
        for (int64_t i = 0; i < n; i++)
            o[i] = x[i * sx + idx[i * si] * sax];
    }
}

void FN(eng_gather)(int ndim, const int64_t *shape, const T *x, const int64_t *sx, int64_t sax,
                    const int64_t *idx, const int64_t *si, T *out)
{
    eng_iter it;
    const int64_t *st[2] = {sx, si};
    eng_iter_init(&it, ndim, shape, 2, st);
    FN(idxctx) ctx = {x, out, idx, it.stride[0][it.nd - 1], it.stride[1][it.nd - 1], 0, sax};
    eng_iter_run(&it, FN(gather_seg), &ctx);
}

/* One row: out[i*so + idx[i*si]*sax] += src[i*ss], in order (a repeated index adds up). */
static void FN(scatter_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(idxctx) *ctx = vctx;
    (void)ooff;                 /* the output is strided (operand 2), not the iterator's own */
    const int64_t *idx = ctx->idx + off[0];
    const T *src = ctx->x + off[1];
    T *out = ctx->out + off[2];
    const int64_t si = ctx->si, ss = ctx->sx, so = ctx->so, sax = ctx->sax;
    if (si == 0) {              /* whole rows added at one place (index_add of rows) */
        T *row = out + idx[0] * sax;
        for (int64_t i = 0; i < n; i++)
            row[i * so] += src[i * ss];
    } else {
        for (int64_t i = 0; i < n; i++)
            out[i * so + idx[i * si] * sax] += src[i * ss];
    }
}

/* Serial on purpose: two entries of one index may name the same place, and the sums must
 * come out in one fixed order. */
void FN(eng_scatter_add)(int ndim, const int64_t *shape, const int64_t *idx, const int64_t *si,
                         const T *src, const int64_t *ss, T *out, const int64_t *so, int64_t sax)
{
    eng_iter it;
    const int64_t *st[3] = {si, ss, so};
    eng_iter_init(&it, ndim, shape, 3, st);
    FN(idxctx) ctx = {src, out, idx, it.stride[1][it.nd - 1], it.stride[0][it.nd - 1],
                      it.stride[2][it.nd - 1], sax};
    eng_iter_run_serial(&it, FN(scatter_seg), &ctx);
}

#include "tmpl_end.h"
