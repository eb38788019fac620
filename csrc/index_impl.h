/* index_impl.h -- body of index.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

void FN(eng_gather_rows)(int64_t nidx, int64_t rowlen, const int64_t *idx, const T *src, T *dst)
{
    if (rowlen <= 0)
        return;
    ENG_OMP(parallel for schedule(static) if(nidx * rowlen > ENG_PAR_MIN_ELEMS))
    for (int64_t i = 0; i < nidx; i++)
        memcpy(dst + i * rowlen, src + idx[i] * rowlen, (size_t)rowlen * sizeof(T));
}

/* Serial on purpose: repeated indices must add up in order. */
void FN(eng_scatter_add_rows)(int64_t nidx, int64_t rowlen, const int64_t *idx, const T *src,
                              T *dst)
{
    for (int64_t i = 0; i < nidx; i++) {
        T *restrict d = dst + idx[i] * rowlen;
        const T *restrict s = src + i * rowlen;
        for (int64_t j = 0; j < rowlen; j++)
            d[j] += s[j];
    }
}

#include "tmpl_end.h"
