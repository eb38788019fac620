/* binary_impl.h -- body of binary.c for one dtype (see tmpl_begin.h). */
#include "tmpl_begin.h"

typedef struct {
    int op;
    const T *a, *b;
    const uint8_t *c;
    int64_t sa, sb, sc;          /* strides along the innermost dim */
    void *out;
} FN(binctx);

/* The same loop specialised on the innermost strides, so that the common
 * cases (both contiguous, one operand a scalar) vectorise. */
#define STRIDE_CASES(EXPR)                                                     \
    if (sa == 1 && sb == 1) {                                                  \
        for (int64_t i = 0; i < n; i++) { T x = a[i], z = b[i]; o[i] = (EXPR); } \
    } else if (sa == 0 && sb == 1) {                                           \
        const T x = a[0];                                                      \
        for (int64_t i = 0; i < n; i++) { T z = b[i]; o[i] = (EXPR); }         \
    } else if (sa == 1 && sb == 0) {                                           \
        const T z = b[0];                                                      \
        for (int64_t i = 0; i < n; i++) { T x = a[i]; o[i] = (EXPR); }         \
    } else {                                                                   \
        for (int64_t i = 0; i < n; i++) {                                      \
            T x = a[i * sa], z = b[i * sb]; o[i] = (EXPR);                     \
        }                                                                      \
    }                                                                          \
    break;

static void FN(binary_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(binctx) *ctx = vctx;
    const T *restrict a = ctx->a + off[0];
    const T *restrict b = ctx->b + off[1];
    T *restrict o = (T *)ctx->out + ooff;
    const int64_t sa = ctx->sa, sb = ctx->sb;
    switch (ctx->op) {
    case ENG_ADD:     STRIDE_CASES(x + z)
    case ENG_SUB:     STRIDE_CASES(x - z)
    case ENG_MUL:     STRIDE_CASES(x * z)
    case ENG_DIV:     STRIDE_CASES(x / z)
    /* NaN if either is NaN: x NaN -> x; z NaN -> comparison false -> z */
    case ENG_MAXIMUM: STRIDE_CASES((x > z || x != x) ? x : z)
    case ENG_MINIMUM: STRIDE_CASES((x < z || x != x) ? x : z)
    case ENG_POWB:    STRIDE_CASES(LM(pow)(x, z))
    default:          break;
    }
}

static void FN(compare_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(binctx) *ctx = vctx;
    const T *restrict a = ctx->a + off[0];
    const T *restrict b = ctx->b + off[1];
    uint8_t *restrict o = (uint8_t *)ctx->out + ooff;
    const int64_t sa = ctx->sa, sb = ctx->sb;
    switch (ctx->op) {
    case ENG_LT: STRIDE_CASES((uint8_t)(x < z))
    case ENG_LE: STRIDE_CASES((uint8_t)(x <= z))
    case ENG_GT: STRIDE_CASES((uint8_t)(x > z))
    case ENG_GE: STRIDE_CASES((uint8_t)(x >= z))
    case ENG_EQ: STRIDE_CASES((uint8_t)(x == z))
    case ENG_NE: STRIDE_CASES((uint8_t)(x != z))
    default:     break;
    }
}
#undef STRIDE_CASES

static void FN(where_seg)(void *vctx, int64_t n, const int64_t *off, int64_t ooff)
{
    const FN(binctx) *ctx = vctx;
    const uint8_t *restrict c = ctx->c + off[0];
    const T *restrict a = ctx->a + off[1];
    const T *restrict b = ctx->b + off[2];
    T *restrict o = (T *)ctx->out + ooff;
    const int64_t sc = ctx->sc, sa = ctx->sa, sb = ctx->sb;
    /* Both sides are loaded before the select, so the loop has no branch to mispredict on a
     * random mask (relu's backward is where(x <= 0, 0, g)) and vectorises as a blend. The
     * common shapes get their own loops: a compact mask with compact or one-number operands. */
    if (sc == 1 && sa == 1 && sb == 1) {
        for (int64_t i = 0; i < n; i++) {
            const T x = a[i], y = b[i];
            o[i] = c[i] ? x : y;
        }
    } else if (sc == 1 && sa == 0 && sb == 1) {
        const T x = a[0];
        for (int64_t i = 0; i < n; i++) {
            const T y = b[i];
            o[i] = c[i] ? x : y;
        }
    } else if (sc == 1 && sa == 1 && sb == 0) {
        const T y = b[0];
        for (int64_t i = 0; i < n; i++) {
            const T x = a[i];
            o[i] = c[i] ? x : y;
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            const T x = a[i * sa], y = b[i * sb];
            o[i] = c[i * sc] ? x : y;
        }
    }
}

KERNEL void FN(eng_binary)(int op, int ndim, const int64_t *shape, const T *a, const int64_t *sa,
                    const T *b, const int64_t *sb, T *out)
{
    eng_iter it;
    const int64_t *st[2] = {sa, sb};
    eng_iter_init(&it, ndim, shape, 2, st);
    FN(binctx) ctx = {op, a, b, NULL, it.stride[0][it.nd - 1],
                      it.stride[1][it.nd - 1], 0, out};
    eng_iter_run(&it, FN(binary_seg), &ctx);
}

KERNEL void FN(eng_compare)(int op, int ndim, const int64_t *shape, const T *a, const int64_t *sa,
                     const T *b, const int64_t *sb, uint8_t *out)
{
    eng_iter it;
    const int64_t *st[2] = {sa, sb};
    eng_iter_init(&it, ndim, shape, 2, st);
    FN(binctx) ctx = {op, a, b, NULL, it.stride[0][it.nd - 1],
                      it.stride[1][it.nd - 1], 0, out};
    eng_iter_run(&it, FN(compare_seg), &ctx);
}

KERNEL void FN(eng_where)(int ndim, const int64_t *shape, const uint8_t *c, const int64_t *sc,
                   const T *a, const int64_t *sa, const T *b, const int64_t *sb, T *out)
{
    eng_iter it;
    const int64_t *st[3] = {sc, sa, sb};
    eng_iter_init(&it, ndim, shape, 3, st);
    FN(binctx) ctx = {0, a, b, c, it.stride[1][it.nd - 1], it.stride[2][it.nd - 1],
                      it.stride[0][it.nd - 1], out};
    eng_iter_run(&it, FN(where_seg), &ctx);
}

#include "tmpl_end.h"
