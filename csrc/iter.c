/*
 * iter.c -- walking strided N-d operands (used by binary, compare, where,
 * copy, cast and the reductions).
 */
#include "internal.h"

int eng_collapse1(int ndim, const int64_t *shape, const int64_t *st,
                  int64_t *oshape, int64_t *ost, int64_t *size)
{
    int nd = 0;
    int64_t total = 1;
    for (int d = 0; d < ndim; d++) {
        total *= shape[d];
        if (shape[d] == 1)
            continue;                       /* a size-1 dim never moves */
        if (nd > 0 && ost[nd - 1] == st[d] * shape[d]) {
            oshape[nd - 1] *= shape[d];     /* (i, j) -> i*shape[d] + j */
            ost[nd - 1] = st[d];
        } else {
            oshape[nd] = shape[d];
            ost[nd] = st[d];
            nd++;
        }
    }
    *size = total;
    return nd;
}

void eng_iter_init(eng_iter *it, int ndim, const int64_t *shape, int nops,
                   const int64_t *const *strides)
{
    int nd = 0;
    int64_t total = 1;
    it->nops = nops;
    for (int d = 0; d < ndim; d++) {
        total *= shape[d];
        if (shape[d] == 1)
            continue;
        int merge = nd > 0;
        for (int k = 0; k < nops && merge; k++)
            merge = it->stride[k][nd - 1] == strides[k][d] * shape[d];
        if (merge) {
            it->shape[nd - 1] *= shape[d];
            for (int k = 0; k < nops; k++)
                it->stride[k][nd - 1] = strides[k][d];
        } else {
            it->shape[nd] = shape[d];
            for (int k = 0; k < nops; k++)
                it->stride[k][nd] = strides[k][d];
            nd++;
        }
    }
    if (nd == 0) {                          /* ndim 0 or all dims of size 1 */
        it->shape[0] = 1;
        for (int k = 0; k < nops; k++)
            it->stride[k][0] = 0;
        nd = 1;
    }
    it->nd = nd;
    it->size = total;
}

/* Rows [r0, r1) of the outer dims (all but the last), each one segment. */
static void run_rows(const eng_iter *it, eng_seg_fn fn, void *ctx, int64_t r0, int64_t r1)
{
    const int nd = it->nd, nops = it->nops;
    const int64_t n = it->shape[nd - 1];
    int64_t idx[ENG_MAX_NDIM];
    int64_t off[ENG_ITER_MAX_OPS] = {0, 0, 0};
    int64_t rem = r0;
    for (int d = nd - 2; d >= 0; d--) {     /* unravel r0 */
        idx[d] = rem % it->shape[d];
        rem /= it->shape[d];
        for (int k = 0; k < nops; k++)
            off[k] += idx[d] * it->stride[k][d];
    }
    for (int64_t r = r0; r < r1; r++) {
        fn(ctx, n, off, r * n);
        for (int d = nd - 2; d >= 0; d--) { /* odometer increment */
            for (int k = 0; k < nops; k++)
                off[k] += it->stride[k][d];
            if (++idx[d] < it->shape[d])
                break;
            for (int k = 0; k < nops; k++)
                off[k] -= it->stride[k][d] * it->shape[d];
            idx[d] = 0;
        }
    }
}

void eng_iter_run_serial(const eng_iter *it, eng_seg_fn fn, void *ctx)
{
    if (it->size == 0)
        return;
    run_rows(it, fn, ctx, 0, it->size / it->shape[it->nd - 1]);
}

#define ENG_CHUNK ((int64_t)8192)

static void run_chunk(const eng_iter *it, eng_seg_fn fn, void *ctx, int64_t c)
{
    const int64_t n = it->shape[0];
    int64_t start = c * ENG_CHUNK;
    int64_t len = n - start < ENG_CHUNK ? n - start : ENG_CHUNK;
    int64_t off[ENG_ITER_MAX_OPS];
    for (int k = 0; k < it->nops; k++)
        off[k] = start * it->stride[k][0];
    fn(ctx, len, off, start);
}

void eng_iter_run(const eng_iter *it, eng_seg_fn fn, void *ctx)
{
    if (it->size == 0)
        return;
    const int64_t n = it->shape[it->nd - 1];
    const int64_t rows = it->size / n;
    const int par = it->size > ENG_PAR_MIN_ELEMS;

    if (it->nd == 1) {                      /* one flat run: split in chunks */
        int64_t nch = (n + ENG_CHUNK - 1) / ENG_CHUNK;
        if (!par) {
            for (int64_t c = 0; c < nch; c++)
                run_chunk(it, fn, ctx, c);
            return;
        }
        ENG_OMP(parallel for schedule(static))
        for (int64_t c = 0; c < nch; c++)
            run_chunk(it, fn, ctx, c);
        return;
    }
    if (!par) {
        run_rows(it, fn, ctx, 0, rows);
        return;
    }
    ENG_OMP(parallel)
    {
        int64_t nt = 1, tid = 0;
#ifdef _OPENMP
        nt = omp_get_num_threads();
        tid = omp_get_thread_num();
#endif
        run_rows(it, fn, ctx, rows * tid / nt, rows * (tid + 1) / nt);
    }
}
