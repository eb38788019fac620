/*
 * copy.c -- strided -> contiguous copies, dtype casts, fill.
 */
#include <string.h>
#include "internal.h"

#define ENG_DTYPE 32
#include "copy_impl.h"
#define ENG_DTYPE 64
#include "copy_impl.h"

/* Casts: SRC -> DST, strided source, contiguous destination. */
#define DEFINE_CAST(NAME, SRC, DST)                                            \
    typedef struct { const SRC *x; int64_t sx; DST *out; } NAME##_ctx;         \
    static void NAME##_seg(void *vctx, int64_t n, const int64_t *off, int64_t ooff) \
    {                                                                          \
        const NAME##_ctx *ctx = vctx;                                          \
        const SRC *restrict x = ctx->x + off[0];                               \
        DST *restrict o = ctx->out + ooff;                                     \
        const int64_t s = ctx->sx;                                             \
        if (s == 1)                                                            \
            for (int64_t i = 0; i < n; i++) o[i] = (DST)x[i];                  \
        else                                                                   \
            for (int64_t i = 0; i < n; i++) o[i] = (DST)x[i * s];              \
    }                                                                          \
    void NAME(int ndim, const int64_t *shape, const SRC *x, const int64_t *sx, DST *out) \
    {                                                                          \
        eng_iter it;                                                           \
        const int64_t *st[1] = {sx};                                           \
        eng_iter_init(&it, ndim, shape, 1, st);                                \
        NAME##_ctx ctx = {x, it.stride[0][it.nd - 1], out};                    \
        eng_iter_run(&it, NAME##_seg, &ctx);                                   \
    }

DEFINE_CAST(eng_cast_f32_f64, float, double)
DEFINE_CAST(eng_cast_f64_f32, double, float)
