/* test_common.h -- tiny test harness shared by the kernel tests. */
#ifndef TEST_COMMON_H
#define TEST_COMMON_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"
#include "internal.h"

extern int g_pass, g_fail;

/* One CHECK is one counted test. */
#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (cond) {                                                       \
            g_pass++;                                                     \
        } else {                                                          \
            g_fail++;                                                     \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                   \
            printf(__VA_ARGS__);                                          \
            printf("\n");                                                 \
        }                                                                 \
    } while (0)

/* deterministic uniform numbers in [-1, 1) */
static inline double rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* |a - b| <= tol * (1 + |b|), NaN equal to NaN, inf equal to same inf */
static inline int close_to(double a, double b, double tol)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    if (isinf(a) || isinf(b))
        return a == b;
    return fabs(a - b) <= tol * (1 + fabs(b));
}

static inline int same(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* |got - ref| in units in the last place of the float (f32) or double result nearest to
 * ref, the subnormal spacing below the smallest normal.  A reference beyond the type's
 * range must give inf of its sign, a NaN reference NaN: 0 when so, 1e9 when not. */
static inline double ulp_err(double got, long double ref, int f32)
{
    if (isnan((double)ref))
        return isnan(got) ? 0 : 1e9;
    const long double maxv = f32 ? 3.40282346638528859812e38L : 1.79769313486231570815e308L;
    if (fabsl(ref) > maxv)
        return isinf(got) && (got > 0) == (ref > 0) ? 0 : 1e9;
    if (isnan(got) || isinf(got))
        return 1e9;
    const double tiny = f32 ? 1.1754943508222875e-38 : 2.2250738585072014e-308;
    double u;
    if (fabsl(ref) < tiny) {
        u = f32 ? 1.4012984643248171e-45 : 4.9406564584124654e-324;
    } else if (f32) {
        const float r = (float)fabsl(ref);
        u = (double)(nextafterf(r, INFINITY) - r);
    } else {
        const double r = (double)fabsl(ref);
        u = nextafter(r, INFINITY) - r;
    }
    return (double)(fabsl((long double)got - ref) / u);
}

/* Element offset of flat row-major index f in shape with strides st. */
static inline int64_t off_of(int64_t f, int nd, const int64_t *shape, const int64_t *st)
{
    int64_t off = 0;
    for (int d = nd - 1; d >= 0; d--) {
        off += (f % shape[d]) * st[d];
        f /= shape[d];
    }
    return off;
}

/* A strided layout for `shape`:
 *   mode 0 contiguous; 1 broadcast (random dims get stride 0);
 *   2 permuted with step 2; 3 permuted, step 2 and negative strides;
 *   4 broadcast + permuted + negative.
 * Writes strides and the base offset (logical first element) and returns
 * the buffer length needed. */
static inline int64_t make_layout(int nd, const int64_t *shape, int mode, uint64_t *seed,
                                  int64_t *st, int64_t *base)
{
    int perm[16];
    int64_t phys[16];
    int bcast[16];
    for (int d = 0; d < nd; d++) {
        perm[d] = d;
        bcast[d] = (mode == 1 || mode == 4) && rnd(seed) > 0;
        phys[d] = bcast[d] ? 1 : shape[d];
    }
    if (mode >= 2)
        for (int d = nd - 1; d > 0; d--) {
            int j = (int)((rnd(seed) + 1) / 2 * (d + 1));
            if (j > d) j = d;
            int t = perm[d]; perm[d] = perm[j]; perm[j] = t;
        }
    int64_t step = mode >= 2 ? 2 : 1, acc = step;
    for (int i = nd - 1; i >= 0; i--) {
        st[perm[i]] = acc;
        acc *= phys[perm[i]] > 0 ? phys[perm[i]] : 1;
    }
    *base = 0;
    for (int d = 0; d < nd; d++) {
        if (bcast[d]) {
            st[d] = 0;
        } else if ((mode == 3 || mode == 4) && rnd(seed) > 0 && shape[d] > 0) {
            *base += (shape[d] - 1) * st[d];
            st[d] = -st[d];
        }
    }
    return acc + 1;
}

#endif
