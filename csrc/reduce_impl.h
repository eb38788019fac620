/* reduce_impl.h -- body of reduce.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

/* Pairwise sum of n elements at stride s: blocks of <= 128 are summed with 8
 * independent accumulators, larger runs are split in two halves (numpy's
 * scheme: the rounding error grows like O(log n), not O(n)). */
static T FN(pairwise)(const T *restrict x, int64_t n, int64_t s)
{
    if (n < 8) {
        T r = 0;
        for (int64_t i = 0; i < n; i++)
            r += x[i * s];
        return r;
    }
    if (n <= 128) {
        T acc[8];
        int64_t i;
        if (s == 1) {
            for (int j = 0; j < 8; j++) acc[j] = x[j];
            for (i = 8; i + 8 <= n; i += 8)
                for (int j = 0; j < 8; j++) acc[j] += x[i + j];
        } else {
            for (int j = 0; j < 8; j++) acc[j] = x[j * s];
            for (i = 8; i + 8 <= n; i += 8)
                for (int j = 0; j < 8; j++) acc[j] += x[(i + j) * s];
        }
        T r = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        for (; i < n; i++)
            r += x[i * s];
        return r;
    }
    int64_t h = n / 2;
    h -= h % 8;
    return FN(pairwise)(x, h, s) + FN(pairwise)(x + h * s, n - h, s);
}

/* Element offset of the flat (row-major) index `flat` of an nd-dim shape. */
static int64_t FN(unravel)(int64_t flat, int nd, const int64_t *shape, const int64_t *st)
{
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; d--) {
        off += (flat % shape[d]) * st[d];
        flat /= shape[d];
    }
    return off;
}

/* Odometer step over an nd-dim block: advances idx and returns the change
 * in element offset. */
static inline int64_t FN(step)(int nd, int64_t *idx, const int64_t *shape, const int64_t *st)
{
    int64_t delta = 0;
    for (int d = nd - 1; d >= 0; d--) {
        delta += st[d];
        if (++idx[d] < shape[d])
            return delta;
        delta -= st[d] * shape[d];
        idx[d] = 0;
    }
    return delta;
}

/* Sum of one reduced block (nr dims, >= 1 elements each).  "+ 0" turns a -0 into +0: a
 * sum starts from +0, as numpy's and PyTorch's do (the sum of -0s is +0, of [-0] too);
 * it changes no other value (x + 0 == x) and is kept by the compiler without fast-math. */
static T FN(block_sum)(const T *x, int nr, const int64_t *rs, const int64_t *rst)
{
    if (nr == 0)
        return x[0] + (T)0;
    if (nr == 1)
        return FN(pairwise)(x, rs[0], rst[0]) + (T)0;
    int64_t rows = 1, idx[ENG_MAX_NDIM] = {0};
    for (int d = 0; d < nr - 1; d++)
        rows *= rs[d];
    double acc = 0;                     /* row sums are accumulated in double */
    int64_t off = 0;
    for (int64_t r = 0; r < rows; r++) {
        acc += FN(pairwise)(x + off, rs[nr - 1], rst[nr - 1]);
        off += FN(step)(nr - 1, idx, rs, rst);
    }
    return (T)acc;
}

/* Column sums: out[j] = sum over the reduced block of x[r + j*cs], j < L.
 * Columns are done in tiles; each tile accumulates 64 reduced elements into
 * `part`, then adds part into `tot` (two-level blocking keeps float32 error
 * small for long columns). */
#define COL_TILE 256
static void FN(col_sum)(const T *x, int64_t L, int64_t cs, int nr, const int64_t *rs,
                        const int64_t *rst, T *out)
{
    int64_t R = 1;
    for (int d = 0; d < nr; d++)
        R *= rs[d];
    for (int64_t j0 = 0; j0 < L; j0 += COL_TILE) {
        const int64_t w = L - j0 < COL_TILE ? L - j0 : COL_TILE;
        T tot[COL_TILE], part[COL_TILE];
        int64_t idx[ENG_MAX_NDIM] = {0}, off = 0;
        for (int64_t j = 0; j < w; j++)
            tot[j] = part[j] = 0;
        for (int64_t r = 0; r < R; r++) {
            const T *restrict row = x + off + j0 * cs;
            if (cs == 1)
                for (int64_t j = 0; j < w; j++) part[j] += row[j];
            else
                for (int64_t j = 0; j < w; j++) part[j] += row[j * cs];
            if ((r & 63) == 63) {
                for (int64_t j = 0; j < w; j++) { tot[j] += part[j]; part[j] = 0; }
            }
            off += FN(step)(nr, idx, rs, rst);
        }
        for (int64_t j = 0; j < w; j++)
            out[j0 + j] = tot[j] + part[j];
    }
}

KERNEL void FN(eng_colsum)(int64_t rows, int64_t cols, const T *x, int64_t ld, T *out)
{
    if (rows == 0) {
        for (int64_t j = 0; j < cols; j++) out[j] = 0;
        return;
    }
    const int64_t rs[1] = {rows}, rst[1] = {ld};
    FN(col_sum)(x, cols, 1, 1, rs, rst, out);
}

/* Split shape/strides into collapsed kept (nk) and reduced (nr) parts. */
static void FN(split)(int ndim, const int64_t *shape, const int64_t *sx, int nred, int sort_red,
                      int *nk, int64_t *ks, int64_t *kst, int64_t *nout,
                      int *nr, int64_t *rs, int64_t *rst, int64_t *R)
{
    int nkeep = ndim - nred;
    *nk = eng_collapse1(nkeep, shape, sx, ks, kst, nout);
    int64_t tshape[ENG_MAX_NDIM], tst[ENG_MAX_NDIM];
    for (int d = 0; d < nred; d++) {
        tshape[d] = shape[nkeep + d];
        tst[d] = sx[nkeep + d];
    }
    if (sort_red) {     /* for sum the order is free: largest |stride| first */
        for (int i = 1; i < nred; i++) {
            for (int j = i; j > 0; j--) {
                int64_t a = tst[j - 1] < 0 ? -tst[j - 1] : tst[j - 1];
                int64_t b = tst[j] < 0 ? -tst[j] : tst[j];
                if (a >= b)
                    break;
                int64_t t = tst[j]; tst[j] = tst[j - 1]; tst[j - 1] = t;
                t = tshape[j]; tshape[j] = tshape[j - 1]; tshape[j - 1] = t;
            }
        }
    }
    *nr = eng_collapse1(nred, tshape, tst, rs, rst, R);
}

/* Use column accumulation when the last kept dim is contiguous and the
 * reduced block is not (e.g. summing a (B, N) array over B). */
#define USE_COLS(nk, ks, kst, nr, rst) \
    ((nk) >= 1 && (nr) >= 1 && (kst)[(nk) - 1] == 1 && (ks)[(nk) - 1] >= 4 && \
     (rst)[(nr) - 1] != 1 && (rst)[(nr) - 1] != -1)

KERNEL void FN(eng_sum)(int ndim, const int64_t *shape, const T *x, const int64_t *sx, int nred, T *out)
{
    int nk, nr;
    int64_t ks[ENG_MAX_NDIM], kst[ENG_MAX_NDIM], rs[ENG_MAX_NDIM], rst[ENG_MAX_NDIM];
    int64_t nout, R;
    FN(split)(ndim, shape, sx, nred, 1, &nk, ks, kst, &nout, &nr, rs, rst, &R);
    if (nout == 0)
        return;
    if (R == 0) {
        for (int64_t o = 0; o < nout; o++) out[o] = 0;
        return;
    }
    const int par = nout > 1 && nout * R > ENG_PAR_MIN_ELEMS;
    if (USE_COLS(nk, ks, kst, nr, rst)) {
        const int64_t L = ks[nk - 1], nouter = nout / L;
        ENG_PAR_FOR(par && nouter > 1, q, nouter,
                    FN(col_sum)(x + FN(unravel)(q, nk - 1, ks, kst), L, 1, nr, rs, rst, out + q * L););
        return;
    }
    ENG_PAR_FOR(par, o, nout, out[o] = FN(block_sum)(x + FN(unravel)(o, nk, ks, kst), nr, rs, rst););
}

/* ---- max / min: first extremum wins, the first NaN beats everything ---- */

#define BETTER(v, best) (is_min ? (v) < (best) : (v) > (best))

static void FN(block_ext)(const T *x, int nr, const int64_t *rs, const int64_t *rst,
                          int is_min, T *out, int64_t *arg)
{
    T best = x[0];
    int64_t bi = 0;
    if (best == best) {
        if (nr == 1) {
            const int64_t n = rs[0], s = rst[0];
            for (int64_t j = 1; j < n; j++) {
                T v = x[j * s];
                if (v != v) { best = v; bi = j; break; }
                if (BETTER(v, best)) { best = v; bi = j; }
            }
        } else if (nr > 1) {
            int64_t R = 1, idx[ENG_MAX_NDIM] = {0}, off = 0;
            for (int d = 0; d < nr; d++)
                R *= rs[d];
            for (int64_t j = 1; j < R; j++) {
                off += FN(step)(nr, idx, rs, rst);
                T v = x[off];
                if (v != v) { best = v; bi = j; break; }
                if (BETTER(v, best)) { best = v; bi = j; }
            }
        }
    }
    *out = best;
    if (arg)
        *arg = bi;
}

static void FN(col_ext)(const T *x, int64_t L, int nr, const int64_t *rs, const int64_t *rst,
                        int is_min, T *out, int64_t *arg)
{
    int64_t R = 1;
    for (int d = 0; d < nr; d++)
        R *= rs[d];
    for (int64_t j0 = 0; j0 < L; j0 += COL_TILE) {
        const int64_t w = L - j0 < COL_TILE ? L - j0 : COL_TILE;
        T best[COL_TILE];
        int64_t bi[COL_TILE], idx[ENG_MAX_NDIM] = {0}, off = 0;
        for (int64_t j = 0; j < w; j++) { best[j] = x[j0 + j]; bi[j] = 0; }
        for (int64_t r = 1; r < R; r++) {
            off += FN(step)(nr, idx, rs, rst);
            const T *restrict row = x + off + j0;
            for (int64_t j = 0; j < w; j++) {
                T v = row[j], b = best[j];
                if (BETTER(v, b) || (v != v && b == b)) { best[j] = v; bi[j] = r; }
            }
        }
        for (int64_t j = 0; j < w; j++) {
            out[j0 + j] = best[j];
            if (arg)
                arg[j0 + j] = bi[j];
        }
    }
}
#undef BETTER

static void FN(extremum)(int ndim, const int64_t *shape, const T *x, const int64_t *sx,
                         int nred, T *out, int64_t *arg, int is_min)
{
    int nk, nr;
    int64_t ks[ENG_MAX_NDIM], kst[ENG_MAX_NDIM], rs[ENG_MAX_NDIM], rst[ENG_MAX_NDIM];
    int64_t nout, R;
    /* no sorting of reduced dims: arg is a row-major index in the caller's order */
    FN(split)(ndim, shape, sx, nred, 0, &nk, ks, kst, &nout, &nr, rs, rst, &R);
    if (nout == 0 || R == 0)
        return;
    const int par = nout > 1 && nout * R > ENG_PAR_MIN_ELEMS;
    if (USE_COLS(nk, ks, kst, nr, rst)) {
        const int64_t L = ks[nk - 1], nouter = nout / L;
        ENG_PAR_FOR(par && nouter > 1, q, nouter,
                    FN(col_ext)(x + FN(unravel)(q, nk - 1, ks, kst), L, nr, rs, rst, is_min,
                                out + q * L, arg ? arg + q * L : NULL););
        return;
    }
    ENG_PAR_FOR(par, o, nout,
                FN(block_ext)(x + FN(unravel)(o, nk, ks, kst), nr, rs, rst, is_min, out + o,
                              arg ? arg + o : NULL););
}

KERNEL void FN(eng_max)(int ndim, const int64_t *shape, const T *x, const int64_t *sx, int nred,
                 T *out, int64_t *arg)
{
    FN(extremum)(ndim, shape, x, sx, nred, out, arg, 0);
}

KERNEL void FN(eng_min)(int ndim, const int64_t *shape, const T *x, const int64_t *sx, int nred,
                 T *out, int64_t *arg)
{
    FN(extremum)(ndim, shape, x, sx, nred, out, arg, 1);
}

#undef USE_COLS
#undef COL_TILE
#include "tmpl_end.h"
