/*
 * test_kernels.c -- unit tests for every kernel in engine.h, float32 and
 * float64, on edge shapes.  Build and run with `make -C csrc test`.
 * Prints "N passed, M failed" last and exits non-zero on any failure.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "test_common.h"
#include "vmath.h"

int g_pass, g_fail;

#define ENG_DTYPE 32
#include "test_impl.h"
#define ENG_DTYPE 64
#include "test_impl.h"
#define ENG_DTYPE 32
#include "test_gemm_impl.h"
#define ENG_DTYPE 64
#include "test_gemm_impl.h"

static void test_runtime(void)
{
    CHECK(eng_num_threads() >= 1, "eng_num_threads");
    CHECK(eng_build_info() != NULL && strstr(eng_build_info(), eng_isa_name(eng_isa())) != NULL, "build info");
    CHECK(eng_isa_supported(ENG_ISA_GENERIC) && eng_isa_supported(eng_isa_best()), "the best set is supported");
    CHECK(eng_set_isa(7) == -1 && eng_set_isa(-1) == -1 && eng_isa_name(3) == NULL, "unknown sets refused");
    printf("build: %s\n", eng_build_info());
}

static void test_cast(void)
{
    uint64_t seed = 99;
    const int64_t shape[3] = {3, 5, 7};
    for (int mode = 0; mode < 5; mode++) {
        int64_t st[3], base;
        int64_t len = make_layout(3, shape, mode, &seed, st, &base);
        double *xd = malloc(len * sizeof(double));
        float *xf = malloc(len * sizeof(float));
        for (int64_t i = 0; i < len; i++) { xd[i] = rnd(&seed) * 1e3; xf[i] = (float)xd[i]; }
        float of[105];
        double od[105];
        eng_cast_f64_f32(3, shape, xd + base, st, of);
        eng_cast_f32_f64(3, shape, xf + base, st, od);
        int ok1 = 1, ok2 = 1;
        for (int64_t f = 0; f < 105; f++) {
            int64_t o = base + off_of(f, 3, shape, st);
            ok1 &= of[f] == (float)xd[o];
            ok2 &= od[f] == (double)xf[o];
        }
        CHECK(ok1, "cast f64->f32 mode %d", mode);
        CHECK(ok2, "cast f32->f64 mode %d", mode);
        free(xd);
        free(xf);
    }
    double big = 1e300;
    float r;
    eng_cast_f64_f32(0, NULL, &big, NULL, &r);
    CHECK(isinf(r) && r > 0, "cast overflow to inf");
}

/* eng_vexpf (vmath.h) against libm's double exp: within 2 ulp of float32 over the
 * whole range, inf above 88.73, 0 far below, NaN through; and the float32 exp op
 * that uses it. */
static void test_vexpf(void)
{
    double worst = 0;
    for (int64_t i = 0; i <= 2000000; i++) {
        float x = (float)(-103.0 + 191.7 * (double)i / 2000000.0);
        double ref = exp((double)x);
        if (ref > 3.4e38 || ref < 1.18e-38)
            continue;  /* overflow and subnormal results are checked below */
        double ulp = nextafterf((float)ref, INFINITY) - (float)ref;
        double err = fabs((double)eng_vexpf(x) - ref) / ulp;
        if (err > worst)
            worst = err;
    }
    CHECK(worst <= 2.0, "vexpf within 2 ulp (worst %.3f)", worst);
    CHECK(isinf(eng_vexpf(89.0f)) && isinf(eng_vexpf(INFINITY)), "vexpf overflow to inf");
    CHECK(eng_vexpf(-200.0f) == 0.0f && eng_vexpf(-INFINITY) == 0.0f, "vexpf underflow to 0");
    CHECK(isnan(eng_vexpf(NAN)), "vexpf NaN");
    CHECK(eng_vexpf(0.0f) == 1.0f, "vexpf(0) = 1");
    float x[4] = {-1.0f, 0.0f, 88.0f, NAN}, y[4];
    eng_unary_f32(ENG_EXP, 4, x, y, 0);
    CHECK(fabs(y[0] - 0.36787944) < 1e-7 && y[1] == 1.0f && fabs(y[2] / 1.6516363e38 - 1) < 3e-7 && isnan(y[3]),
          "exp op uses vexpf");
    eng_unary_f32(ENG_SIGMOID, 4, x, y, 0);
    CHECK(fabs(y[0] - 0.26894142) < 1e-7 && y[1] == 0.5f && y[2] == 1.0f && isnan(y[3]), "sigmoid op");
}

/* Big enough for every kernel below to go multi-threaded under OpenMP. */
static int run_parallel_ops(void)
{
    const int64_t n = 1 << 20, m = 256;
    float *x = malloc((size_t)n * sizeof(float)), *c = malloc((size_t)(m * m) * sizeof(float));
    float s = 0;
    eng_fill_f32(n, x, 1.0f);
    const int64_t shape[1] = {n}, st[1] = {1};
    eng_sum_f32(1, shape, x, st, 1, &s);
    eng_unary_f32(ENG_NEG, n, x, x, 0);
    eng_matmul_f32(1, m, m, m, x, m, 0, 0, x, m, 0, 0, c, m, 0, 0.0f);
    int ok = s == (float)n && x[0] == -1.0f && c[0] == (float)m;
    free(x);
    free(c);
    return ok;
}

/* After the kernels ran multi-threaded, a fork()ed child must still run them (GNU
 * OpenMP's pool does not survive fork; runtime.c puts the child on one thread).  The
 * parent waits at most 30 s, then kills the child and fails. */
static void test_fork(void)
{
    CHECK(run_parallel_ops(), "parallel ops before fork");
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
        int ok = run_parallel_ops() && eng_num_threads() == 1;
#ifdef _OPENMP
        ok = ok && eng_in_forked_child();
#endif
        _exit(ok ? 0 : 3);
    }
    CHECK(pid > 0, "fork");
    if (pid <= 0)
        return;
    int status = 0, done = 0;
    for (int i = 0; i < 3000 && !done; i++) {
        done = waitpid(pid, &status, WNOHANG) == pid;
        if (!done)
            nanosleep(&(struct timespec){0, 10000000}, NULL);
    }
    if (!done) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    CHECK(done && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "forked child runs the kernels (%s)", done ? "exited" : "hung, killed");
    CHECK(!eng_in_forked_child(), "the parent is not a forked child");
}

int main(void)
{
    test_runtime();
    test_fork();
    test_cast();
    test_vexpf();
    /* Every kernel set this CPU runs, or the one ENGINE_ISA names. */
    const char *only = getenv("ENGINE_ISA");
    for (int isa = ENG_ISA_GENERIC; isa <= ENG_ISA_AVX512; isa++) {
        if (only && *only && strcmp(only, eng_isa_name(isa)) != 0)
            continue;
        if (eng_set_isa(isa) != 0) {
            printf("kernel set %s: not supported here, skipped\n", eng_isa_name(isa));
            continue;
        }
        printf("kernel set %s\n", eng_isa_name(isa));
        test_gemm_f32();
        test_gemm_f64();
        test_gemm_edges_f32();
        test_gemm_edges_f64();
        test_linear_f32();
        test_linear_f64();
        test_all_f32();
        test_all_f64();
    }
    printf("%d passed, %d failed\n", g_pass, g_fail);
    return g_fail != 0;
}
