/* test_impl.h -- the tests for one dtype (included twice, see tmpl_begin.h). */
#include "tmpl_begin.h"

#if T_IS_F32
#define TOL 2e-5
#define DT "f32"
#else
#define TOL 1e-12
#define DT "f64"
#endif

static T *FN(rand_buf)(int64_t n, uint64_t *seed)
{
    T *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(T));
    for (int64_t i = 0; i < n; i++)
        p[i] = (T)rnd(seed);
    return p;
}

/* ------------------------------------------------------------------ unary */
static double FN(ref_unary)(int op, double x, double a)
{
    switch (op) {
    case ENG_NEG: return -x;
    case ENG_EXP: return exp(x);
    case ENG_LOG: return log(x);
    case ENG_SIGMOID: return 1 / (1 + exp(-x));
    case ENG_TANH: return tanh(x);
    case ENG_RELU: return x > 0 ? x : 0;
    case ENG_LEAKY_RELU: return x > 0 ? x : a * x;
    case ENG_ELU: return x > 0 ? x : a * (exp(x) - 1);
    case ENG_POW: return pow(x, a);
    case ENG_ABS: return fabs(x);
    default: return (x > 0) - (x < 0);      /* ENG_SIGN */
    }
}

static void FN(test_unary)(void)
{
    uint64_t seed = 7;
    /* around every vector width (4, 8, 16 lanes and their unrolled pairs) and long runs */
    const int64_t sizes[] = {0, 1, 3, 4, 5, 7, 8, 9, 13, 15, 16, 17, 31, 32, 33, 63, 64, 65, 1000, 70001};
    for (int op = ENG_NEG; op <= ENG_SIGN; op++) {
        for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
            int64_t n = sizes[s];
            T alpha = op == ENG_POW ? (T)2.5 : (T)0.3;
            T *x = FN(rand_buf)(n, &seed), *y = FN(rand_buf)(n + 1, &seed);
            const T guard = y[n];
            for (int64_t i = 0; i < n; i++) {
                x[i] *= 4;
                if (op == ENG_LOG || op == ENG_POW) x[i] = LM(fabs)(x[i]) + (T)0.01;
            }
            if (n > 2 && op != ENG_LOG && op != ENG_POW) x[0] = 0;
            FN(eng_unary)(op, n, x, y, alpha);
            int ok = 1;
            for (int64_t i = 0; i < n; i++)
                ok &= close_to(y[i], FN(ref_unary)(op, x[i], alpha), TOL);
            CHECK(ok && same(y[n], guard), DT " unary op %d n=%lld", op, (long long)n);
            free(x); free(y);
        }
    }
    /* sigmoid far out: no overflow, exact limits; NaN propagates */
    T x[5] = {(T)-1000, (T)1000, (T)-80, NAN, (T)0}, y[5];
    FN(eng_unary)(ENG_SIGMOID, 5, x, y, 0);
    CHECK(y[0] == 0 && y[1] == 1 && y[2] > 0 && isnan(y[3]) && y[4] == (T)0.5, DT " sigmoid extremes");
    FN(eng_unary)(ENG_RELU, 5, x, y, 0);
    CHECK(y[0] == 0 && y[1] == 1000 && isnan(y[3]), DT " relu NaN");
    /* sign: +0 at -0 and at NaN, as PyTorch; +-1 at +-inf and subnormals */
    T sx[6] = {(T)-0.0, (T)NAN, (T)INFINITY, (T)-INFINITY, (T)1e-40, (T)-3}, sy[6];
    FN(eng_unary)(ENG_SIGN, 6, sx, sy, 0);
    CHECK(sy[0] == 0 && !signbit(sy[0]) && sy[1] == 0 && !signbit(sy[1]) && sy[2] == 1 && sy[3] == -1
          && sy[4] == 1 && sy[5] == -1, DT " sign of -0, NaN, +-inf, subnormal");
    /* in place */
    T z[3] = {1, -2, 3};
    FN(eng_unary)(ENG_NEG, 3, z, z, 0);
    CHECK(z[0] == -1 && z[1] == 2 && z[2] == -3, DT " unary in place");
}

/* ------------------------------------------------------ exp, tanh, sigmoid
 * vmath.h's exp, tanh and sigmoid as the kernel set in use compiled them (through
 * eng_unary), in ulps against a wider libm (double for float32, long double for float64):
 * a dense sweep of the whole range, subnormal and overflowing results included, tiny
 * arguments, and the special values. */
static double FN(worst_ulp)(int op, int64_t n, const T *x, T *y, double *at)
{
    FN(eng_unary)(op, n, x, y, 0);
    double worst = 0;
    for (int64_t i = 0; i < n; i++) {
        const long double xi = x[i];
        long double ref;
        if (T_IS_F32)
            ref = op == ENG_EXP ? exp((double)xi) : op == ENG_TANH ? tanh((double)xi)
                                                    : 1 / (1 + exp(-(double)xi));
        else
            ref = op == ENG_EXP ? expl(xi) : op == ENG_TANH ? tanhl(xi) : 1 / (1 + expl(-xi));
        const double e = ulp_err(y[i], ref, T_IS_F32);
        if (e > worst) {
            worst = e;
            *at = (double)x[i];
        }
    }
    return worst;
}

static void FN(test_vmath)(void)
{
    const int64_t n = 200000;
    T *x = malloc((size_t)n * sizeof(T)), *y = malloc((size_t)n * sizeof(T));
    /* exp: from where the result is 0 to past the overflow, so subnormal results and both
     * boundaries lie inside */
    const double lo = T_IS_F32 ? -104.5 : -746.5, hi = T_IS_F32 ? 89.5 : 710.5;
    const double tol_exp = T_IS_F32 ? 2.0 : 1.5, tol_tanh = 3.0, tol_sig = 3.0;
    double at = 0, w;
    for (int64_t i = 0; i < n; i++)
        x[i] = (T)(lo + (hi - lo) * (double)i / (double)(n - 1));
    w = FN(worst_ulp)(ENG_EXP, n, x, y, &at);
    CHECK(w <= tol_exp, DT " %s exp over [%g, %g]: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()),
          lo, hi, w, at);
    /* tanh and sigmoid over [-30, 30] (both saturate inside), then |x| from 2^-1 down to
     * the smallest subnormal (1000 values per binade range, every sign) */
    for (int64_t i = 0; i < n; i++)
        x[i] = (T)(-30.0 + 60.0 * (double)i / (double)(n - 1));
    w = FN(worst_ulp)(ENG_TANH, n, x, y, &at);
    CHECK(w <= tol_tanh, DT " %s tanh over [-30, 30]: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()), w, at);
    w = FN(worst_ulp)(ENG_SIGMOID, n, x, y, &at);
    CHECK(w <= tol_sig, DT " %s sigmoid over [-30, 30]: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()), w, at);
    const int min_exp = T_IS_F32 ? -149 : -1074;
    for (int64_t i = 0; i < n; i++)
        x[i] = (T)ldexp(1 + (double)(i % 997) / 997.0, min_exp + (int)((i / 997) * -min_exp / (n / 997 + 1))) *
               (i & 1 ? -1 : 1);
    w = FN(worst_ulp)(ENG_TANH, n, x, y, &at);
    CHECK(w <= tol_tanh, DT " %s tanh of tiny |x|: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()), w, at);
    w = FN(worst_ulp)(ENG_EXP, n, x, y, &at);
    CHECK(w <= tol_exp, DT " %s exp of tiny |x|: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()), w, at);
    /* also below (and far below) a sigmoid's subnormal results */
    for (int64_t i = 0; i < n; i++)
        x[i] = (T)(-(T_IS_F32 ? 110.0 : 750.0) + (T_IS_F32 ? 30.0 : 70.0) * (double)i / (double)(n - 1));
    w = FN(worst_ulp)(ENG_SIGMOID, n, x, y, &at);
    CHECK(w <= tol_sig, DT " %s sigmoid into subnormals: worst %.3f ulp at %.9g", eng_isa_name(eng_isa()), w, at);

    /* special values, each in every lane position (a vector's head, middle and tail) */
    const T inf = (T)INFINITY, nan = (T)NAN, tiny = T_IS_F32 ? (T)1e-45 : (T)5e-324;
    /* the largest argument whose exp is finite, and the next one up */
    T xmax = (T)log(T_IS_F32 ? 3.4028234663852886e38 : 1.7976931348623157e308);
    while (!isinf(LM(exp)(LM(nextafter)(xmax, inf))) ) xmax = LM(nextafter)(xmax, inf);
    while (isinf(LM(exp)(xmax))) xmax = LM(nextafter)(xmax, -inf);
    const T sv[] = {inf, -inf, nan, (T)-0.0, (T)0.0, tiny, -tiny, xmax, LM(nextafter)(xmax, inf),
                    (T)-1000, (T)1000, (T)20, (T)-20};
    enum { NSV = sizeof sv / sizeof *sv, LEN = 37 };
    int ok_exp = 1, ok_tanh = 1, ok_sig = 1;
    for (int k = 0; k < NSV; k++) {
        for (int pos = 0; pos < LEN; pos += 5) {
            T xs[LEN], ys[LEN];
            for (int i = 0; i < LEN; i++) xs[i] = (T)0.25;
            xs[pos] = sv[k];
            const T v = sv[k];
            FN(eng_unary)(ENG_EXP, LEN, xs, ys, 0);
            const T e = ys[pos];
            ok_exp &= isnan(v) ? isnan(e) : v == inf ? e == inf : v == -inf ? e == 0 && !signbit(e)
                      : v == 0 ? e == 1 : k == 8 ? isinf(e) : k == 7 ? !isinf(e) && ulp_err(e, (long double)LM(exp)(v), T_IS_F32) <= tol_exp
                      : 1;
            FN(eng_unary)(ENG_TANH, LEN, xs, ys, 0);
            const T t = ys[pos];
            ok_tanh &= isnan(v) ? isnan(t) : isinf(v) || LM(fabs)(v) >= 20 ? t == (v > 0 ? 1 : -1)
                       : LM(fabs)(v) <= tiny ? t == v && signbit(t) == signbit(v) : 1;
            FN(eng_unary)(ENG_SIGMOID, LEN, xs, ys, 0);
            const T sg = ys[pos];
            ok_sig &= isnan(v) ? isnan(sg) : v == inf || v == 1000 ? sg == 1 : v == -inf || v == -1000 ? sg == 0
                      : v == 0 ? sg == (T)0.5 : 1;
            for (int i = 0; i < LEN; i++) ok_sig &= i == pos || ys[i] == ys[(pos + 1) % LEN];
        }
    }
    CHECK(ok_exp, DT " %s exp of +-inf, NaN, +-0, at the overflow boundary", eng_isa_name(eng_isa()));
    CHECK(ok_tanh, DT " %s tanh of +-inf, NaN, +-0 (sign kept), subnormals, +-20", eng_isa_name(eng_isa()));
    CHECK(ok_sig, DT " %s sigmoid of +-inf, NaN, 0, +-1000", eng_isa_name(eng_isa()));
    free(x);
    free(y);
}

/* ------------------------------------------------- binary/compare/where */
#define NSHAPES 9
static const int FN(shape_nd)[NSHAPES] = {0, 1, 1, 2, 2, 3, 3, 4, 2};
static const int64_t FN(shapes)[NSHAPES][4] = {
    {0}, {1}, {31}, {7, 13}, {0, 5}, {3, 1, 67}, {2, 13, 7}, {2, 3, 5, 7}, {130, 300}};

static T FN(ref_bin)(int op, T a, T b)
{
    switch (op) {
    case ENG_ADD: return a + b;
    case ENG_SUB: return a - b;
    case ENG_MUL: return a * b;
    case ENG_DIV: return a / b;
    case ENG_MAXIMUM: return (isnan(a) || isnan(b)) ? (T)NAN : (a > b ? a : b);
    case ENG_MINIMUM: return (isnan(a) || isnan(b)) ? (T)NAN : (a < b ? a : b);
    default: return LM(pow)(a, b);
    }
}

static int FN(ref_cmp)(int op, T a, T b)
{
    switch (op) {
    case ENG_LT: return a < b;
    case ENG_LE: return a <= b;
    case ENG_GT: return a > b;
    case ENG_GE: return a >= b;
    case ENG_EQ: return a == b;
    default: return a != b;
    }
}

static void FN(test_binary)(void)
{
    uint64_t seed = 11;
    for (int si = 0; si < NSHAPES; si++) {
        const int nd = FN(shape_nd)[si];
        const int64_t *shape = FN(shapes)[si];
        int64_t total = 1;
        for (int d = 0; d < nd; d++) total *= shape[d];
        for (int ma = 0; ma < 5; ma++) {
            int mb = (ma * 3 + si) % 5;
            int64_t sa[4], sb[4], sc[4], ba, bb, bc;
            int64_t la = make_layout(nd, shape, ma, &seed, sa, &ba);
            int64_t lb = make_layout(nd, shape, mb, &seed, sb, &bb);
            int64_t lc = make_layout(nd, shape, (ma + 1) % 5, &seed, sc, &bc);
            T *a = FN(rand_buf)(la, &seed), *b = FN(rand_buf)(lb, &seed);
            uint8_t *c = malloc(lc);
            for (int64_t i = 0; i < lc; i++) c[i] = rnd(&seed) > 0;
            for (int64_t i = 0; i < lb; i++) if (rnd(&seed) > 0.5) b[i] = a[i % la]; /* ties */
            if (la > 3) a[la / 2] = NAN;
            if (lb > 3) b[1] = NAN;
            T *out = FN(rand_buf)(total, &seed);
            uint8_t *m = malloc(total + 1);
            for (int op = ENG_ADD; op <= ENG_POWB; op++) {
                FN(eng_binary)(op, nd, shape, a + ba, sa, b + bb, sb, out);
                int ok = 1;
                for (int64_t f = 0; f < total; f++) {
                    T x = a[ba + off_of(f, nd, shape, sa)], z = b[bb + off_of(f, nd, shape, sb)];
                    ok &= same(out[f], FN(ref_bin)(op, x, z));
                }
                CHECK(ok, DT " binary op %d shape#%d modes %d/%d", op, si, ma, mb);
            }
            for (int op = ENG_LT; op <= ENG_NE; op++) {
                FN(eng_compare)(op, nd, shape, a + ba, sa, b + bb, sb, m);
                int ok = 1;
                for (int64_t f = 0; f < total; f++) {
                    T x = a[ba + off_of(f, nd, shape, sa)], z = b[bb + off_of(f, nd, shape, sb)];
                    ok &= m[f] == FN(ref_cmp)(op, x, z);
                }
                CHECK(ok, DT " compare op %d shape#%d modes %d/%d", op, si, ma, mb);
            }
            FN(eng_where)(nd, shape, c + bc, sc, a + ba, sa, b + bb, sb, out);
            int ok = 1;
            for (int64_t f = 0; f < total; f++) {
                T x = a[ba + off_of(f, nd, shape, sa)], z = b[bb + off_of(f, nd, shape, sb)];
                ok &= same(out[f], c[bc + off_of(f, nd, shape, sc)] ? x : z);
            }
            CHECK(ok, DT " where shape#%d modes %d/%d", si, ma, mb);
            FN(eng_copy)(nd, shape, a + ba, sa, out);
            ok = 1;
            for (int64_t f = 0; f < total; f++)
                ok &= same(out[f], a[ba + off_of(f, nd, shape, sa)]);
            CHECK(ok, DT " copy shape#%d mode %d", si, ma);
            free(a); free(b); free(c); free(out); free(m);
        }
    }
    /* scalar-broadcast fast paths on a long run (parallel when OpenMP) */
    int64_t n = 100003, shp[1] = {n}, s1[1] = {1}, s0[1] = {0};
    T *a = FN(rand_buf)(n, &seed), *o = FN(rand_buf)(n, &seed), two = 2;
    FN(eng_binary)(ENG_MUL, 1, shp, a, s1, &two, s0, o);
    int ok = 1;
    for (int64_t i = 0; i < n; i++) ok &= o[i] == a[i] * 2;
    CHECK(ok, DT " binary scalar rhs");
    FN(eng_binary)(ENG_SUB, 1, shp, &two, s0, a, s1, o);
    ok = 1;
    for (int64_t i = 0; i < n; i++) ok &= o[i] == 2 - a[i];
    CHECK(ok, DT " binary scalar lhs");
    FN(eng_fill)(n, o, (T)3.5);
    ok = 1;
    for (int64_t i = 0; i < n; i++) ok &= o[i] == (T)3.5;
    CHECK(ok, DT " fill");
    FN(eng_fill)(0, o, 0);
    free(a); free(o);
}

/* ------------------------------------------------------------- reductions */
static void FN(test_reduce)(void)
{
    uint64_t seed = 13;
    for (int si = 0; si < NSHAPES; si++) {
        const int nd = FN(shape_nd)[si];
        const int64_t *shape = FN(shapes)[si];
        for (int nred = 0; nred <= nd; nred++) {
            for (int mode = 0; mode < 5; mode++) {
                int64_t st[4], base;
                int64_t len = make_layout(nd, shape, mode, &seed, st, &base);
                T *x = FN(rand_buf)(len, &seed);
                int64_t nout = 1, R = 1;
                for (int d = 0; d < nd - nred; d++) nout *= shape[d];
                for (int d = nd - nred; d < nd; d++) R *= shape[d];
                const int64_t *rshape = shape + (nd - nred), *rst = st + (nd - nred);
                T *out = FN(rand_buf)(nout, &seed);
                int64_t *arg = malloc((size_t)(nout + 1) * sizeof(int64_t));
                FN(eng_sum)(nd, shape, x + base, st, nred, out);
                int ok = 1;
                for (int64_t o = 0; o < nout; o++) {
                    int64_t ob = base + off_of(o, nd - nred, shape, st);
                    double s = 0, sa = 0;
                    for (int64_t r = 0; r < R; r++) {
                        double v = x[ob + off_of(r, nred, rshape, rst)];
                        s += v; sa += fabs(v);
                    }
                    ok &= fabs(out[o] - s) <= TOL * (1 + sa);
                }
                CHECK(ok, DT " sum shape#%d nred %d mode %d", si, nred, mode);
                if (R == 0) { free(x); free(out); free(arg); continue; }
                if (R > 4 && nout > 0 && mode == 2) x[base + off_of(R / 2, nd, shape, st)] = NAN;
                for (int is_min = 0; is_min <= 1; is_min++) {
                    if (is_min) FN(eng_min)(nd, shape, x + base, st, nred, out, arg);
                    else FN(eng_max)(nd, shape, x + base, st, nred, out, arg);
                    ok = 1;
                    for (int64_t o = 0; o < nout; o++) {
                        int64_t ob = base + off_of(o, nd - nred, shape, st);
                        T best = x[ob];
                        int64_t bi = 0;
                        for (int64_t r = 1; r < R && !isnan(best); r++) {
                            T v = x[ob + off_of(r, nred, rshape, rst)];
                            if (isnan(v) || (is_min ? v < best : v > best)) { best = v; bi = r; }
                        }
                        ok &= same(out[o], best) && arg[o] == bi;
                    }
                    CHECK(ok, DT " %s shape#%d nred %d mode %d", is_min ? "min" : "max", si, nred, mode);
                }
                FN(eng_max)(nd, shape, x + base, st, nred, out, NULL);   /* arg NULL */
                free(x); free(out); free(arg);
            }
        }
    }
    /* long float sums stay accurate: contiguous, and down long columns */
    {
        int64_t n = 1 << 20, shp[2] = {n / 8, 8}, st1[1] = {1}, st2[2] = {1, n / 8};
        T *x = malloc(n * sizeof(T));
        double ref = 0, refc[8] = {0};
        for (int64_t i = 0; i < n; i++) { x[i] = (T)(0.1 + 0.01 * (i % 7)); ref += x[i]; }
        for (int64_t j = 0; j < 8; j++)
            for (int64_t i = 0; i < n / 8; i++) refc[j] += x[j * (n / 8) + i];
        T out[8];
        int64_t shp1[1] = {n};
        FN(eng_sum)(1, shp1, x, st1, 1, out);
        CHECK(fabs(out[0] - ref) / ref < 1e-5, DT " long sum rel err %g", fabs(out[0] - ref) / ref);
        /* x viewed as (n/8, 8) with strides (1, n/8): reduce the first axis,
         * i.e. shape (8, n/8) permuted so that the reduced axis is last */
        int64_t pshape[2] = {8, n / 8}, pst[2] = {n / 8, 1};
        FN(eng_sum)(2, pshape, x, pst, 1, out);
        int ok = 1;
        for (int j = 0; j < 8; j++) ok &= fabs(out[j] - refc[j]) / refc[j] < 1e-5;
        CHECK(ok, DT " long row sums");
        /* columns: shape (8 kept, n/8 reduced) with kept stride 1 -> column path */
        int64_t cshape[2] = {8, n / 8}, cst[2] = {1, 8};
        FN(eng_sum)(2, cshape, x, cst, 1, out);
        ok = 1;
        for (int j = 0; j < 8; j++) {
            double r = 0;
            for (int64_t i = 0; i < n / 8; i++) r += x[i * 8 + j];
            ok &= fabs(out[j] - r) / r < 1e-5;
        }
        CHECK(ok, DT " long column sums");
        (void)shp; (void)st2;
        free(x);
    }
    /* NaN in a sum propagates */
    T v[5] = {1, 2, NAN, 4, 5}, s;
    int64_t shp[1] = {5}, st[1] = {1};
    FN(eng_sum)(1, shp, v, st, 1, &s);
    CHECK(isnan(s), DT " sum NaN");
}

/* ------------------------------------------------------------------ GEMM */
static void FN(test_gemm)(void)
{
    uint64_t seed = 17;
    const int64_t dims[][3] = {{0, 5, 3}, {5, 0, 3}, {5, 3, 0}, {1, 1, 1}, {7, 13, 31},
                               {13, 7, 67}, {67, 127, 13}, {6, 16, 256}, {12, 32, 257},
                               {31, 1, 127}, {1, 67, 7}, {127, 67, 300}, {300, 500, 257}};
    const int ndims = sizeof dims / sizeof *dims;
    for (int di = 0; di < ndims; di++) {
        const int64_t M = dims[di][0], N = dims[di][1], K = dims[di][2];
        const int big = M * N * K > 10000000;
        for (int flags = 0; flags < 4; flags++) {
            const int ta = flags & 1, tb = flags >> 1;
            for (int variant = 0; variant < (big ? 1 : 4); variant++) {
                /* variant: 0 batch 1 beta 0; 1 batch 3 beta 1 padded;
                 *          2 batch 3 with A broadcast (bsa 0) beta 0.5; 3 batch 2 B broadcast */
                const int64_t batch = variant == 0 ? 1 : (variant == 3 ? 2 : 3);
                const T beta = variant == 0 ? 0 : (variant == 2 ? (T)0.5 : 1);
                const int64_t pad = variant ? 3 : 0;
                const int64_t lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
                const int64_t asz = (ta ? K : M) * lda, bsz = (tb ? N : K) * ldb, csz = M * ldc;
                const int64_t bsa = variant == 2 ? 0 : asz, bsb = variant == 3 ? 0 : bsz;
                T *A = FN(rand_buf)(asz * batch, &seed), *B = FN(rand_buf)(bsz * batch, &seed);
                T *C1 = FN(rand_buf)(csz * batch, &seed);
                T *C2 = malloc((size_t)(csz * batch + 1) * sizeof(T));
                if (beta == 0)
                    for (int64_t i = 0; i < csz * batch; i++) C1[i] = NAN;   /* must not be read */
                memcpy(C2, C1, (size_t)(csz * batch) * sizeof(T));
                FN(eng_matmul)(batch, M, N, K, A, lda, bsa, ta, B, ldb, bsb, tb, C1, ldc, csz, beta);
                FN(eng_matmul_naive)(batch, M, N, K, A, lda, bsa, ta, B, ldb, bsb, tb, C2, ldc, csz, beta);
                int ok = 1;
                for (int64_t i = 0; i < batch; i++)
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t n = 0; n < N; n++) {
                            int64_t o = i * csz + m * ldc + n;
                            ok &= fabs(C1[o] - C2[o]) <= TOL * (4 + K);
                        }
                CHECK(ok, DT " gemm M=%lld N=%lld K=%lld ta=%d tb=%d variant %d", (long long)M,
                      (long long)N, (long long)K, ta, tb, variant);
                free(A); free(B); free(C1); free(C2);
            }
        }
    }
    /* NaN in an input propagates to its row */
    T A[4] = {1, NAN, 3, 4}, B[4] = {1, 0, 0, 1}, C[4];
    FN(eng_matmul)(1, 2, 2, 2, A, 2, 0, 0, B, 2, 0, 0, C, 2, 0, 0);
    CHECK(isnan(C[0]) && isnan(C[1]) && C[2] == 3 && C[3] == 4, DT " gemm NaN");
}

/* ---------------------------------------------------------------- linear */
static void FN(test_linear)(void)
{
    uint64_t seed = 19;
    const int64_t dims[][3] = {{1, 1, 1}, {7, 13, 5}, {33, 67, 10}, {128, 31, 64}};
    for (int di = 0; di < 4; di++) {
        const int64_t M = dims[di][0], K = dims[di][1], N = dims[di][2];
        for (int act = ENG_ACT_NONE; act <= ENG_ACT_TANH; act++) {
            for (int hasb = 0; hasb <= 1; hasb++) {
                T *x = FN(rand_buf)(M * K, &seed), *w = FN(rand_buf)(N * K, &seed);
                T *b = FN(rand_buf)(N, &seed), *y = FN(rand_buf)(M * N, &seed);
                T *gy = FN(rand_buf)(M * N, &seed), *gpre = FN(rand_buf)(M * N, &seed);
                T *gx = FN(rand_buf)(M * K, &seed), *gw = FN(rand_buf)(N * K, &seed);
                T *gb = FN(rand_buf)(N, &seed), *ref = FN(rand_buf)(M * N, &seed);
                FN(eng_linear_forward)(M, K, N, x, w, hasb ? b : NULL, act, y);
                int ok = 1;
                for (int64_t m = 0; m < M; m++)
                    for (int64_t n = 0; n < N; n++) {
                        double z = hasb ? b[n] : 0;
                        for (int64_t k = 0; k < K; k++) z += (double)x[m * K + k] * w[n * K + k];
                        if (act == ENG_ACT_RELU) z = z > 0 ? z : 0;
                        if (act == ENG_ACT_SIGMOID) z = 1 / (1 + exp(-z));
                        if (act == ENG_ACT_TANH) z = tanh(z);
                        ok &= close_to(y[m * N + n], z, TOL * (2 + K));
                    }
                CHECK(ok, DT " linear fwd M=%lld K=%lld N=%lld act %d bias %d", (long long)M,
                      (long long)K, (long long)N, act, hasb);
                FN(eng_linear_backward)(M, K, N, x, w, y, gy, act, gpre, hasb ? gx : NULL, gw,
                                        hasb ? gb : NULL);
                ok = 1;
                for (int64_t i = 0; i < M * N; i++) {
                    double v = y[i], d = act == ENG_ACT_RELU ? (v > 0) : act == ENG_ACT_SIGMOID
                                   ? v * (1 - v) : act == ENG_ACT_TANH ? 1 - v * v : 1;
                    ref[i] = (T)(gy[i] * d);
                    ok &= close_to(gpre[i], ref[i], TOL);
                }
                for (int64_t n = 0; n < N; n++)
                    for (int64_t k = 0; k < K; k++) {
                        double s = 0;
                        for (int64_t m = 0; m < M; m++) s += (double)ref[m * N + n] * x[m * K + k];
                        ok &= close_to(gw[n * K + k], s, TOL * (2 + M));
                    }
                if (hasb) {
                    for (int64_t m = 0; m < M; m++)
                        for (int64_t k = 0; k < K; k++) {
                            double s = 0;
                            for (int64_t n = 0; n < N; n++) s += (double)ref[m * N + n] * w[n * K + k];
                            ok &= close_to(gx[m * K + k], s, TOL * (2 + N));
                        }
                    for (int64_t n = 0; n < N; n++) {
                        double s = 0;
                        for (int64_t m = 0; m < M; m++) s += ref[m * N + n];
                        ok &= close_to(gb[n], s, TOL * (2 + M));
                    }
                }
                CHECK(ok, DT " linear bwd M=%lld K=%lld N=%lld act %d bias %d", (long long)M,
                      (long long)K, (long long)N, act, hasb);
                free(x); free(w); free(b); free(y); free(gy); free(gpre);
                free(gx); free(gw); free(gb); free(ref);
            }
        }
    }
}

/* ------------------------------------------------------- softmax and CE */
static void FN(test_softmax)(void)
{
    uint64_t seed = 23;
    /* row lengths around the 16-lane row sums (15, 16, 17, 31, 32, 33) and long rows */
    const int64_t dims[][2] = {{1, 1}, {3, 7}, {13, 127}, {5, 1000}, {0, 5}, {2, 15}, {2, 16},
                               {2, 17}, {3, 31}, {3, 32}, {3, 33}};
    for (int di = 0; di < (int)(sizeof dims / sizeof *dims); di++) {
        const int64_t R = dims[di][0], Cn = dims[di][1], n = R * Cn;
        T *x = FN(rand_buf)(n, &seed), *y = FN(rand_buf)(n, &seed);
        T *gy = FN(rand_buf)(n, &seed), *gx = FN(rand_buf)(n, &seed);
        T *loss = FN(rand_buf)(R, &seed), *gl = FN(rand_buf)(R, &seed);
        int64_t *tg = malloc((size_t)(R + 1) * sizeof(int64_t));
        for (int64_t i = 0; i < n; i++) x[i] *= 30;      /* large logits: needs max-subtraction */
        if (n > 0) x[0] = 500;
        for (int64_t r = 0; r < R; r++) tg[r] = (r * 7) % Cn;
        for (int lg = 0; lg <= 1; lg++) {
            FN(eng_softmax)(R, Cn, x, y, lg);
            int ok = 1;
            for (int64_t r = 0; r < R; r++) {
                double mx = -INFINITY, s = 0;
                for (int64_t j = 0; j < Cn; j++) mx = fmax(mx, x[r * Cn + j]);
                for (int64_t j = 0; j < Cn; j++) s += exp(x[r * Cn + j] - mx);
                for (int64_t j = 0; j < Cn; j++) {
                    double e = x[r * Cn + j] - mx;
                    ok &= close_to(y[r * Cn + j], lg ? e - log(s) : exp(e) / s, 10 * TOL);
                }
            }
            CHECK(ok, DT " softmax log=%d %lldx%lld", lg, (long long)R, (long long)Cn);
            FN(eng_softmax_backward)(R, Cn, y, gy, gx, lg);
            ok = 1;
            for (int64_t r = 0; r < R; r++) {
                double s = 0;
                for (int64_t j = 0; j < Cn; j++) s += lg ? gy[r * Cn + j] : gy[r * Cn + j] * y[r * Cn + j];
                for (int64_t j = 0; j < Cn; j++) {
                    double yy = y[r * Cn + j], g = gy[r * Cn + j];
                    ok &= close_to(gx[r * Cn + j], lg ? g - exp(yy) * s : yy * (g - s), 10 * TOL);
                }
            }
            CHECK(ok, DT " softmax backward log=%d %lldx%lld", lg, (long long)R, (long long)Cn);
        }
        FN(eng_cross_entropy)(R, Cn, x, tg, loss);
        FN(eng_cross_entropy_backward)(R, Cn, x, tg, gl, gx);
        int ok = 1, okb = 1;
        for (int64_t r = 0; r < R; r++) {
            double mx = -INFINITY, s = 0;
            for (int64_t j = 0; j < Cn; j++) mx = fmax(mx, x[r * Cn + j]);
            for (int64_t j = 0; j < Cn; j++) s += exp(x[r * Cn + j] - mx);
            ok &= close_to(loss[r], mx + log(s) - x[r * Cn + tg[r]], 10 * TOL * (1 + fabs(mx)));
            for (int64_t j = 0; j < Cn; j++) {
                double p = exp(x[r * Cn + j] - mx) / s;
                okb &= close_to(gx[r * Cn + j], gl[r] * (p - (j == tg[r])), 10 * TOL);
            }
        }
        CHECK(ok, DT " cross entropy %lldx%lld", (long long)R, (long long)Cn);
        CHECK(okb, DT " cross entropy backward %lldx%lld", (long long)R, (long long)Cn);
        free(x); free(y); free(gy); free(gx); free(loss); free(gl); free(tg);
    }
    T ninf[3] = {-INFINITY, -INFINITY, -INFINITY}, out[3];
    FN(eng_softmax)(1, 3, ninf, out, 0);
    CHECK(isnan(out[0]) && isnan(out[2]), DT " softmax all -inf -> NaN");
    FN(eng_softmax)(1, 3, ninf, out, 1);
    CHECK(isnan(out[1]), DT " log_softmax all -inf -> NaN");
}

/* ------------------------------------------------------------- optimizers */
static void FN(test_optim)(void)
{
    uint64_t seed = 29;
    const int64_t n = 1001;
    for (int cfg = 0; cfg < 6; cfg++) {
        /* cfg: 0 plain, 1 momentum, 2 momentum+dampening+wd, 3 nesterov, 4 first, 5 wd only */
        T lr = (T)0.1, mom = cfg >= 1 && cfg <= 4 ? (T)0.9 : 0, damp = cfg == 2 ? (T)0.25 : 0;
        T wd = cfg == 2 || cfg == 5 ? (T)0.01 : 0;
        int nest = cfg == 3, first = cfg == 4;
        T *p = FN(rand_buf)(n, &seed), *g = FN(rand_buf)(n, &seed), *buf = FN(rand_buf)(n, &seed);
        T *p0 = malloc(n * sizeof(T)), *b0 = malloc(n * sizeof(T));
        memcpy(p0, p, n * sizeof(T));
        memcpy(b0, buf, n * sizeof(T));
        FN(eng_sgd)(n, p, g, mom != 0 ? buf : NULL, lr, mom, damp, wd, nest, first);
        int ok = 1;
        for (int64_t i = 0; i < n; i++) {
            T d = g[i];
            if (wd != 0) d = d + wd * p0[i];
            T bi = b0[i];
            if (mom != 0) {
                bi = first ? d : mom * b0[i] + (1 - damp) * d;
                d = nest ? d + mom * bi : bi;
                ok &= close_to(buf[i], bi, TOL);
            }
            ok &= close_to(p[i], p0[i] - lr * d, TOL);
        }
        CHECK(ok, DT " sgd cfg %d", cfg);
        free(p); free(g); free(buf); free(p0); free(b0);
    }
    for (int wdc = 0; wdc <= 1; wdc++) {
        T *p = FN(rand_buf)(n, &seed), *g = FN(rand_buf)(n, &seed);
        T *m = calloc(n, sizeof(T)), *v = calloc(n, sizeof(T));
        double *pr = malloc(n * sizeof(double)), *mr = calloc(n, sizeof(double)), *vr = calloc(n, sizeof(double));
        for (int64_t i = 0; i < n; i++) pr[i] = p[i];
        const double lr = 1e-2, b1 = 0.9, b2 = 0.999, eps = 1e-8, wd = wdc ? 0.1 : 0;
        int ok = 1;
        for (int64_t step = 1; step <= 3; step++) {
            FN(eng_adam)(n, p, g, m, v, (T)lr, (T)b1, (T)b2, (T)eps, (T)wd, step);
            for (int64_t i = 0; i < n; i++) {
                double d = g[i] + wd * pr[i];
                mr[i] = b1 * mr[i] + (1 - b1) * d;
                vr[i] = b2 * vr[i] + (1 - b2) * d * d;
                double mh = mr[i] / (1 - pow(b1, step)), vh = vr[i] / (1 - pow(b2, step));
                pr[i] -= lr * mh / (sqrt(vh) + eps);
                ok &= close_to(p[i], pr[i], 100 * TOL) && close_to(m[i], mr[i], 10 * TOL);
            }
        }
        CHECK(ok, DT " adam wd=%d", wdc);
        free(p); free(g); free(m); free(v); free(pr); free(mr); free(vr);
    }
}

/* --------------------------------------------------------- gather/scatter
 * Against the plain loops over a (5, 7) array, along either axis, with the source
 * transposed and reversed, a broadcast index (whole rows) and repeated indices. */
static void FN(test_index)(void)
{
    uint64_t seed = 31;
    enum { R = 5, C = 7 };
    T *base = FN(rand_buf)(R * C, &seed);
    for (int axis = 0; axis <= 1; axis++) {
        for (int layout = 0; layout < 3; layout++) {
            /* x viewed as (R, C): 0 compact, 1 transposed storage, 2 rows reversed */
            const int64_t sx_full[3][2] = {{C, 1}, {1, R}, {-C, 1}};
            const int64_t x0[3] = {0, 0, (R - 1) * C};
            const T *x = base + x0[layout];
            const int64_t *sxf = sx_full[layout];
            /* index of shape (4, 3) for axis 0 (values < R), (3, 6) for axis 1 (values < C) */
            const int64_t ishape[2] = {axis == 0 ? 4 : 3, axis == 0 ? 3 : 6};
            const int64_t limit = axis == 0 ? R : C;
            int64_t idx[24];
            for (int i = 0; i < 24; i++) idx[i] = (i * 3 + layout) % limit;
            idx[1] = idx[0];                                         /* a repeated index */
            const int64_t si[2] = {ishape[1], 1};
            int64_t sx[2] = {sxf[0], sxf[1]};
            sx[axis] = 0;
            T out[24];
            FN(eng_gather)(2, ishape, x, sx, sxf[axis], idx, si, out);
            int ok = 1;
            for (int64_t i = 0; i < ishape[0]; i++)
                for (int64_t j = 0; j < ishape[1]; j++) {
                    int64_t r = axis == 0 ? idx[i * ishape[1] + j] : i;
                    int64_t c = axis == 1 ? idx[i * ishape[1] + j] : j;
                    ok &= out[i * ishape[1] + j] == x[r * sxf[0] + c * sxf[1]];
                }
            CHECK(ok, DT " gather axis %d layout %d", axis, layout);
            /* scatter the gathered values back into zeros of (R, C): a serial reference */
            T acc[R * C], ref[R * C];
            for (int i = 0; i < R * C; i++) acc[i] = ref[i] = 0;
            const int64_t so_full[2] = {C, 1};
            int64_t so[2] = {C, 1};
            so[axis] = 0;
            FN(eng_scatter_add)(2, ishape, idx, si, out, si, acc, so, so_full[axis]);
            for (int64_t i = 0; i < ishape[0]; i++)
                for (int64_t j = 0; j < ishape[1]; j++) {
                    int64_t r = axis == 0 ? idx[i * ishape[1] + j] : i;
                    int64_t c = axis == 1 ? idx[i * ishape[1] + j] : j;
                    ref[r * C + c] += out[i * ishape[1] + j];
                }
            ok = 1;
            for (int i = 0; i < R * C; i++) ok &= acc[i] == ref[i];
            CHECK(ok, DT " scatter_add axis %d layout %d (repeated indices)", axis, layout);
        }
    }
    /* whole rows (the index broadcast along the row: stride 0), as index_add of x[rows] */
    int64_t rows[4] = {3, 0, 3, 4};
    const int64_t gshape[2] = {4, C}, gsi[2] = {1, 0}, gsx[2] = {0, 1}, gss[2] = {C, 1};
    T picked[4 * C], acc[R * C], ref[R * C];
    FN(eng_gather)(2, gshape, base, gsx, C, rows, gsi, picked);
    for (int i = 0; i < R * C; i++) acc[i] = ref[i] = 0;
    FN(eng_scatter_add)(2, gshape, rows, gsi, picked, gss, acc, gsx, C);
    int ok = 1;
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < C; j++) {
            ok &= picked[i * C + j] == base[rows[i] * C + j];
            ref[rows[i] * C + j] += base[rows[i] * C + j];
        }
    for (int i = 0; i < R * C; i++) ok &= acc[i] == ref[i];
    CHECK(ok, DT " gather / scatter_add of whole rows");
    /* nothing to do: no reads, no writes */
    const int64_t empty[2] = {0, C};
    FN(eng_gather)(2, empty, NULL, gsx, C, NULL, gsi, NULL);
    FN(eng_scatter_add)(2, empty, NULL, gsi, NULL, gss, NULL, gsx, C);
    free(base);
}

/* The fused difference losses against the plain formulas, sizes around the 8-block. */
static void FN(test_diff_loss)(void)
{
    uint64_t seed = 7;
    const int64_t sizes[] = {0, 1, 7, 8, 9, 31, 1000};
    for (int si = 0; si < 7; si++) {
        int64_t n = sizes[si];
        T *a = malloc((n + 1) * sizeof(T)), *b = malloc((n + 1) * sizeof(T));
        T *d = malloc((n + 1) * sizeof(T)), *g = malloc((n + 1) * sizeof(T));
        for (int64_t i = 0; i < n; i++) { a[i] = (T)rnd(&seed); b[i] = (T)rnd(&seed); }
        if (n > 2) b[1] = a[1];  /* a zero difference: L1's slope is 0 there */
        for (int kind = 0; kind <= 1; kind++) {
            T total = -1, upstream = (T)1.5;
            FN(eng_diff_loss)(kind, n, a, b, (T)2, d, &total);  /* divisor 2: half the sum */
            FN(eng_diff_loss_backward)(kind, n, d, &upstream, (T)3, g);  /* scale 1.5 / 3 = 0.5 */
            double ref = 0;
            int ok = 1;
            for (int64_t i = 0; i < n; i++) {
                double di = (double)a[i] - (double)b[i];
                ref += kind == 0 ? di * di : fabs(di);
                double slope = kind == 0 ? 2 * (double)d[i] : (double)((d[i] > 0) - (d[i] < 0));
                ok &= d[i] == (T)(a[i] - b[i]) && close_to(g[i], 0.5 * slope, 1e-6);
            }
            CHECK(ok && close_to(total, ref / 2, TOL * 10), "diff_loss kind %d n %lld", kind, (long long)n);
        }
        free(a); free(b); free(d); free(g);
    }
}

/* --------------------------------------------------------- special values
 * Where C's libm and PyTorch differ, the kernels follow PyTorch (issue 8). */
static void FN(test_special)(void)
{
    const T inf = (T)INFINITY, nan = (T)NAN;
    /* pow by a scalar: 0.5 is sqrt, -0.5 is 1/sqrt (C's pow(-inf, 0.5) is +inf) */
    T x[6] = {-inf, (T)-0.0, (T)0.0, inf, (T)4, nan}, y[6], one[6] = {1, 1, 1, 1, 1, 1};
    FN(eng_unary)(ENG_POW, 6, x, y, (T)0.5);
    CHECK(isnan(y[0]) && y[1] == 0 && signbit(y[1]) && y[2] == 0 && !signbit(y[2]) && isinf(y[3])
          && y[4] == 2 && isnan(y[5]), DT " pow 0.5 is sqrt: (-inf)**0.5 = NaN, (-0)**0.5 = -0");
    FN(eng_unary)(ENG_POW, 6, x, y, (T)-0.5);
    CHECK(isnan(y[0]) && isinf(y[1]) && y[1] < 0 && isinf(y[2]) && y[2] > 0 && y[3] == 0 && y[4] == (T)0.5
          && isnan(y[5]), DT " pow -0.5 is 1/sqrt: (-inf)**-0.5 = NaN, (-0)**-0.5 = -inf");
    FN(eng_unary)(ENG_POW, 6, x, y, (T)3);
    CHECK(isinf(y[0]) && y[0] < 0 && y[1] == 0 && signbit(y[1]) && y[4] == 64, DT " pow 3");
    FN(eng_unary)(ENG_POW, 6, x, y, (T)1.5);
    CHECK(isinf(y[0]) && y[0] > 0 && y[4] == 8, DT " pow 1.5 is C's pow");
    /* relu keeps -0 and NaN (PyTorch's x < 0 ? 0 : x); the fused layer's NaN too (its
     * GEMM sums from +0, so -0 does not arise there) */
    T xz[3] = {(T)-0.0, nan, (T)-1}, yz[3], wz[1] = {1};
    FN(eng_unary)(ENG_RELU, 3, xz, yz, 0);
    CHECK(yz[0] == 0 && signbit(yz[0]) && isnan(yz[1]) && yz[2] == 0 && !signbit(yz[2]), DT " relu(-0) = -0");
    FN(eng_linear_forward)(3, 1, 1, xz, wz, NULL, ENG_ACT_RELU, yz);
    CHECK(yz[0] == 0 && isnan(yz[1]) && yz[2] == 0, DT " linear relu keeps NaN");
    /* fused linear relu backward: NaN pre-activation passes g */
    T lx[1] = {1}, lw[1] = {nan}, ly[1], lgy[1] = {(T)0.5}, lgpre[1], lgw[1];
    FN(eng_linear_forward)(1, 1, 1, lx, lw, NULL, ENG_ACT_RELU, ly);
    FN(eng_linear_backward)(1, 1, 1, lx, lw, ly, lgy, ENG_ACT_RELU, lgpre, NULL, lgw, NULL);
    CHECK(isnan(ly[0]) && lgpre[0] == (T)0.5, DT " linear relu backward at NaN passes g");
    /* log_softmax and cross entropy at huge logits: (x - max) - log sum, exactly */
    const T bigs[3] = {(T)1e6, (T)1e7, T_IS_F32 ? (T)1e30 : (T)1e16};
    for (int b = 0; b < 3; b++) {
        T z[2] = {bigs[b], bigs[b]}, lz[3], loss[1];
        int64_t t[1] = {1};
        FN(eng_softmax)(1, 2, z, lz, 1);
        FN(eng_cross_entropy)(1, 2, z, t, loss);
        CHECK(close_to(lz[0], -log(2.0), TOL) && close_to(lz[1], -log(2.0), TOL) && close_to(loss[0], log(2.0), TOL),
              DT " log_softmax / cross entropy of [%g, %g] = -log 2", (double)z[0], (double)z[1]);
        T z2[3] = {bigs[b], bigs[b] - 1, -inf};
        FN(eng_softmax)(1, 3, z2, lz, 1);
        const double d = (double)z2[1] - (double)z2[0];   /* -1, or 0 where big - 1 rounds to big */
        CHECK(close_to(lz[0], -log1p(exp(d)), TOL) && close_to(lz[1], d - log1p(exp(d)), TOL)
              && isinf(lz[2]) && lz[2] < 0,
              DT " log_softmax of [%g, %g - 1, -inf]", (double)z2[0], (double)z2[0]);
    }
    /* a sum starts from +0: the sum of -0s is +0 (numpy, PyTorch), however it is blocked */
    T negz[300];
    for (int i = 0; i < 300; i++) negz[i] = (T)-0.0;
    const int64_t zs[2] = {3, 100}, zst[2] = {100, 1}, zst_t[2] = {1, 3};
    T zsum[3];
    int zok = 1;
    for (int64_t len = 1; len <= 300; len = len * 3 + 1) {
        const int64_t sh[1] = {len}, st1[1] = {1};
        FN(eng_sum)(1, sh, negz, st1, 1, zsum);
        zok &= zsum[0] == 0 && !signbit(zsum[0]);
    }
    FN(eng_sum)(2, zs, negz, zst, 1, zsum);     /* rows */
    zok &= !signbit(zsum[0]) && !signbit(zsum[2]);
    FN(eng_sum)(2, zs, negz, zst_t, 1, zsum);   /* columns of a transposed block */
    zok &= !signbit(zsum[0]) && !signbit(zsum[2]);
    const int64_t one_sh[2] = {3, 1};
    FN(eng_sum)(2, one_sh, negz, zst, 1, zsum); /* blocks of one element */
    zok &= !signbit(zsum[0]) && !signbit(zsum[2]);
    CHECK(zok, DT " sum of -0 is +0");
    /* +inf or NaN in a row: the whole row is NaN (inf - inf), as PyTorch */
    T zi[3] = {inf, 1, 2}, out[3], loss[1];
    int64_t t0[1] = {1};
    for (int lg = 0; lg <= 1; lg++) {
        FN(eng_softmax)(1, 3, zi, out, lg);
        CHECK(isnan(out[0]) && isnan(out[1]) && isnan(out[2]), DT " softmax log=%d with +inf is NaN", lg);
    }
    FN(eng_cross_entropy)(1, 3, zi, t0, loss);
    CHECK(isnan(loss[0]), DT " cross entropy with +inf logit is NaN");
    T zn[3] = {-inf, -inf, -inf};
    FN(eng_cross_entropy)(1, 3, zn, t0, loss);
    FN(eng_cross_entropy_backward)(1, 3, zn, t0, one, out);
    CHECK(isnan(loss[0]) && isnan(out[0]) && isnan(out[1]), DT " cross entropy of all -inf is NaN");
}

static void FN(test_all)(void)
{
    FN(test_diff_loss)();
    FN(test_unary)();
    FN(test_vmath)();
    FN(test_binary)();
    FN(test_reduce)();
    FN(test_softmax)();
    FN(test_optim)();
    FN(test_index)();
    FN(test_special)();
}

#undef TOL
#undef DT
#include "tmpl_end.h"
